package node

import (
	"context"
	"io"
	"log/slog"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/pipeline"
	"sealfleet/seal/native"
	"sealfleet/storiface"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// testConfig is the default config on a free loopback port with no waiting between steps.
func testConfig(size string) Config {
	cfg := DefaultConfig()
	cfg.API.ListenAddress = "127.0.0.1:0"
	cfg.Sealing.SectorSize = size
	cfg.Sealing.WaitSeedDelay = 0
	cfg.Sealing.RetryBackoff = Duration(10 * time.Millisecond)
	cfg.Sealing.MaxRetryBackoff = Duration(100 * time.Millisecond)
	return cfg
}

// runningNode is a node whose Run goroutine the test stops with stop.
type runningNode struct {
	*Node
	stop func()
}

// startNode builds a node on repo and runs it until the test ends or stop is called.
func startNode(t *testing.T, repo string, cfg Config, parents string) *runningNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	n, err := New(ctx, cfg, Options{Repo: repo, Logger: quiet, ParentsCacheDir: parents,
		ObserveInterval: 50 * time.Millisecond})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	stopped := false
	rn := &runningNode{Node: n}
	rn.stop = func() {
		if stopped {
			return
		}
		stopped = true
		cancel()
		if err := <-done; err != nil {
			t.Errorf("Run: %v", err)
		}
		n.Close()
	}
	t.Cleanup(rn.stop)
	return rn
}

// waitStates waits until every sector in nums is in state want, failing the test on a sector that gave up or
// when the deadline passes. It wakes on the pipeline's state changes, re-reading at most every 2 s in case a
// change was missed.
func waitStates(t *testing.T, p *pipeline.Pipeline, nums []abi.SectorNumber, want pipeline.SectorState,
	timeout time.Duration) {
	t.Helper()
	ch, unsub := p.Subscribe()
	defer unsub()
	deadline := time.After(timeout)
	for {
		done := true
		for _, n := range nums {
			si, err := p.Status(context.Background(), n)
			if err != nil {
				t.Fatal(err)
			}
			if si.GaveUp {
				t.Fatalf("sector %d gave up in %s: %s", n, si.State, si.LastError)
			}
			if si.State != want {
				done = false
			}
		}
		if done {
			return
		}
		select {
		case <-ch:
		case <-time.After(2 * time.Second):
		case <-deadline:
			list, _ := p.List(context.Background())
			for _, si := range list {
				t.Logf("sector %d: %s (%s)", si.Number, si.State, si.LastError)
			}
			t.Fatalf("sectors %v not all %s after %s", nums, want, timeout)
		}
	}
}

// verifySector checks a Proving sector's proof against its public inputs, as `proofs verify` does.
func verifySector(t *testing.T, si pipeline.SectorInfo, miner abi.ActorID) {
	t.Helper()
	commD, commR, err := native.Commitments(storiface.SectorCids{Unsealed: si.CommD, Sealed: si.CommR})
	if err != nil {
		t.Fatalf("sector %d commitments: %v", si.Number, err)
	}
	pub := native.PublicInputs{Sector: si.Ref(miner), CommD: commD, CommR: commR}
	copy(pub.Ticket[:], si.Ticket)
	copy(pub.Seed[:], si.Seed)
	if err := native.VerifyVanillaProof(si.Proof, pub); err != nil {
		t.Fatalf("sector %d proof: %v", si.Number, err)
	}
	pub.Seed[0] ^= 1
	if err := native.VerifyVanillaProof(si.Proof, pub); err == nil {
		t.Fatalf("sector %d proof verifies with a wrong seed", si.Number)
	}
}
