package webtest

import (
	"context"
	"testing"
	"time"

	"sealfleet/web"
)

// TestLiveMovesSectorsToProving steps the demo cluster for simulated hours and checks that new sectors arrive,
// run their tasks and reach Proving, with every job finished after it started.
func TestLiveMovesSectorsToProving(t *testing.T) {
	m := NewMemSource(DemoStates...)
	d := Demo{Workers: 8, Sectors: 0, Now: t0, Seed: 3}
	Populate(m, d)
	live := NewLive(m, d, 60)
	now := t0
	for range 3 * 3600 { // three simulated hours, one step a second
		now = now.Add(time.Second)
		live.Step(now)
	}
	ctx := context.Background()
	proving, err := m.Sectors(ctx, web.SectorQuery{State: "Proving"})
	if err != nil {
		t.Fatal(err)
	}
	if proving.Total == 0 {
		t.Fatal("no sector reached Proving in three simulated hours")
	}
	ev, err := m.SectorEvents(ctx, proving.Sectors[proving.Total-1].ID)
	if err != nil {
		t.Fatal(err)
	}
	var states []string
	for _, e := range ev {
		states = append(states, e.To)
	}
	if states[0] != "Packing" || states[len(states)-1] != "Proving" || len(states) < 5 {
		t.Fatalf("oldest proving sector went through %v", states)
	}
	jobs, err := m.Jobs(ctx, web.JobQuery{From: t0, To: now})
	if err != nil {
		t.Fatal(err)
	}
	for _, j := range jobs {
		if !j.End.IsZero() && j.End.Before(j.Start) {
			t.Fatalf("job %s ended before it started", j.ID)
		}
	}
}
