package sched

import "testing"

func BenchmarkPass200x400(b *testing.B) {
	for i := 0; i < b.N; i++ {
		if _, err := BenchPass(200, 400); err != nil {
			b.Fatal(err)
		}
	}
}

func TestBenchPassSmall(t *testing.T) {
	res, err := BenchPass(30, 100)
	if err != nil {
		t.Fatal(err)
	}
	if res.Assigned == 0 {
		t.Fatalf("nothing assigned: %+v", res)
	}
}
