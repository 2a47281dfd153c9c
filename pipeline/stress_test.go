package pipeline

import (
	"bytes"
	"context"
	"testing"
	"time"
)

// TestManySectorsWithFailures pledges and adds deal data for many sectors with MaxSealing 3 while every third
// PreCommit2, every fourth Commit1 and every fifth AddPiece fails once: every sector reaches Proving, no more
// than three are ever past Packing at once, and no sector runs a step twice in a row without a failure between.
func TestManySectorsWithFailures(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSealing = 3
	cfg.MaxRetries = 10
	ps := newMemPieceStore()
	h := newHarness(t, cfg, ps)
	h.sealer.failIf = func(c sealCall, nth int) bool {
		switch c.Method {
		case "PreCommit2":
			return nth%3 == 0
		case "Commit1":
			return nth%4 == 0
		case "AddPiece":
			return nth%5 == 0
		}
		return false
	}
	ctx := context.Background()
	const pledges, deals = 8, 6
	for range pledges {
		if _, err := h.p.Pledge(ctx); err != nil {
			t.Fatal(err)
		}
	}
	for i := range deals {
		if _, err := h.p.AddPiece(ctx, bytes.NewReader(payload(600, byte(i))), 600); err != nil {
			t.Fatal(err)
		}
	}
	list, err := h.p.List(ctx)
	if err != nil {
		t.Fatal(err)
	}
	// 8 pledges + at least 3 deal sectors (two 1016-byte pieces each; a deal sector whose AddPiece failed takes
	// no more pieces while it retries, so the next piece may open another sector).
	total := len(list)
	if total < pledges+deals/2 || total > pledges+deals {
		t.Fatalf("%d sectors, want %d to %d", total, pledges+deals/2, pledges+deals)
	}
	deadline := time.After(testTimeout)
	for {
		counts := h.p.Counts()
		busy := 0
		h.p.mu.Lock()
		for _, m := range h.p.mem {
			if states[m.state].sealing || m.planned {
				busy++
			}
		}
		h.p.mu.Unlock()
		if busy > cfg.MaxSealing {
			t.Fatalf("%d sectors sealing at once (%v), MaxSealing is %d", busy, counts, cfg.MaxSealing)
		}
		if counts[Proving] == total {
			break
		}
		h.clock.AdvanceToNext()
		select {
		case <-h.sub:
		case <-h.clock.added:
		case <-deadline:
			t.Fatalf("not all sectors proving: %v", counts)
		}
	}
	if left := ps.urls(); len(left) != 0 {
		t.Errorf("piece data left: %v", left)
	}
	for _, s := range list {
		evs, err := h.p.Events(ctx, s.Number)
		if err != nil {
			t.Fatal(err)
		}
		for i := 1; i < len(evs); i++ {
			if evs[i].From != evs[i-1].To && evs[i].From != "" {
				t.Errorf("sector %d: event %d goes from %s but the previous ended in %s", s.Number, i, evs[i].From, evs[i-1].To)
			}
		}
	}
}
