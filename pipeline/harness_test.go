package pipeline

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
)

// testConfig is the configuration the tests use: 2KiB sectors, short known delays, two retries.
func testConfig() Config {
	cfg := DefaultConfig()
	cfg.WaitSeedDelay = 30 * time.Second
	cfg.WaitDealsDelay = time.Minute
	cfg.MaxRetries = 2
	cfg.RetryBackoff = 10 * time.Second
	cfg.MaxRetryBackoff = time.Minute
	return cfg
}

// harness runs a pipeline on an SQLite file with a fake clock and sealer, and can restart it on the same file.
type harness struct {
	t      *testing.T
	cfg    Config
	path   string
	db     *db.DB
	clock  *fakeClock
	sealer *fakeSealer
	pieces PieceStore
	opts   []Option
	p      *Pipeline
	sub    <-chan StateChange
	cancel context.CancelFunc
	done   chan error
}

func newHarness(t *testing.T, cfg Config, pieces PieceStore, opts ...Option) *harness {
	t.Helper()
	opts = append([]Option{WithLogger(slog.New(slog.DiscardHandler))}, opts...)
	if pieces == nil {
		pieces = newMemPieceStore()
	}
	h := &harness{t: t, cfg: cfg, path: filepath.Join(t.TempDir(), "sealfleet.db"), pieces: pieces, opts: opts,
		clock: newFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC))}
	h.start(newFakeSealer())
	t.Cleanup(func() {
		if h.cancel != nil {
			h.stop()
		}
	})
	return h
}

// start opens the DB and runs a pipeline with sealer.
func (h *harness) start(sealer *fakeSealer) {
	h.t.Helper()
	d, err := db.OpenSQLite(h.path)
	if err != nil {
		h.t.Fatal(err)
	}
	h.db, h.sealer = d, sealer
	h.p, err = New(h.cfg, d, sealer, h.pieces, h.clock, h.opts...)
	if err != nil {
		h.t.Fatal(err)
	}
	h.sub, _ = h.p.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	h.cancel, h.done = cancel, make(chan error, 1)
	go func() { h.done <- h.p.Run(ctx) }()
}

// stop cancels Run, waits for it and closes the DB.
func (h *harness) stop() {
	h.t.Helper()
	h.cancel()
	select {
	case err := <-h.done:
		if err != nil {
			h.t.Errorf("Run: %v", err)
		}
	case <-time.After(testTimeout):
		h.t.Fatal("Run did not return after cancel")
	}
	h.cancel = nil
	if err := h.db.Close(); err != nil {
		h.t.Error(err)
	}
}

// restart stops the pipeline and starts a new one on the same DB file, clock time and piece store.
func (h *harness) restart(sealer *fakeSealer) {
	h.t.Helper()
	h.stop()
	h.clock = newFakeClock(h.clock.Now())
	h.start(sealer)
}

// waitFor waits until sector n satisfies cond. With auto, every timer the pipeline sets fires at once (time
// jumps to it); without, time stands still.
func (h *harness) waitFor(n abi.SectorNumber, what string, auto bool, cond func(SectorInfo) bool) SectorInfo {
	h.t.Helper()
	deadline := time.After(testTimeout)
	for {
		if auto {
			h.clock.AdvanceToNext()
		}
		info, err := h.p.Status(context.Background(), n)
		if err != nil && !errors.Is(err, ErrUnknownSector) {
			h.t.Fatal(err)
		}
		if err == nil && cond(info) {
			return info
		}
		select {
		case <-h.sub:
		case <-h.clock.added:
		case <-deadline:
			h.t.Fatalf("sector %d: waiting for %s; it is in %s (last error %q)", n, what, info.State, info.LastError)
		}
	}
}

// waitState waits until sector n is in state st.
func (h *harness) waitState(n abi.SectorNumber, st SectorState, auto bool) SectorInfo {
	h.t.Helper()
	return h.waitFor(n, string(st), auto, func(i SectorInfo) bool { return i.State == st })
}

// states returns the To states of sector n's events, in order.
func (h *harness) states(n abi.SectorNumber) []SectorState {
	h.t.Helper()
	evs, err := h.p.Events(context.Background(), n)
	if err != nil {
		h.t.Fatal(err)
	}
	var out []SectorState
	for _, ev := range evs {
		if ev.From != ev.To {
			out = append(out, ev.To)
		}
	}
	return out
}
