package pipeline

import (
	"context"
	"log/slog"
	"path/filepath"
	"testing"
	"time"

	"sealfleet/db"
)

// BenchmarkPledgeToProving measures the pipeline's own cost per sector (SQLite writes, events, goroutines) with
// a sealer that answers at once: b.N pledged 2KiB sectors sealed to Proving, MaxSealing unlimited, no delays.
func BenchmarkPledgeToProving(b *testing.B) {
	d, err := db.OpenSQLite(filepath.Join(b.TempDir(), "bench.db"))
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	cfg := DefaultConfig()
	cfg.WaitSeedDelay, cfg.WaitDealsDelay = 0, 0
	p, err := New(cfg, d, newFakeSealer(), newMemPieceStore(), SystemClock{}, WithLogger(slog.New(slog.DiscardHandler)))
	if err != nil {
		b.Fatal(err)
	}
	sealer := p.sealer.(*fakeSealer)
	sealer.started = make(chan sealCall, 16*b.N+16)
	sub, _ := p.Subscribe()
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	go p.Run(ctx) //nolint:errcheck // stopped by cancel
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		if _, err := p.Pledge(ctx); err != nil {
			b.Fatal(err)
		}
	}
	for p.Counts()[Proving] < b.N {
		<-sub // a state changed (the subscription may drop changes, so Counts is the truth)
	}
	b.ReportMetric(float64(b.N)/time.Since(start).Seconds(), "sectors/s")
}
