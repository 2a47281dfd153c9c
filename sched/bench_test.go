package sched

import "testing"

func benchStep(b *testing.B, workers, requests int) {
	for i := 0; i < b.N; i++ {
		b.StopTimer()
		c, at, err := benchCluster(workers, requests)
		if err != nil {
			b.Fatal(err)
		}
		c.Queued()
		b.StartTimer()
		c.Step(at)
	}
}

// BenchmarkPass200x400 times one full Step over 200 workers and 400 queued requests (setup excluded).
func BenchmarkPass200x400(b *testing.B) { benchStep(b, 200, 400) }

// BenchmarkPass5000x50000 is the large case of docs/bench/sched.md.
func BenchmarkPass5000x50000(b *testing.B) { benchStep(b, 5000, 50000) }

func TestBenchPassSmall(t *testing.T) {
	res, err := BenchPass(30, 100, true)
	if err != nil {
		t.Fatal(err)
	}
	if res.Assigned == 0 {
		t.Fatalf("nothing assigned: %+v", res)
	}
}
