package webtest

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"testing"
	"time"

	"sealfleet/web"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

// TestJobsWindowMatchesScan checks the indexed window query against a plain scan of every job, over random
// jobs that are waiting, running, finished, and moved between workers.
func TestJobsWindowMatchesScan(t *testing.T) {
	rng := rand.New(rand.NewPCG(1, 2))
	m := NewMemSource()
	all := map[string]web.Job{}
	for i := range 2000 {
		q := t0.Add(time.Duration(rng.IntN(48*60)) * time.Minute)
		j := web.Job{ID: fmt.Sprint("j", i), Task: "PC1", Worker: fmt.Sprint("w", rng.IntN(5)), Queued: q}
		switch rng.IntN(4) {
		case 0: // waiting
		case 1: // running
			j.Start = q.Add(time.Minute)
		default:
			j.Start = q.Add(time.Minute)
			j.End = j.Start.Add(time.Duration(1+rng.IntN(600)) * time.Minute)
		}
		m.PutJob(j)
		all[j.ID] = j
		if i%7 == 0 { // move an earlier job to another worker
			old := all[fmt.Sprint("j", i/2)]
			old.Worker = fmt.Sprint("w", rng.IntN(5))
			m.PutJob(old)
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
			q := web.JobQuery{From: t0.Add(tc.from), To: t0.Add(tc.to), Workers: tc.workers, MinSpan: tc.minSpan}
			got, err := m.Jobs(context.Background(), q)
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
	if _, err := m.Jobs(context.Background(), web.JobQuery{From: t0, To: t0}); err == nil {
		t.Fatal("empty window accepted")
	}
}

func TestSectorsPagesAndEvents(t *testing.T) {
	m := NewMemSource("A", "B")
	for n := range uint64(10) {
		m.SetSectorState(fmt.Sprint("s", n), n, "A", "", t0)
	}
	m.SetSectorState("s3", 3, "B", "", t0.Add(time.Minute))
	m.SetSectorState("s7", 7, "C", "boom", t0.Add(time.Minute))
	ctx := context.Background()
	counts, _ := m.SectorCounts(ctx)
	if want := []web.StateCount{{State: "A", Count: 8}, {State: "B", Count: 1}, {State: "C", Count: 1}}; !slices.Equal(counts, want) {
		t.Fatalf("counts %v, want %v", counts, want)
	}
	for _, tc := range []struct {
		q    web.SectorQuery
		want []uint64
		tot  int
	}{
		{web.SectorQuery{Limit: 3}, []uint64{9, 8, 7}, 10},
		{web.SectorQuery{Offset: 8, Limit: 5}, []uint64{1, 0}, 10},
		{web.SectorQuery{State: "A", Offset: 1, Limit: 3}, []uint64{8, 6, 5}, 8},
		{web.SectorQuery{State: "B"}, []uint64{3}, 1},
		{web.SectorQuery{State: "none"}, nil, 0},
		{web.SectorQuery{Offset: 50, Limit: 5}, nil, 10},
	} {
		t.Run(fmt.Sprintf("%+v", tc.q), func(t *testing.T) {
			p, err := m.Sectors(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, s := range p.Sectors {
				got = append(got, s.Number)
			}
			if p.Total != tc.tot || !slices.Equal(got, tc.want) {
				t.Fatalf("total %d, page %v; want %d, %v", p.Total, got, tc.tot, tc.want)
			}
		})
	}
	ev, err := m.SectorEvents(ctx, "s7")
	if err != nil || len(ev) != 2 || ev[1].From != "A" || ev[1].To != "C" || ev[1].Message != "boom" {
		t.Fatalf("events %+v, %v", ev, err)
	}
	if _, err := m.SectorEvents(ctx, "nope"); !errors.Is(err, web.ErrNotFound) {
		t.Fatalf("unknown sector: %v", err)
	}
}

func TestSubscribeClosesWithContext(t *testing.T) {
	m := NewMemSource()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m.SetQueue(nil, t0)
	if c := <-ch; c.Kind != web.ChangeQueue {
		t.Fatalf("got %+v", c)
	}
	cancel()
	for range ch { // drains, then ends when the channel is closed
	}
}
