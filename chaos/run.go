package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/internal/procs"
	"sealfleet/pipeline"
	"sealfleet/stores"
)

// Config describes one chaos run.
type Config struct {
	Binary          string        // the sealfleet executable to run (required)
	Dir             string        // where repos and logs go (required; the caller removes it)
	Seed            uint64        // picks victims and moments
	Sectors         int           // sectors to pledge (≥ 1)
	Kills           int           // kills to inject (≥ 0)
	Workers         int           // worker processes (default 3)
	SectorSize      string        // default "2KiB"
	ParentsCacheDir string        // SDR parents cache shared by the processes (default Dir/parents)
	MaxGap          time.Duration // longest wait before a kill (default 2.5 s; the wait is 200 ms + rand[0, MaxGap))
	Timeout         time.Duration // how long the sectors may take to reach Proving after the last kill (default 4 min)
	Logger          *slog.Logger  // progress (default discard)
}

// Kill is one injected fault.
type Kill struct {
	Victim  string    `json:"victim"`  // "manager" or a worker name
	AfterMs int64     `json:"afterMs"` // since the sectors were pledged
	At      time.Time `json:"-"`       // when the signal was sent
}

// String formats the kill as "<victim>@+<ms>ms".
func (k Kill) String() string { return fmt.Sprintf("%s@+%dms", k.Victim, k.AfterMs) }

// Report is what a chaos run found. OK is true when every check passed.
//
// The execution counts come from the workers' execution records (see executions.go for the rules): Executions
// counts every recorded execution of a call's work; FinishedExecutions those whose value was saved,
// FailedExecutions those whose error was saved, CutExecutions those that started in a worker lifetime a kill
// ended and never finished, RunningExecutions those still unfinished in the current lifetime.
type Report struct {
	Seed           uint64 `json:"seed"`
	Sectors        int    `json:"sectors"`
	Proving        int    `json:"proving"`
	ProofsVerified int    `json:"proofsVerified"`
	Kills          []Kill `json:"kills"`

	Executions           int            `json:"executions"`
	FinishedExecutions   int            `json:"finishedExecutions"`
	FailedExecutions     int            `json:"failedExecutions"`
	CutExecutions        int            `json:"cutExecutions"`
	RunningExecutions    int            `json:"runningExecutions"`
	WorkIDs              int            `json:"workIds"`              // distinct WorkIDs among the executions (fetches of prepare steps have none)
	ExecutionsPerWorkID  map[string]int `json:"executionsPerWorkId"`  // executions of a WorkID (any state) → how many WorkIDs had that many
	FinishedPerWorkID    map[string]int `json:"finishedPerWorkId"`    // finished executions of a WorkID → how many WorkIDs had that many
	MaxFinishedPerWorkID int            `json:"maxFinishedPerWorkId"` // 1 when nothing ran twice
	// FinishedBySectorTask and CutBySectorTask count finished and cut executions per sector name and task
	// (short name: AP, PC1, PC2, C1, C2, FIN, GET, …).
	FinishedBySectorTask map[string]map[string]int `json:"finishedBySectorTask"`
	CutBySectorTask      map[string]map[string]int `json:"cutBySectorTask"`
	RanTwice             []string                  `json:"ranTwice"` // broken at-most-once rules, one line each
	Reissued             []string                  `json:"reissued"` // second runs excused: the manager was killed before it recorded the first call

	PathsChecked        int      `json:"pathsChecked"` // storage paths asked for reservations
	LeakedReservedBytes int64    `json:"leakedReservedBytes"`
	TempFiles           []string `json:"tempFiles"`
	Failures            []string `json:"failures"`
	Seconds             float64  `json:"seconds"`
	OK                  bool     `json:"ok"`
}

// newReport returns an empty report with every list and map allocated (so the JSON shows [] and {}).
func newReport(seed uint64, sectors int) Report {
	return Report{Seed: seed, Sectors: sectors, Kills: []Kill{}, ExecutionsPerWorkID: map[string]int{},
		FinishedPerWorkID: map[string]int{}, FinishedBySectorTask: map[string]map[string]int{},
		CutBySectorTask: map[string]map[string]int{}, RanTwice: []string{}, Reissued: []string{},
		TempFiles: []string{}, Failures: []string{}}
}

func (c *Config) validate() error {
	switch {
	case c.Binary == "":
		return errors.New("chaos: Binary: want the path of the sealfleet executable")
	case c.Dir == "":
		return errors.New("chaos: Dir: want a working directory")
	case c.Sectors < 1:
		return fmt.Errorf("chaos: sectors %d: want at least 1", c.Sectors)
	case c.Kills < 0:
		return fmt.Errorf("chaos: kills %d: want 0 or more", c.Kills)
	case c.Workers < 0:
		return fmt.Errorf("chaos: workers %d: want 0 (the default, 3) or more", c.Workers)
	}
	if c.Workers == 0 {
		c.Workers = 3
	}
	if c.SectorSize == "" {
		c.SectorSize = "2KiB"
	}
	if c.ParentsCacheDir == "" {
		c.ParentsCacheDir = filepath.Join(c.Dir, "parents")
	}
	if c.MaxGap <= 0 {
		c.MaxGap = 2500 * time.Millisecond
	}
	if c.Timeout <= 0 {
		c.Timeout = 4 * time.Minute
	}
	if c.Logger == nil {
		c.Logger = slog.New(slog.DiscardHandler)
	}
	return nil
}

// Run starts the cluster, pledges the sectors, injects the kills, waits for Proving and runs the checks. An error
// means the run could not be carried out (a process would not start); a failed check is reported in Report.
func Run(ctx context.Context, cfg Config) (Report, error) {
	if err := cfg.validate(); err != nil {
		return Report{}, err
	}
	start := time.Now()
	rep := newReport(cfg.Seed, cfg.Sectors)
	c, err := startCluster(ctx, cfg)
	if c != nil {
		defer c.stop()
	}
	if err != nil {
		return rep, err
	}
	nums, err := c.pledge(ctx, cfg.Sectors)
	if err != nil {
		return rep, err
	}
	if err := c.inject(ctx, cfg, &rep); err != nil {
		return rep, err
	}
	list, err := c.waitProving(ctx, nums, cfg.Timeout)
	if err != nil {
		rep.Failures = append(rep.Failures, err.Error())
	}
	c.check(ctx, list, &rep)
	rep.Seconds = time.Since(start).Seconds()
	rep.OK = len(rep.Failures) == 0
	return rep, nil
}

// inject kills and restarts Kills random victims at random moments, as a supervisor restarting them would.
func (c *cluster) inject(ctx context.Context, cfg Config, rep *Report) error {
	rng := rand.New(rand.NewPCG(cfg.Seed, cfg.Seed^0x5ea1f1ee7))
	victims := append(append([]string(nil), c.workerNames...), "manager")
	t0 := time.Now()
	for range cfg.Kills {
		wait := 200*time.Millisecond + time.Duration(rng.Int64N(int64(cfg.MaxGap)))
		victim := victims[rng.IntN(len(victims))]
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(wait):
		}
		p := c.procs[victim]
		now := time.Now()
		rep.Kills = append(rep.Kills, Kill{Victim: victim, AfterMs: now.Sub(t0).Milliseconds(), At: now})
		cfg.Logger.Info("kill", "victim", victim)
		if err := p.kill9(); err != nil {
			return err
		}
		if err := p.Start(); err != nil {
			return err
		}
	}
	return nil
}

// sectorsAPI is the part of the manager's JSON-RPC API a chaos run calls.
type sectorsAPI struct {
	SectorsPledge func(context.Context) (abi.SectorNumber, error)
	SectorsList   func(context.Context) ([]pipeline.SectorInfo, error)
}

// cluster is the running processes and the clients that talk to the manager.
type cluster struct {
	cfg         Config
	repo        string
	procs       map[string]*proc
	workerNames []string
	workerRepos map[string]string
	info        api.Info
	mgr         api.Manager
	sectors     sectorsAPI
	closers     []func()
}

// chaosMiner is the miner ID of the run's sectors (written to the manager's config).
const chaosMiner abi.ActorID = 1000

// startCluster starts the manager and the workers and waits until the manager has every worker.
func startCluster(ctx context.Context, cfg Config) (*cluster, error) {
	c := &cluster{cfg: cfg, repo: filepath.Join(cfg.Dir, "manager"), procs: map[string]*proc{},
		workerRepos: map[string]string{}}
	if err := os.MkdirAll(c.repo, 0o755); err != nil {
		return nil, err
	}
	conf := fmt.Sprintf("[Sealing]\n  Miner = \"t0%d\"\n  WaitSeedDelay = \"0s\"\n  RetryBackoff = \"1s\"\n  MaxRetryBackoff = \"4s\"\n", chaosMiner)
	if err := os.WriteFile(filepath.Join(c.repo, "config.toml"), []byte(conf), 0o644); err != nil {
		return nil, fmt.Errorf("writing the manager's config: %w", err)
	}
	env := []string{"SEALFLEET_PARENT_CACHE=" + cfg.ParentsCacheDir, api.EnvRepo + "=", api.EnvAPIInfo + "="}
	addr, err := procs.FreeAddr()
	if err != nil {
		return nil, err
	}
	m := &proc{procs.Proc{Name: "manager", Bin: cfg.Binary, Env: env, Log: logPath(cfg.Dir, "manager"),
		Args: []string{"run", "--repo", c.repo, "--listen", addr, "--sector-size", cfg.SectorSize, "--no-local-worker"}}}
	c.procs["manager"] = m
	if err := m.Start(); err != nil {
		return c, err
	}
	if err := c.dial(ctx); err != nil {
		return c, err
	}
	for i := range cfg.Workers {
		if err := c.startWorker(fmt.Sprintf("w%d", i+1), env); err != nil {
			return c, err
		}
	}
	return c, procs.Poll(ctx, fmt.Sprintf("%d workers connected", cfg.Workers), time.Minute, 100*time.Millisecond, func() (bool, error) {
		stats, err := c.mgr.WorkerStats(ctx)
		n := 0
		for _, s := range stats {
			if s.Enabled {
				n++
			}
		}
		return n == cfg.Workers, err
	})
}

// dial waits for the manager to serve and connects the clients (plain HTTP: they survive manager restarts).
func (c *cluster) dial(ctx context.Context) error {
	m := c.procs["manager"]
	return procs.Poll(ctx, "the manager serving", time.Minute, 100*time.Millisecond, func() (bool, error) {
		select {
		case <-m.Done():
			return false, procs.Fatal{Msg: "the manager exited: " + m.Tail(2000)}
		default:
		}
		info, err := api.ReadInfo(c.repo)
		if err != nil {
			return false, err
		}
		m, closer, err := api.NewManagerClient(ctx, info, api.ClientOptions{Scheme: "http"})
		if err != nil {
			return false, err
		}
		if _, err := m.Version(ctx); err != nil {
			closer()
			return false, err
		}
		addr, err := info.RPCAddr("http")
		if err != nil {
			closer()
			return false, err
		}
		sc, err := jsonrpc.NewMergeClient(ctx, addr, api.Namespace, []any{&c.sectors}, info.Header())
		if err != nil {
			closer()
			return false, err
		}
		c.info, c.mgr, c.closers = info, m, append(c.closers, closer, sc)
		return true, nil
	})
}

// startWorker prepares a worker repo with one seal+store path and starts the worker.
func (c *cluster) startWorker(name string, env []string) error {
	repo := filepath.Join(c.cfg.Dir, name)
	root := filepath.Join(repo, "store")
	if _, err := stores.InitPath(root, stores.LocalStorageMeta{Weight: 10, CanSeal: true, CanStore: true}); err != nil {
		return fmt.Errorf("preparing the storage of %s: %w", name, err)
	}
	b, err := json.Marshal(stores.StorageConfig{StoragePaths: []stores.LocalPath{{Path: root}}})
	if err != nil {
		return err
	}
	if err := os.WriteFile(filepath.Join(repo, "storage.json"), b, 0o644); err != nil {
		return fmt.Errorf("writing the storage config of %s: %w", name, err)
	}
	addr, err := procs.FreeAddr()
	if err != nil {
		return err
	}
	p := &proc{procs.Proc{Name: name, Bin: c.cfg.Binary, Env: env, Log: logPath(c.cfg.Dir, name),
		Args: []string{"worker", "run", "--repo", c.repo, "--worker-repo", repo, "--listen", addr, "--name", name}}}
	c.procs[name], c.workerRepos[name] = p, repo
	c.workerNames = append(c.workerNames, name)
	return p.Start()
}

// pledge pledges n sectors.
func (c *cluster) pledge(ctx context.Context, n int) ([]abi.SectorNumber, error) {
	var nums []abi.SectorNumber
	for range n {
		num, err := c.sectors.SectorsPledge(ctx)
		if err != nil {
			return nil, fmt.Errorf("pledging a sector: %w", err)
		}
		nums = append(nums, num)
	}
	return nums, nil
}

// stop stops every process and closes the clients.
func (c *cluster) stop() {
	for _, cl := range c.closers {
		cl()
	}
	for _, p := range c.procs {
		p.Stop(10 * time.Second)
	}
}
