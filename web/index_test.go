package web

import (
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func mustPut(t *testing.T, h *JobHistory, j Job) {
	t.Helper()
	if err := h.Put(j); err != nil {
		t.Fatal(err)
	}
}

// TestJobsWindowMatchesScan checks the indexed window query against a plain scan of every job, over random
// jobs that are waiting, running, finished, and moved between workers.
func TestJobsWindowMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	h := NewJobHistory()
	all := map[string]Job{}
	for i := range 2000 {
		q := t0.Add(time.Duration(rng.IntN(48*60)) * time.Minute)
		j := Job{ID: fmt.Sprint("j", i), Task: "PC1", Worker: fmt.Sprint("w", rng.IntN(5)), Queued: q}
		switch rng.IntN(4) {
		case 0: // waiting
		case 1: // running
			j.Start = q.Add(time.Minute)
		default:
			j.Start = q.Add(time.Minute)
			j.End = j.Start.Add(time.Duration(1+rng.IntN(600)) * time.Minute)
		}
		mustPut(t, h, j)
		all[j.ID] = j
		if i%7 == 0 { // move an earlier job to another worker
			old := all[fmt.Sprint("j", i/2)]
			old.Worker = fmt.Sprint("w", rng.IntN(5))
			mustPut(t, h, old)
			all[old.ID] = old
		}
	}
	for _, tc := range []struct {
		name     string
		from, to time.Duration
		workers  []string
		minSpan  time.Duration
	}{
		{"first hour", 0, time.Hour, nil, 0},
		{"middle, two workers", 20 * time.Hour, 26 * time.Hour, []string{"w1", "w3"}, 0},
		{"after everything", 60 * time.Hour, 61 * time.Hour, nil, 0},
		{"before everything", -5 * time.Hour, -time.Hour, nil, 0},
		{"whole range, min span", -time.Hour, 70 * time.Hour, []string{"w0"}, 3 * time.Hour},
	} {
		t.Run(tc.name, func(t *testing.T) {
			q := JobQuery{From: t0.Add(tc.from), To: t0.Add(tc.to), Workers: tc.workers, MinSpan: tc.minSpan}
			got, err := h.Jobs(q)
			if err != nil {
				t.Fatal(err)
			}
			var want []string
			for _, j := range all {
				if tc.workers != nil && !slices.Contains(tc.workers, j.Worker) {
					continue
				}
				overlaps := j.Queued.Before(q.To) && (j.End.IsZero() || j.End.After(q.From))
				if overlaps && (j.End.IsZero() || j.End.Sub(j.Queued) >= q.MinSpan) {
					want = append(want, j.ID)
				}
			}
			ids := make([]string, len(got))
			for i, j := range got {
				ids[i] = j.ID
				if all[j.ID] != j {
					t.Fatalf("job %s: got %+v, want %+v", j.ID, j, all[j.ID])
				}
			}
			slices.Sort(ids)
			slices.Sort(want)
			if !slices.Equal(ids, want) {
				t.Fatalf("got %d jobs, want %d", len(ids), len(want))
			}
		})
	}
	if _, err := h.Jobs(JobQuery{From: t0, To: t0}); err == nil {
		t.Fatal("empty window accepted")
	}
}

func TestJobHistory_PruneAndLimit(t *testing.T) {
	h := NewJobHistory()
	if err := h.Put(Job{Task: "PC1"}); err == nil {
		t.Fatal("job without ID accepted")
	}
	for i := range 10 {
		q := t0.Add(time.Duration(i) * time.Hour)
		mustPut(t, h, Job{ID: fmt.Sprint("done", i), Worker: "w", Queued: q, Start: q, End: q.Add(30 * time.Minute)})
	}
	mustPut(t, h, Job{ID: "running", Worker: "w", Queued: t0, Start: t0})
	if n := h.Prune(t0.Add(5 * time.Hour)); n != 5 {
		t.Fatalf("pruned %d, want 5 (done0..done4)", n)
	}
	if h.Len() != 6 {
		t.Fatalf("%d jobs left, want 6", h.Len())
	}
	if _, ok := h.Get("running"); !ok {
		t.Fatal("prune dropped an unfinished job")
	}
	got, err := h.Jobs(JobQuery{From: t0, To: t0.Add(24 * time.Hour), Limit: 3})
	if err != nil || len(got) != 3 {
		t.Fatalf("limit 3: %d jobs, %v", len(got), err)
	}
	got, _ = h.Jobs(JobQuery{From: t0, To: t0.Add(24 * time.Hour), Workers: []string{""}})
	if len(got) != 0 {
		t.Fatalf("unassigned lane: %d jobs, want 0", len(got))
	}
}

func TestSectorIndex(t *testing.T) {
	x := NewSectorIndex("A", "B")
	for _, bad := range []Sector{{State: "A"}, {ID: "s"}} {
		if _, err := x.Set(bad); err == nil {
			t.Fatalf("accepted %+v", bad)
		}
	}
	for n := range uint64(6) {
		if from, err := x.Set(Sector{ID: fmt.Sprint("s", n), Number: n, State: "A"}); err != nil || from != "" {
			t.Fatalf("new sector: from %q, %v", from, err)
		}
	}
	if from, _ := x.Set(Sector{ID: "s2", Number: 2, State: "B"}); from != "A" {
		t.Fatalf("move: from %q, want A", from)
	}
	x.Set(Sector{ID: "s4", Number: 40, State: "C"}) // renumbered and a new state
	if !x.Remove("s0") || x.Remove("s0") {
		t.Fatal("Remove should report true once")
	}
	want := []StateCount{{State: "A", Count: 3}, {State: "B", Count: 1}, {State: "C", Count: 1}}
	if got := x.Counts(); !slices.Equal(got, want) {
		t.Fatalf("counts %v, want %v", got, want)
	}
	for _, tc := range []struct {
		q    SectorQuery
		want []string
		tot  int
	}{
		{SectorQuery{}, []string{"s4", "s5", "s3", "s2", "s1"}, 5},
		{SectorQuery{State: "A", Offset: 1, Limit: 1}, []string{"s3"}, 3},
		{SectorQuery{State: "A", Offset: 7}, nil, 3},
		{SectorQuery{State: "Z"}, nil, 0},
	} {
		p := x.Page(tc.q)
		var ids []string
		for _, s := range p.Sectors {
			ids = append(ids, s.ID)
		}
		if p.Total != tc.tot || !slices.Equal(ids, tc.want) {
			t.Errorf("%+v: total %d %v, want %d %v", tc.q, p.Total, ids, tc.tot, tc.want)
		}
	}
	if s, ok := x.Get("s4"); !ok || s.Number != 40 || x.Len() != 5 {
		t.Fatalf("Get s4: %+v %v, len %d", s, ok, x.Len())
	}
}

// BenchmarkJobHistoryPut measures recording job updates (queued, then finished) in a history of 1,000 workers.
func BenchmarkJobHistoryPut(b *testing.B) {
	h := NewJobHistory()
	i := 0
	for b.Loop() {
		q := t0.Add(time.Duration(i) * time.Second)
		j := Job{ID: fmt.Sprint("j", i/2), Task: "PC1", Worker: fmt.Sprint("w", (i/2)%1000), Queued: q, Start: q}
		if i%2 == 1 {
			j.End = q.Add(time.Hour)
		}
		if err := h.Put(j); err != nil {
			b.Fatal(err)
		}
		i++
	}
}

// BenchmarkSectorIndexSet measures moving sectors between states in an index of 100,000 sectors.
func BenchmarkSectorIndexSet(b *testing.B) {
	x := NewSectorIndex()
	const n = 100_000
	for i := range n {
		if _, err := x.Set(Sector{ID: fmt.Sprint("s", i), Number: uint64(i), State: "Proving"}); err != nil {
			b.Fatal(err)
		}
	}
	states := []string{"PreCommit1", "PreCommit2", "WaitSeed", "Proving"}
	i := 0
	for b.Loop() {
		k := (i * 7919) % n
		if _, err := x.Set(Sector{ID: fmt.Sprint("s", k), Number: uint64(k), State: states[i%len(states)]}); err != nil {
			b.Fatal(err)
		}
		i++
	}
}
