package node

import (
	"context"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
)

// BenchmarkPledgeToProving measures the wall time from pledge to Proving of one sector on an all-in-one node
// (native backend, embedded local worker, WaitSeedDelay 0), per sector size. One op is one sector, pledged after
// the previous one is Proving; the node and its parents cache are set up outside the timer.
func BenchmarkPledgeToProving(b *testing.B) {
	for _, size := range []string{"2KiB", "8MiB"} {
		b.Run(size, func(b *testing.B) {
			n := startBenchNode(b, size)
			ctx := context.Background()
			warm, err := n.Pipeline().Pledge(ctx) // builds the parents cache
			if err != nil {
				b.Fatal(err)
			}
			if err := WatchProving(ctx, n.Pipeline(), []abi.SectorNumber{warm}, discard{}, time.Second); err != nil {
				b.Fatal(err)
			}
			b.ResetTimer()
			for b.Loop() {
				num, err := n.Pipeline().Pledge(ctx)
				if err != nil {
					b.Fatal(err)
				}
				if err := WatchProving(ctx, n.Pipeline(), []abi.SectorNumber{num}, discard{}, time.Second); err != nil {
					b.Fatal(err)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Milliseconds())/float64(b.N), "ms/sector")
		})
	}
}

// discard is an io.Writer that drops everything (not a terminal, so WatchProving writes plain lines).
type discard struct{}

func (discard) Write(p []byte) (int, error) { return len(p), nil }

// startBenchNode runs a node for a benchmark until it ends.
func startBenchNode(b *testing.B, size string) *Node {
	b.Helper()
	cfg := testConfig(size)
	ctx, cancel := context.WithCancel(context.Background())
	n, err := New(ctx, cfg, Options{Repo: b.TempDir(), Logger: quiet, ParentsCacheDir: b.TempDir()})
	if err != nil {
		cancel()
		b.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	b.Cleanup(func() {
		cancel()
		<-done
		n.Close()
	})
	return n
}
