package node

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/pipeline"
	"sealfleet/seal"
	"sealfleet/seal/native"
	"sealfleet/storiface"
)

// gatedBackend is the native backend with call counters and a gate on PreCommit2: while the gate is closed a
// PreCommit2 call announces itself on entered and waits for the gate or its context.
type gatedBackend struct {
	seal.Backend
	pc1, pc2 *atomic.Int32
	entered  chan struct{}
	gate     chan struct{}
}

func (b *gatedBackend) SealPreCommit1(ctx context.Context, s storiface.SectorRef, p storiface.SectorPaths,
	ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	b.pc1.Add(1)
	return b.Backend.SealPreCommit1(ctx, s, p, ticket, pieces)
}

func (b *gatedBackend) SealPreCommit2(ctx context.Context, s storiface.SectorRef, p storiface.SectorPaths,
	pc1o storiface.PreCommit1Out) (storiface.SectorCids, error) {
	b.pc2.Add(1)
	select {
	case b.entered <- struct{}{}:
	default:
	}
	select {
	case <-b.gate:
	case <-ctx.Done():
		return storiface.SectorCids{}, ctx.Err()
	}
	return b.Backend.SealPreCommit2(ctx, s, p, pc1o)
}

// TestRestartMidPipeline stops the node while a sector's PreCommit2 runs, opens a new node on the same repo and
// checks that the sector resumes from PreCommit2 (PreCommit1 is not run again) and reaches Proving with a proof
// that verifies.
func TestRestartMidPipeline(t *testing.T) {
	repo, parents := t.TempDir(), t.TempDir()
	cfg := testConfig("2KiB")
	var pc1, pc2 atomic.Int32
	type gatedNode struct {
		*runningNode
		backend *gatedBackend
	}
	open := func(gate chan struct{}) gatedNode {
		ctx, cancel := context.WithCancel(context.Background())
		b := &gatedBackend{Backend: native.New(native.Config{ParentsCacheDir: parents, Logger: quiet}),
			pc1: &pc1, pc2: &pc2, entered: make(chan struct{}, 1), gate: gate}
		n, err := New(ctx, cfg, Options{Repo: repo, Logger: quiet, Backend: b, ObserveInterval: time.Hour})
		if err != nil {
			cancel()
			t.Fatal(err)
		}
		done := make(chan error, 1)
		go func() { done <- n.Run(ctx) }()
		rn := &runningNode{Node: n}
		var once sync.Once
		rn.stop = func() {
			once.Do(func() {
				cancel()
				if err := <-done; err != nil {
					t.Errorf("Run: %v", err)
				}
				n.Close()
			})
		}
		t.Cleanup(rn.stop)
		return gatedNode{rn, b}
	}
	closed := make(chan struct{})
	first := open(closed)
	num, err := first.Pipeline().Pledge(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	waitStates(t, first.Pipeline(), []abi.SectorNumber{num}, pipeline.PreCommit2, time.Minute)
	select { // PreCommit2 has reached the backend
	case <-first.backend.entered:
	case <-time.After(time.Minute):
		t.Fatal("PreCommit2 never reached the backend")
	}
	t.Log("stopping the node during PreCommit2")
	first.stop()
	t.Log("stopped")

	opened := make(chan struct{})
	close(opened)
	second := open(opened)
	waitStates(t, second.Pipeline(), []abi.SectorNumber{num}, pipeline.Proving, 2*time.Minute)
	if got := pc1.Load(); got != 1 {
		t.Fatalf("PreCommit1 ran %d times across the restart, want 1", got)
	}
	si, err := second.Pipeline().Status(context.Background(), num)
	if err != nil {
		t.Fatal(err)
	}
	verifySector(t, si, 1000)
}
