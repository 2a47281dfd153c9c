package itest

import (
	"context"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"sealfleet/api"
)

// chaosParams are the knobs of a chaos run: the seed picks victims and moments, so a failing run can be replayed.
type chaosParams struct {
	seed    uint64
	sectors int
	kills   int
}

// chaosParamsFromEnv gives the short variant (6 sectors, 3 kills) unless SEALFLEET_LONG=1 asks for the long one;
// SEALFLEET_CHAOS_SEED replays a seed.
func chaosParamsFromEnv(t *testing.T) chaosParams {
	p := chaosParams{seed: uint64(time.Now().UnixNano()), sectors: 6, kills: 3}
	if os.Getenv("SEALFLEET_LONG") == "1" {
		p.sectors, p.kills = 20, 12
	}
	if s := os.Getenv("SEALFLEET_CHAOS_SEED"); s != "" {
		v, err := strconv.ParseUint(s, 10, 64)
		if err != nil {
			t.Fatalf("SEALFLEET_CHAOS_SEED=%q: want a decimal seed", s)
		}
		p.seed = v
	}
	return p
}

// TestChaosKillAndRestart runs a manager and three worker processes sealing 2KiB sectors while a seeded fault
// injector kills (SIGKILL) a random worker or the manager at random moments and restarts it on the same repo and
// address, as a supervisor would. It checks that every sector reaches Proving with a proof that verifies against
// its comm_r, and that no temporary file (worker call temporaries, fetch temporaries) is left in any repo.
// Skipped with -short.
func TestChaosKillAndRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("chaos run: a few minutes of real processes")
	}
	p := chaosParamsFromEnv(t)
	t.Logf("chaos seed %d (replay with SEALFLEET_CHAOS_SEED=%d): %d sectors, %d kills", p.seed, p.seed, p.sectors, p.kills)
	rng := rand.New(rand.NewPCG(p.seed, p.seed^0x5ea1))

	c, mgr := startChaosCluster(t, "2KiB", "w1", "w2", "w3")
	nums := c.pledge(p.sectors)
	names := []string{"w1", "w2", "w3", "manager"}
	for i := range p.kills {
		// Fault timing, not synchronisation: the moment is the random variable under test.
		<-time.After(time.Duration(200+rng.IntN(2500)) * time.Millisecond)
		victim := names[rng.IntN(len(names))]
		t.Logf("kill %d: %s", i+1, victim)
		if victim == "manager" {
			mgr.kill9()
			mgr.start(t)
			continue
		}
		c.workers[victim].kill9()
		c.startWorker(victim, c.repos[victim], c.addrs[victim])
	}
	c.waitProving(nums, 4*time.Minute)
	for name, repo := range c.repos {
		assertNoTempFiles(t, name, repo)
	}
	assertNoTempFiles(t, "manager", c.repo)
}

// startChaosCluster is startCluster keeping the manager's process, so the fault injector can kill and restart it.
func startChaosCluster(t *testing.T, size string, names ...string) (*cluster, *proc) {
	t.Helper()
	c := &cluster{t: t, repo: t.TempDir(), workers: map[string]*proc{}, repos: map[string]string{},
		addrs: map[string]string{}}
	c.env = []string{"SEALFLEET_PARENT_CACHE=" + parentsDir(t), api.EnvRepo + "=", api.EnvAPIInfo + "="}
	conf := "[Sealing]\n  WaitSeedDelay = \"0s\"\n  RetryBackoff = \"1s\"\n  MaxRetryBackoff = \"4s\"\n"
	if err := os.WriteFile(filepath.Join(c.repo, "config.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	mgr := startProc(t, "manager", c.env, "run", "--repo", c.repo, "--listen", freeAddr(t), "--sector-size", size,
		"--no-local-worker")
	eventually(t, "manager serving", 60*time.Second, 100*time.Millisecond, func() (bool, error) {
		info, err := api.ReadInfo(c.repo)
		if err != nil {
			return false, err
		}
		m, closer, err := api.NewManagerClient(context.Background(), info, api.ClientOptions{Scheme: "http"})
		if err != nil {
			return false, err
		}
		if _, err := m.Version(context.Background()); err != nil {
			closer()
			return false, err
		}
		c.info, c.mgr = info, m
		t.Cleanup(closer)
		return true, nil
	})
	c.sectors = dialSectors(t, c.info)
	for _, name := range names {
		c.startWorker(name, storeRepo(t), freeAddr(t))
	}
	c.waitWorkers(len(names))
	return c, mgr
}

// assertNoTempFiles fails on any worker call temporary (".sealfleet-tmp"), fetch temporary (under "fetching/")
// or other ".tmp" file left under root.
func assertNoTempFiles(t *testing.T, name, root string) {
	t.Helper()
	var left []string
	_ = filepath.WalkDir(root, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return nil
		}
		rel, _ := filepath.Rel(root, p)
		if strings.HasSuffix(p, ".sealfleet-tmp") || strings.HasSuffix(p, ".tmp") ||
			(!d.IsDir() && strings.Contains(rel, string(filepath.Separator)+"fetching"+string(filepath.Separator))) {
			left = append(left, rel)
		}
		return nil
	})
	if len(left) > 0 {
		t.Errorf("%s: temporary files left behind: %s", name, fmt.Sprint(left))
	}
}
