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
// moments. Every sector must reach Proving with a proof that verifies; the workers' execution records must show
// no work that ran to the end twice (at most one finished execution per WorkID, except a call the manager lost
// in a kill and re-issued; no second finished execution of a sector's task without a kill between); no
// reservation and no temporary file may be left. Short variant: 6 sectors, 3 kills; SEALFLEET_LONG=1: 30
// sectors, 12 kills (issue #10). SEALFLEET_CHAOS_SEED replays a seed. Skipped with -short.
func TestChaosKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run: real processes")
	}
	cfg := chaos.Config{Binary: sealfleetBin(t), Dir: t.TempDir(), ParentsCacheDir: parentsDir(t),
		Seed: uint64(time.Now().UnixNano()), Sectors: 6, Kills: 3}
	limit := 10 * time.Minute
	if os.Getenv("SEALFLEET_LONG") == "1" {
		cfg.Sectors, cfg.Kills, limit = 30, 12, 25*time.Minute
	}
	if s := os.Getenv("SEALFLEET_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SEALFLEET_CHAOS_SEED=%q: want a decimal seed", s)
		}
		cfg.Seed = v
	}
	t.Logf("chaos seed %d (replay with SEALFLEET_CHAOS_SEED=%d): %d sectors, %d kills", cfg.Seed, cfg.Seed, cfg.Sectors, cfg.Kills)
	ctx, cancel := context.WithTimeout(context.Background(), limit)
	defer cancel()
	rep, err := chaos.Run(ctx, cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("kills %v; executions %d (finished %d, failed %d, cut %d, running %d) over %d WorkIDs, per WorkID %v, "+
		"finished per WorkID %v (max %d), re-issued %q; %d paths checked; %.1f s", rep.Kills, rep.Executions,
		rep.FinishedExecutions, rep.FailedExecutions, rep.CutExecutions, rep.RunningExecutions, rep.WorkIDs,
		rep.ExecutionsPerWorkID, rep.FinishedPerWorkID, rep.MaxFinishedPerWorkID, rep.Reissued, rep.PathsChecked, rep.Seconds)
	if !rep.OK || rep.Proving != cfg.Sectors || rep.ProofsVerified != cfg.Sectors {
		dumpChaosLogs(t, cfg.Dir)
		t.Fatalf("seed %d: %d/%d Proving, %d proofs verified, failures: %v", cfg.Seed, rep.Proving, cfg.Sectors,
			rep.ProofsVerified, rep.Failures)
	}
	checkChaosCounts(t, cfg, rep)
}

// checkChaosCounts checks that the execution record saw every sector's work: each sealing task of every sector
// finished at least once, every WorkID finished at most once (twice only when re-issued after a manager kill),
// and the counts add up.
func checkChaosCounts(t *testing.T, cfg chaos.Config, rep chaos.Report) {
	t.Helper()
	if len(rep.Kills) != cfg.Kills {
		t.Errorf("seed %d: %d kills injected, want %d", cfg.Seed, len(rep.Kills), cfg.Kills)
	}
	if len(rep.FinishedBySectorTask) != cfg.Sectors {
		t.Errorf("seed %d: finished executions for %d sectors, want %d: %v", cfg.Seed, len(rep.FinishedBySectorTask),
			cfg.Sectors, rep.FinishedBySectorTask)
	}
	for sector, tasks := range rep.FinishedBySectorTask {
		for _, task := range []string{"AP", "PC1", "PC2", "C1", "C2", "FIN"} {
			if tasks[task] < 1 {
				t.Errorf("seed %d: %s: no finished %s execution recorded (%v)", cfg.Seed, sector, task, tasks)
			}
		}
	}
	if len(rep.RanTwice) != 0 || (rep.MaxFinishedPerWorkID != 1 && len(rep.Reissued) == 0) {
		t.Errorf("seed %d: ran twice %q, max finished per WorkID %d, re-issued %q", cfg.Seed, rep.RanTwice,
			rep.MaxFinishedPerWorkID, rep.Reissued)
	}
	if sum := rep.FinishedExecutions + rep.FailedExecutions + rep.CutExecutions + rep.RunningExecutions; sum != rep.Executions {
		t.Errorf("seed %d: execution states add up to %d, want %d", cfg.Seed, sum, rep.Executions)
	}
	finished := 0 // WorkIDs with at least one finished execution
	for n, ids := range rep.FinishedPerWorkID {
		if n != "0" {
			finished += ids
		}
	}
	if finished < 6*cfg.Sectors {
		t.Errorf("seed %d: %d WorkIDs finished, want at least %d (six sealing tasks per sector): %v", cfg.Seed,
			finished, 6*cfg.Sectors, rep.FinishedPerWorkID)
	}
	if t.Failed() {
		dumpChaosLogs(t, cfg.Dir)
	}
}

// dumpChaosLogs logs the tail of every process's log.
func dumpChaosLogs(t *testing.T, dir string) {
	t.Helper()
	for _, name := range []string{"manager", "w1", "w2", "w3"} {
		if b, err := os.ReadFile(dir + "/" + name + ".log"); err == nil {
			if len(b) > 4000 {
				b = b[len(b)-4000:]
			}
			t.Logf("--- %s log (tail) ---\n%s", name, b)
		}
	}
}
