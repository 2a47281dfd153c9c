package pipeline

import (
	"bytes"
	"context"
	"slices"
	"testing"
)

// TestRestartResumesEveryState stops the pipeline while a sector is in each state, reopens it on the same
// SQLite file, and checks that the new pipeline re-issues the same call with the same parameters (the same
// ticket, seed and outputs) and takes the sector to Proving without repeating or skipping a state.
func TestRestartResumesEveryState(t *testing.T) {
	tests := []struct {
		state  SectorState
		method string // the sealer call running when the pipeline stops
	}{
		{Packing, "AddPiece"},
		{PreCommit1, "PreCommit1"},
		{PreCommit2, "PreCommit2"},
		{Commit1, "Commit1"},
		{Commit2, "Commit2"},
		{Finalize, "Finalize"},
		{MoveStorage, "MoveStorage"},
	}
	for _, tc := range tests {
		t.Run(string(tc.state), func(t *testing.T) {
			h := newHarness(t, testConfig(), nil)
			ctx := context.Background()
			h.sealer.gate(tc.method) // never released: the stop cancels the call
			n, err := h.p.Pledge(ctx)
			if err != nil {
				t.Fatal(err)
			}
			h.waitState(n, tc.state, true)
			blocked := h.sealer.waitCall(t, tc.method)
			before, _ := h.p.Status(ctx, n)

			s2 := newFakeSealer()
			h.restart(s2)
			info := h.waitState(n, Proving, true)
			first := s2.callsOf("")[0]
			if first.Method != blocked.Method || first.Args != blocked.Args {
				t.Errorf("after restart first call %s(%s), want %s(%s)", first.Method, first.Args, blocked.Method, blocked.Args)
			}
			if len(before.Ticket) > 0 && !bytes.Equal(before.Ticket, info.Ticket) {
				t.Errorf("ticket changed across restart: %x -> %x", before.Ticket, info.Ticket)
			}
			if got := h.states(n); !slices.Equal(got, happyStates) {
				t.Errorf("states = %v, want %v", got, happyStates)
			}
		})
	}
}

// TestRestartInWaitSeed checks that the seed delay is persisted: after a restart the seed is drawn at the
// original time, not a full delay later.
func TestRestartInWaitSeed(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	n, err := h.p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info := h.waitState(n, WaitSeed, false)
	h.clock.Advance(h.cfg.WaitSeedDelay / 3)
	h.restart(newFakeSealer())
	h.clock.waitPendingAt(t, info.SeedAt)
	if got, _ := h.p.Status(ctx, n); got.State != WaitSeed {
		t.Fatalf("state %s before the seed time, want WaitSeed", got.State)
	}
	h.clock.Advance(info.SeedAt.Sub(h.clock.Now()))
	h.waitState(n, Proving, false)
}

// TestRestartInWaitDeals checks that a deal piece whose AddPiece was running is added again from the same data
// after a restart.
func TestRestartInWaitDeals(t *testing.T) {
	ps := newMemPieceStore()
	h := newHarness(t, testConfig(), ps)
	ctx := context.Background()
	h.sealer.gate("AddPiece")
	loc, err := h.p.AddPiece(ctx, bytes.NewReader(payload(500, 7)), 500)
	if err != nil {
		t.Fatal(err)
	}
	blocked := h.sealer.waitCall(t, "AddPiece")
	s2 := newFakeSealer()
	h.restart(s2)
	h.waitState(loc.Sector, Proving, true)
	if first := s2.callsOf("AddPiece")[0]; first.Args != blocked.Args {
		t.Errorf("re-issued AddPiece(%s), want AddPiece(%s)", first.Args, blocked.Args)
	}
	if left := ps.urls(); len(left) != 0 {
		t.Errorf("piece data not released: %v", left)
	}
}

// TestRestartInFailureState checks that a pending retry survives a restart and fires at its persisted time.
func TestRestartInFailureState(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	h.sealer.fail("Commit1", 1, nil)
	n, err := h.p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	seeding := h.waitState(n, WaitSeed, false)
	h.clock.waitPendingAt(t, seeding.SeedAt)
	h.clock.Advance(h.cfg.WaitSeedDelay)
	failed := h.waitState(n, CommitFailed, false) // time stands still: the retry cannot run yet
	if failed.RetryState != Commit1 || failed.Retries != 1 || failed.NextRetry.IsZero() {
		t.Fatalf("failed sector %+v: want retry of Commit1 pending", failed)
	}
	h.restart(newFakeSealer())
	h.clock.waitPendingAt(t, failed.NextRetry)
	h.clock.Advance(failed.NextRetry.Sub(h.clock.Now()))
	h.waitState(n, Proving, false)
}

// TestRestartInRemoving checks that a removal interrupted by a stop is completed after a restart.
func TestRestartInRemoving(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	h.sealer.gate("PreCommit1")
	h.sealer.gate("Remove")
	n, err := h.p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.sealer.waitCall(t, "PreCommit1")
	if err := h.p.Remove(ctx, n); err != nil {
		t.Fatal(err)
	}
	h.sealer.waitCall(t, "Remove")
	s2 := newFakeSealer()
	h.restart(s2)
	h.waitState(n, Removed, false)
	if calls := s2.callsOf(""); len(calls) != 1 || calls[0].Method != "Remove" {
		t.Errorf("after restart calls %v, want one Remove", calls)
	}
}
