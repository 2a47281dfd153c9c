package pipeline

import (
	"bytes"
	"context"
	"errors"
	"slices"
	"strings"
	"testing"

	"sealfleet/storiface"
)

// TestRetryBackoffThenGiveUp fails PreCommit2 every time: it is retried after 10s, then 20s (doubling), and
// after MaxRetries (2) retries the sector stays in PreCommitFailed; an operator's update-state resumes it.
func TestRetryBackoffThenGiveUp(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	h.sealer.fail("PreCommit2", 100, errors.New("disk on fire"))
	n, err := h.p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	info := h.waitFor(n, "first failure", false, func(i SectorInfo) bool { return i.Retries == 1 })
	for retry, backoff := range []int{10, 20} {
		if info.State != PreCommitFailed || info.RetryState != PreCommit2 || info.LastError == "" {
			t.Fatalf("after failure %d: %+v", retry+1, info)
		}
		if got := info.NextRetry.Sub(h.clock.Now()).Seconds(); int(got) != backoff {
			t.Fatalf("retry %d after %vs, want %ds", retry+1, got, backoff)
		}
		h.clock.waitPendingAt(t, info.NextRetry)
		h.clock.Advance(info.NextRetry.Sub(h.clock.Now()) - 1) // 1ns early: nothing happens
		if got := len(h.sealer.callsOf("PreCommit2")); got != retry+1 {
			t.Fatalf("PC2 called %d times before the backoff ended, want %d", got, retry+1)
		}
		h.clock.Advance(1)
		info = h.waitFor(n, "next failure", false, func(i SectorInfo) bool { return i.Retries == retry+2 })
	}
	if !info.GaveUp || !info.NextRetry.IsZero() || info.State != PreCommitFailed {
		t.Fatalf("after 3 failures: %+v, want given up in PreCommitFailed", info)
	}
	if got := len(h.sealer.callsOf("PreCommit2")); got != 3 {
		t.Errorf("PC2 called %d times, want 3 (1 + MaxRetries)", got)
	}
	if !strings.Contains(info.LastError, "disk on fire") {
		t.Errorf("last error %q does not carry the cause", info.LastError)
	}
	// The operator retries by hand; the sector resumes with its retry count reset.
	h.sealer.fail("PreCommit2", 0, nil)
	if err := h.p.UpdateState(ctx, n, PreCommit2); err != nil {
		t.Fatal(err)
	}
	info = h.waitState(n, Proving, true)
	if info.Retries != 0 || info.LastError != "" {
		t.Errorf("after success retries=%d error=%q, want cleared", info.Retries, info.LastError)
	}
}

// TestBadInputErrorGivesUpAtOnce checks that a bad-input error from the sealer is not retried.
func TestBadInputErrorGivesUpAtOnce(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	h.sealer.fail("Commit2", 1, storiface.Errf(storiface.ErrBadInput, "proof type not supported"))
	n, err := h.p.Pledge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	info := h.waitState(n, CommitFailed, true)
	if !info.GaveUp || info.Retries != 1 {
		t.Fatalf("%+v: want given up after one bad-input failure", info)
	}
}

// TestRemoveWhileSealing removes a sector whose PreCommit1 is running: the call's context is cancelled and it
// returns before Sealer.Remove is called; unadded piece data is released.
func TestRemoveWhileSealing(t *testing.T) {
	tests := []struct {
		name   string
		method string
		deal   bool
	}{
		{"pledge in PreCommit1", "PreCommit1", false},
		{"deal piece being added", "AddPiece", true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			ps := newMemPieceStore()
			h := newHarness(t, testConfig(), ps)
			ctx := context.Background()
			h.sealer.gate(tc.method)
			var n = SectorPieceLocation{}.Sector
			if tc.deal {
				loc, err := h.p.AddPiece(ctx, bytes.NewReader(payload(300, 1)), 300)
				if err != nil {
					t.Fatal(err)
				}
				n = loc.Sector
			} else {
				var err error
				if n, err = h.p.Pledge(ctx); err != nil {
					t.Fatal(err)
				}
			}
			h.sealer.waitCall(t, tc.method)
			if err := h.p.Remove(ctx, n); err != nil {
				t.Fatal(err)
			}
			h.waitState(n, Removed, false)
			log := h.sealer.logLines()
			iEnd := slices.Index(log, "end "+tc.method+" 0: context canceled")
			iRemove := slices.Index(log, "start Remove 0")
			if iEnd < 0 || iRemove < 0 || iEnd > iRemove {
				t.Errorf("sealer log %v: want the %s call cancelled before Remove starts", log, tc.method)
			}
			if left := ps.urls(); len(left) != 0 {
				t.Errorf("piece data leaked: %v", left)
			}
			states := h.states(n)
			if states[len(states)-2] != Removing || states[len(states)-1] != Removed {
				t.Errorf("states %v: want ... Removing, Removed", states)
			}
			if err := h.p.Remove(ctx, n); !errors.Is(err, ErrBadInput) {
				t.Errorf("second remove: %v, want ErrBadInput", err)
			}
			if got := h.p.Counts(); got[Removed] != 1 {
				t.Errorf("Counts = %v", got)
			}
		})
	}
}

// TestOperatorBadInput checks that wrong requests name what is wrong and change nothing.
func TestOperatorBadInput(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	h.sealer.gate("PreCommit1")
	n, err := h.p.Pledge(ctx)
	if err != nil {
		t.Fatal(err)
	}
	h.sealer.waitCall(t, "PreCommit1")
	eventsBefore, _ := h.p.Events(ctx, n)
	tests := []struct {
		name    string
		do      func() error
		target  error
		message string
	}{
		{"status of unknown sector", func() error { _, err := h.p.Status(ctx, 99); return err }, ErrUnknownSector, "sector 99"},
		{"events of unknown sector", func() error { _, err := h.p.Events(ctx, 99); return err }, ErrUnknownSector, "sector 99"},
		{"remove unknown sector", func() error { return h.p.Remove(ctx, 99) }, ErrUnknownSector, "sector 99"},
		{"update unknown sector", func() error { return h.p.UpdateState(ctx, 99, Packing) }, ErrUnknownSector, "sector 99"},
		{"unknown state name", func() error { return h.p.UpdateState(ctx, n, "Sealing") }, ErrBadInput, "accepted are"},
		{"state without its inputs", func() error { return h.p.UpdateState(ctx, n, Commit2) }, ErrBadInput, "no Commit1 output"},
		{"failure state", func() error { return h.p.UpdateState(ctx, n, CommitFailed) }, ErrBadInput, "cannot be set"},
		{"read without replica", func() error { return h.p.ReadPiece(ctx, &bytes.Buffer{}, n, 0, 127) }, nil, "no piece reader"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.do()
			if err == nil || (tc.target != nil && !errors.Is(err, tc.target)) || !strings.Contains(err.Error(), tc.message) {
				t.Fatalf("error %v: want %v mentioning %q", err, tc.target, tc.message)
			}
			info, _ := h.p.Status(ctx, n)
			evs, _ := h.p.Events(ctx, n)
			if info.State != PreCommit1 || len(evs) != len(eventsBefore) {
				t.Fatalf("sector changed: %s, %d events (was %d)", info.State, len(evs), len(eventsBefore))
			}
		})
	}
	if list, _ := h.p.List(ctx); len(list) != 1 {
		t.Errorf("List has %d sectors, want 1", len(list))
	}
}

// TestMaxSealing checks that with MaxSealing 1 a second pledge waits in Packing (no AddPiece) until the first
// sector has finished sealing.
func TestMaxSealing(t *testing.T) {
	cfg := testConfig()
	cfg.MaxSealing = 1
	cfg.WaitSeedDelay = 0
	h := newHarness(t, cfg, nil)
	ctx := context.Background()
	release := h.sealer.gate("PreCommit1")
	a, _ := h.p.Pledge(ctx)
	b, _ := h.p.Pledge(ctx)
	h.sealer.waitCall(t, "PreCommit1")
	if st, _ := h.p.Status(ctx, b); st.State != Packing || len(st.Pieces) != 0 {
		t.Fatalf("second sector %s with %d pieces, want Packing and unplanned", st.State, len(st.Pieces))
	}
	if got := len(h.sealer.callsOf("AddPiece")); got != 1 {
		t.Fatalf("%d AddPiece calls while the slot is taken, want 1", got)
	}
	release()
	h.waitState(a, Proving, false)
	h.waitState(b, Proving, false)
	// Sector b's AddPiece started only after sector a left the sealing states.
	log := h.sealer.logLines()
	if slices.Index(log, "start AddPiece 1") < slices.Index(log, "end MoveStorage 0: <nil>") {
		t.Errorf("sector 1 started before sector 0 finished: %v", log)
	}
}

// TestUpdateStateRestartsStep moves a sector back to PreCommit1 while PreCommit2 runs: the running call is
// cancelled and PreCommit1 runs again with the same ticket.
func TestUpdateStateRestartsStep(t *testing.T) {
	h := newHarness(t, testConfig(), nil)
	ctx := context.Background()
	release := h.sealer.gate("PreCommit2")
	n, _ := h.p.Pledge(ctx)
	h.sealer.waitCall(t, "PreCommit2")
	if err := h.p.UpdateState(ctx, n, PreCommit1); err != nil {
		t.Fatal(err)
	}
	release()
	h.waitState(n, Proving, true)
	pc1 := h.sealer.callsOf("PreCommit1")
	if len(pc1) != 2 || pc1[0].Args != pc1[1].Args {
		t.Errorf("PreCommit1 calls %v: want two with the same ticket", pc1)
	}
	evs, _ := h.p.Events(ctx, n)
	found := false
	for _, ev := range evs {
		found = found || (ev.From == PreCommit2 && ev.To == PreCommit1 && strings.Contains(ev.Message, "operator"))
	}
	if !found {
		t.Errorf("no operator event PreCommit2 -> PreCommit1 in %+v", evs)
	}
}

// TestSealerInconsistency checks the pipeline's own checks of sealer results: a zero piece must have the zero
// commitment and CommD must follow from the pieces; otherwise the step fails (and, with no retries, gives up).
func TestSealerInconsistency(t *testing.T) {
	tests := []struct {
		name    string
		corrupt func(*fakeSealer)
		state   SectorState
		message string
	}{
		{"zero piece CID", func(f *fakeSealer) { f.corruptZero = true }, AddPieceFailed, "zero commitment"},
		{"CommD", func(f *fakeSealer) { f.corruptCommD = true }, PreCommitFailed, "differs from the pieces' CommD"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			cfg := testConfig()
			cfg.MaxRetries = 0
			h := newHarness(t, cfg, nil)
			tc.corrupt(h.sealer)
			n, err := h.p.Pledge(context.Background())
			if err != nil {
				t.Fatal(err)
			}
			info := h.waitState(n, tc.state, false)
			if !info.GaveUp || !strings.Contains(info.LastError, tc.message) {
				t.Fatalf("%+v: want given up with %q", info, tc.message)
			}
		})
	}
}
