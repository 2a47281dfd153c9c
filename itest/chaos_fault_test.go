package itest

import (
	"context"
	"os"
	"strconv"
	"testing"
	"time"

	"sealfleet/chaos"
)

// TestChaosKillAndRestart runs package chaos on the test's sealfleet binary: a manager and three worker processes
// seal 2KiB sectors while a seeded fault injector SIGKILLs and restarts random workers and the manager at random
// moments. Every sector must reach Proving with a proof that verifies, no PreCommit1 may run to the end twice in
// a worker lifetime not ended by a kill, no reservation and no temporary file may be left. Short variant: 6
// sectors, 3 kills; SEALFLEET_LONG=1: 20 sectors, 12 kills. SEALFLEET_CHAOS_SEED replays a seed. Skipped with
// -short.
func TestChaosKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run: real processes")
	}
	cfg := chaos.Config{Binary: sealfleetBin(t), Dir: t.TempDir(), ParentsCacheDir: parentsDir(t),
		Seed: uint64(time.Now().UnixNano()), Sectors: 6, Kills: 3}
	if os.Getenv("SEALFLEET_LONG") == "1" {
		cfg.Sectors, cfg.Kills = 20, 12
	}
	if s := os.Getenv("SEALFLEET_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SEALFLEET_CHAOS_SEED=%q: want a decimal seed", s)
		}
		cfg.Seed = v
	}
	t.Logf("chaos seed %d (replay with SEALFLEET_CHAOS_SEED=%d): %d sectors, %d kills", cfg.Seed, cfg.Seed, cfg.Sectors, cfg.Kills)
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Minute)
	defer cancel()
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kills %v; PC1 runs counted %v; %d paths checked", rep.Kills, rep.PC1Runs, rep.PathsChecked)
	if !rep.OK || rep.Proving != cfg.Sectors || rep.ProofsVerified != cfg.Sectors {
		for _, name := range []string{"manager", "w1", "w2", "w3"} {
			if b, err := os.ReadFile(cfg.Dir + "/" + name + ".log"); err == nil {
				if len(b) > 4000 {
					b = b[len(b)-4000:]
				}
				t.Logf("--- %s log (tail) ---\n%s", name, b)
			}
		}
		t.Fatalf("seed %d: %d/%d Proving, %d proofs verified, failures: %v", cfg.Seed, rep.Proving, cfg.Sectors,
			rep.ProofsVerified, rep.Failures)
	}
}
