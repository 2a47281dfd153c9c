package itest

import (
	"context"
	"encoding/json"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"sealfleet/api"
	"sealfleet/storiface"
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
		markKilled(t, c.workers[victim].log)
		c.startWorker(victim, c.repos[victim], c.addrs[victim])
	}
	c.waitProving(nums, 4*time.Minute)
	runs := map[string]int{}
	for _, name := range []string{"w1", "w2", "w3"} {
		countPC1Runs(t, c.workers[name].log, runs)
	}
	t.Logf("PreCommit1 labelings that ran to the end in a worker that was not killed afterwards: %v", runs)
	for sector, n := range runs {
		if n > 1 {
			t.Errorf("%s: PreCommit1 ran to completion %d times (tracked calls must run at most once)", sector, n)
		}
	}
	assertNoReservations(t, c)
	for name, repo := range c.repos {
		assertNoTempFiles(t, name, repo)
	}
	assertNoTempFiles(t, "manager", c.repo)
}

// assertNoReservations asks every node holding a path (over its /remote/stat endpoint, with the admin token) for
// the path's figures: with every sector Proving and nothing running, no space may still be reserved.
func assertNoReservations(t *testing.T, c *cluster) {
	t.Helper()
	ctx := context.Background()
	list, err := c.mgr.StorageList(ctx)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	defer func() {
		if checked == 0 {
			t.Error("no storage path was checked for leaked reservations")
		}
	}()
	for id := range list {
		si, err := c.mgr.StorageInfo(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		for _, u := range si.URLs {
			req, err := http.NewRequest(http.MethodGet, u+"/stat/"+string(id), nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header = c.info.Header()
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatalf("stat of path %s at %s: %v", id, u, err)
			}
			var st storiface.FsStat
			err = json.NewDecoder(resp.Body).Decode(&st)
			resp.Body.Close()
			if err != nil || resp.StatusCode != http.StatusOK {
				t.Fatalf("stat of path %s at %s: %d %v", id, u, resp.StatusCode, err)
			}
			checked++
			if st.Reserved != 0 {
				t.Errorf("path %s at %s: %d bytes still reserved after every sector reached Proving", id, u, st.Reserved)
			}
		}
	}
}

// killMarker is appended to a worker's log after it was killed, to split the log into process lifetimes.
const killMarker = "=== chaos: SIGKILL ==="

// markKilled appends killMarker to a log file.
func markKilled(t *testing.T, log string) {
	t.Helper()
	f, err := os.OpenFile(log, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if _, err := f.WriteString(killMarker + "\n"); err != nil {
		t.Fatal(err)
	}
}

// labelledRe matches the native sealer's log line for the last SDR layer of a 2KiB sector (2 layers): the end of
// one PreCommit1 execution.
var labelledRe = regexp.MustCompile(`layer labelled .*dir=\S*/(s-t0\d+-\d+)\S* layer=2\b`)

// countPC1Runs adds to runs, per sector name, the PreCommit1 executions in a worker log that reached their last
// layer in a process lifetime that did not end with a kill. Executions in a killed lifetime are not counted, as
// the kill may have cut them off before their result was saved (a legitimate re-run), so this is a lower bound
// of double runs: it catches a call computed twice because a manager restart lost track of it, not one computed
// twice across a worker crash.
func countPC1Runs(t *testing.T, log string, runs map[string]int) {
	t.Helper()
	b, err := os.ReadFile(log)
	if err != nil {
		t.Fatal(err)
	}
	lives := strings.Split(string(b), killMarker)
	for _, m := range labelledRe.FindAllStringSubmatch(lives[len(lives)-1], -1) { // the lifetime not ended by a kill
		runs[m[1]]++
	}
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
