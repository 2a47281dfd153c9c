package itest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/pipeline"
	"sealfleet/seal/native"
	"sealfleet/storiface"
)

// cluster is a manager process (`sealfleet run --no-local-worker`) and worker processes (`sealfleet worker run`)
// on loopback, each with its own repo.
type cluster struct {
	t       *testing.T
	repo    string
	env     []string
	info    api.Info
	mgr     api.Manager
	sectors *sectorsClient
	manager *proc
	workers map[string]*proc // by worker name
	repos   map[string]string
	addrs   map[string]string
}

// startCluster starts the manager sealing sectors of size and workers named names, and waits until the manager
// has every worker.
func startCluster(t *testing.T, size string, names ...string) *cluster {
	t.Helper()
	c := &cluster{t: t, repo: t.TempDir(), workers: map[string]*proc{}, repos: map[string]string{},
		addrs: map[string]string{}}
	c.env = []string{"SEALFLEET_PARENT_CACHE=" + parentsDir(t), api.EnvRepo + "=", api.EnvAPIInfo + "="}
	conf := "[Sealing]\n  WaitSeedDelay = \"0s\"\n  RetryBackoff = \"1s\"\n  MaxRetryBackoff = \"4s\"\n"
	if err := os.WriteFile(filepath.Join(c.repo, "config.toml"), []byte(conf), 0o644); err != nil {
		t.Fatal(err)
	}
	c.manager = startProc(t, "manager", c.env, "run", "--repo", c.repo, "--listen", freeAddr(t), "--sector-size",
		size, "--no-local-worker")
	c.waitManager()
	for _, name := range names {
		c.startWorker(name, storeRepo(t), freeAddr(t))
	}
	c.waitWorkers(len(names))
	return c
}

// waitManager waits until the manager answers on the address its repo names, and connects to it.
func (c *cluster) waitManager() {
	t := c.t
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
}

// parentsDir is the SDR parents cache the test's processes share.
func parentsDir(t *testing.T) string {
	if d := os.Getenv("SEALFLEET_PARENT_CACHE"); d != "" {
		return d
	}
	return filepath.Join(os.TempDir(), "sealfleet-itest-parents")
}

// startWorker starts `sealfleet worker run` named name on repo, serving on addr.
func (c *cluster) startWorker(name, repo, addr string) *proc {
	p := startProc(c.t, name, c.env, "worker", "run", "--repo", c.repo, "--worker-repo", repo, "--listen", addr,
		"--name", name)
	c.workers[name], c.repos[name], c.addrs[name] = p, repo, addr
	return p
}

// waitWorkers waits until the manager has n enabled workers.
func (c *cluster) waitWorkers(n int) {
	eventually(c.t, fmt.Sprintf("%d workers connected", n), 60*time.Second, 100*time.Millisecond, func() (bool, error) {
		stats, err := c.mgr.WorkerStats(context.Background())
		enabled := 0
		for _, s := range stats {
			if s.Enabled {
				enabled++
			}
		}
		return enabled == n, err
	})
}

// pledge pledges n sectors.
func (c *cluster) pledge(n int) []abi.SectorNumber {
	var nums []abi.SectorNumber
	for range n {
		num, err := c.sectors.SectorsPledge(context.Background())
		if err != nil {
			c.t.Fatal(err)
		}
		nums = append(nums, num)
	}
	return nums
}

// waitProving polls the manager until every sector in nums is Proving, and verifies each one's proof.
func (c *cluster) waitProving(nums []abi.SectorNumber, timeout time.Duration) {
	var last []pipeline.SectorInfo
	eventually(c.t, fmt.Sprintf("sectors %v Proving", nums), timeout, 250*time.Millisecond, func() (bool, error) {
		list, err := c.sectors.SectorsList(context.Background())
		if err != nil {
			return false, err
		}
		last = list
		want := map[abi.SectorNumber]bool{}
		for _, n := range nums {
			want[n] = true
		}
		for _, s := range list {
			if want[s.Number] && s.GaveUp {
				return false, fmt.Errorf("sector %d gave up: %s", s.Number, describe(list))
			}
			if want[s.Number] && s.State == pipeline.Proving {
				delete(want, s.Number)
			}
		}
		if len(want) > 0 {
			return false, fmt.Errorf("states: %s", describe(list))
		}
		return true, nil
	})
	for _, s := range last {
		verifyProof(c.t, s)
	}
}

// verifyProof checks a Proving sector's proof against its public inputs (what `proofs verify` checks).
func verifyProof(t *testing.T, si pipeline.SectorInfo) {
	t.Helper()
	commD, commR, err := native.Commitments(storiface.SectorCids{Unsealed: si.CommD, Sealed: si.CommR})
	if err != nil {
		t.Fatalf("sector %d: %v", si.Number, err)
	}
	pub := native.PublicInputs{Sector: si.Ref(1000), CommD: commD, CommR: commR}
	copy(pub.Ticket[:], si.Ticket)
	copy(pub.Seed[:], si.Seed)
	if err := native.VerifyVanillaProof(si.Proof, pub); err != nil {
		t.Fatalf("sector %d proof: %v", si.Number, err)
	}
}

// TestClusterPledge runs a manager without a local worker and two worker processes, pledges two 2KiB sectors and
// waits until both are Proving with proofs that verify.
func TestClusterPledge(t *testing.T) {
	c := startCluster(t, "2KiB", "w1", "w2")
	nums := c.pledge(2)
	c.waitProving(nums, 2*time.Minute)
}

// TestClusterWorkerCrashDuringPC1 kills a worker with SIGKILL while it runs PreCommit1 of an 8MiB sector (long
// enough to be caught running), restarts it on the same repo and address as a supervisor would, and checks that
// the sector still reaches Proving with a proof that verifies. Skipped with -short.
func TestClusterWorkerCrashDuringPC1(t *testing.T) {
	if testing.Short() {
		t.Skip("8MiB sector: about a minute on 2 cores")
	}
	c := startCluster(t, "8MiB", "w1", "w2")
	nums := c.pledge(1)
	victim := c.waitRunning(storiface.TTPreCommit1, 2*time.Minute)
	t.Logf("killing %s during PreCommit1", victim)
	c.workers[victim].kill9()
	c.startWorker(victim, c.repos[victim], c.addrs[victim])
	c.waitProving(nums, 5*time.Minute)
}

// waitRunning polls the manager until a worker runs a task of type tt and returns that worker's name.
func (c *cluster) waitRunning(tt storiface.TaskType, timeout time.Duration) string {
	var name string
	eventually(c.t, tt.Short()+" running", timeout, 20*time.Millisecond, func() (bool, error) {
		ctx := context.Background()
		jobs, err := c.mgr.WorkerJobs(ctx)
		if err != nil {
			return false, err
		}
		for wid, js := range jobs {
			for _, j := range js {
				if j.Task != tt || j.RunWait != storiface.RWRunning {
					continue
				}
				stats, err := c.mgr.WorkerStats(ctx)
				if err != nil {
					return false, err
				}
				if st, ok := stats[wid]; ok && c.workers[st.Info.Name] != nil {
					name = st.Info.Name
					return true, nil
				}
			}
		}
		return false, nil
	})
	return name
}

// TestClusterManagerCrashDuringPC2 kills the manager process with SIGKILL while a worker runs PreCommit2 of an
// 8MiB sector, starts it again on the same repo and address, and checks that the workers reconnect and the
// sector reaches Proving with a proof that verifies. Skipped with -short.
func TestClusterManagerCrashDuringPC2(t *testing.T) {
	if testing.Short() {
		t.Skip("8MiB sector: about a minute on 2 cores")
	}
	c := startCluster(t, "8MiB", "w1", "w2")
	nums := c.pledge(1)
	c.waitRunning(storiface.TTPreCommit2, 2*time.Minute)
	t.Log("killing the manager during PreCommit2")
	c.manager.kill9()
	c.manager.start(t)
	c.waitManager()
	c.waitWorkers(2)
	c.waitProving(nums, 5*time.Minute)
}
