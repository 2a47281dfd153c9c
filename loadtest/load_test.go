package loadtest

import (
	"context"
	"encoding/json"
	"fmt"
	"log/slog"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/node"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

// scale is one load level.
type scale struct {
	workers  int
	requests int
	samples  int // calls of each measured method
	diag     bool
}

// TestLoad connects the workers, queues the requests (AddPiece of sectors no worker accepts, so they stay queued)
// and calls WorkerJobs, SchedDiag and SchedDiagRequest over RPC, then WorkerJobs again while SchedDiag runs in a
// loop (both take the scheduler's lock). It checks nothing is dropped (every worker connected, every request
// counted by SchedDiag) and reports latency percentiles, SchedDiag's answer size and heap use; speed is reported,
// not asserted. Short scale: 20 workers, 1,000 requests; SEALFLEET_LONG=1: 500 workers, 20,000 requests.
// SEALFLEET_LOAD_WORKERS/REQUESTS override the scale; SEALFLEET_LOAD_DIAG=0 leaves the SchedDiag calls out.
func TestLoad(t *testing.T) {
	sc := scale{workers: 20, requests: 1000, samples: 10, diag: true}
	if os.Getenv("SEALFLEET_LONG") == "1" {
		sc = scale{workers: 500, requests: 20000, samples: 50, diag: true}
	}
	for env, dst := range map[string]*int{"SEALFLEET_LOAD_WORKERS": &sc.workers, "SEALFLEET_LOAD_REQUESTS": &sc.requests} {
		if v := os.Getenv(env); v != "" {
			if _, err := fmt.Sscan(v, dst); err != nil || *dst < 1 {
				t.Fatalf("%s=%q: want a positive count", env, v)
			}
		}
	}
	if os.Getenv("SEALFLEET_LOAD_DIAG") == "0" {
		sc.diag = false
	}
	if testing.Short() {
		t.Skip("load test: starts a node and many workers")
	}
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	n, repo, client := startManager(t, ctx)

	t0 := time.Now()
	connectWorkers(t, ctx, repo, client, sc.workers)
	t.Logf("%d workers connected over RPC in %v", sc.workers, time.Since(t0).Round(time.Millisecond))
	if stats, err := client.WorkerStats(ctx); err != nil || len(stats) != sc.workers {
		t.Fatalf("WorkerStats: %d workers, %v; want %d", len(stats), err, sc.workers)
	}

	t0 = time.Now()
	var wg sync.WaitGroup
	reqCtx, stopReqs := context.WithCancel(ctx)
	for i := range sc.requests {
		wg.Add(1)
		go func() {
			defer wg.Done()
			s := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(i)},
				ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
			_, _ = n.Manager().AddPiece(reqCtx, s, nil, abi.PaddedPieceSize(2048).Unpadded(), storiface.PieceData{})
		}()
	}
	defer func() { stopReqs(); wg.Wait() }()
	waitQueued(t, n, sc.requests)
	t.Logf("%d requests queued in %v", sc.requests, time.Since(t0).Round(time.Millisecond))

	jobs := measure(t, sc.samples, func() error { _, err := client.WorkerJobs(ctx); return err })
	t.Logf("WorkerJobs over RPC: %s", jobs)
	if sc.diag {
		measureDiag(t, ctx, client, sc)
	}
	var ms runtime.MemStats
	runtime.GC()
	runtime.ReadMemStats(&ms)
	t.Logf("heap in use after GC: %d MiB (manager, %d workers and their servers in one process), goroutines %d",
		ms.HeapInuse>>20, sc.workers, runtime.NumGoroutine())
}

// measureDiag times SchedDiag and SchedDiagRequest over RPC, checks SchedDiag counts every request, and times
// WorkerJobs while a goroutine calls SchedDiag in a loop: how much a diagnosis delays other calls that need the
// scheduler's lock.
func measureDiag(t *testing.T, ctx context.Context, client api.Manager, sc scale) {
	t.Helper()
	var size, groups int
	var first uuid.UUID
	diag := measure(t, sc.samples, func() error {
		d, err := client.SchedDiag(ctx)
		if err != nil {
			return err
		}
		b, _ := json.Marshal(d)
		size, groups = len(b), len(d.Requests)
		total := 0
		for _, r := range d.Requests {
			total += r.Count
		}
		if total != sc.requests || d.Waiting != sc.requests {
			return fmt.Errorf("SchedDiag counts %d requests in %d groups (Waiting %d), want %d (dropped?)", total,
				len(d.Requests), d.Waiting, sc.requests)
		}
		first = d.Requests[0].IDs[len(d.Requests[0].IDs)-1]
		return nil
	})
	t.Logf("SchedDiag over RPC: %s; answer %d bytes, %d group(s)", diag, size, groups)
	var rejections int
	one := measure(t, sc.samples, func() error {
		dr, err := client.SchedDiagRequest(ctx, first)
		rejections = len(dr.Rejections)
		return err
	})
	t.Logf("SchedDiagRequest over RPC: %s; %d per-worker answers", one, rejections)
	if rejections != sc.workers {
		t.Fatalf("SchedDiagRequest: %d per-worker answers, want %d", rejections, sc.workers)
	}
	jobs := func() error { _, err := client.WorkerJobs(ctx); return err }
	during, n := measureWhile(t, sc.samples, func() error { _, err := client.SchedDiag(ctx); return err }, jobs)
	t.Logf("WorkerJobs over RPC while SchedDiag runs in a loop (%d calls): %s", n, during)
	// The control: the same with a call of a similar answer size that holds the scheduler's lock only to copy
	// the workers' stats, so the difference is what SchedDiag's own work costs the other call.
	during, n = measureWhile(t, sc.samples, func() error { _, err := client.WorkerStats(ctx); return err }, jobs)
	t.Logf("WorkerJobs over RPC while WorkerStats runs in a loop (%d calls): %s", n, during)
}

// measureWhile measures f n times while a goroutine calls loop back to back; it returns the latencies and how
// many loop calls completed.
func measureWhile(t *testing.T, n int, loop, f func() error) (latencies, int) {
	t.Helper()
	stop := make(chan struct{})
	looped := make(chan int)
	go func() {
		calls := 0
		defer func() { looped <- calls }()
		for {
			select {
			case <-stop:
				return
			default:
			}
			if loop() != nil {
				return
			}
			calls++
		}
	}()
	l := measure(t, n, f)
	close(stop)
	return l, <-looped
}

// latencies summarises measured call times.
type latencies []time.Duration

func (l latencies) String() string {
	s := slices.Clone(l)
	slices.Sort(s)
	q := func(p float64) time.Duration { return s[min(len(s)-1, int(p*float64(len(s))))] }
	return fmt.Sprintf("n=%d p50=%v p99=%v max=%v", len(s), q(0.50).Round(time.Microsecond),
		q(0.99).Round(time.Microsecond), s[len(s)-1].Round(time.Microsecond))
}

// measure calls f n times in a row and returns the durations; an error fails the test.
func measure(t *testing.T, n int, f func() error) latencies {
	t.Helper()
	out := make(latencies, 0, n)
	for range n {
		t0 := time.Now()
		if err := f(); err != nil {
			t.Fatal(err)
		}
		out = append(out, time.Since(t0))
	}
	return out
}

// startManager runs an all-in-one node without a local worker and returns it with an admin RPC client (HTTP).
func startManager(t *testing.T, ctx context.Context) (*node.Node, string, api.Manager) {
	t.Helper()
	cfg := node.DefaultConfig()
	cfg.API.ListenAddress = "127.0.0.1:0"
	cfg.Sealing.SectorSize = "2KiB"
	cfg.Sealer.NoLocalWorker = true
	repo := t.TempDir()
	n, err := node.New(ctx, cfg, node.Options{Repo: repo, Logger: slog.New(slog.DiscardHandler), ParentsCacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	done := make(chan error, 1)
	runCtx, stop := context.WithCancel(ctx)
	go func() { done <- n.Run(runCtx) }()
	t.Cleanup(func() { stop(); <-done; n.Close() })
	client, closer, err := api.NewManagerClient(ctx, api.Info{URL: n.URL(), Token: n.AdminToken()}, api.ClientOptions{Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closer)
	return n, repo, client
}

// connectWorkers starts count workers, each a LocalWorker with a fast test backend that accepts only Fetch,
// served on its own loopback server, and connects each through the manager's RPC WorkerConnect.
func connectWorkers(t *testing.T, ctx context.Context, repo string, client api.Manager, count int) {
	t.Helper()
	secret, err := api.ReadSecret(repo)
	if err != nil {
		t.Fatal(err)
	}
	verify := api.Verifier(secret)
	res := storiface.WorkerResources{MemPhysical: 1 << 30, MemSwap: 0, CPUs: 1}
	for i := range count {
		dir := t.TempDir()
		d, err := db.OpenSQLite(filepath.Join(dir, "worker.db"))
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		idx := workertest.NewIndex()
		st, err := workertest.NewStore(ctx, dir, idx)
		if err != nil {
			t.Fatal(err)
		}
		w, err := worker.New(ctx, worker.Config{Name: fmt.Sprintf("load-%d", i), TaskTypes: []storiface.TaskType{storiface.TTFetch},
			Resources: res, Logger: slog.New(slog.DiscardHandler)},
			worker.Deps{Backend: workertest.NewBackend(), Store: st, Index: idx, Local: st, Return: workertest.NewReturns(), DB: d})
		if err != nil {
			t.Fatal(err)
		}
		srv := httptest.NewServer(api.WorkerHandler(w, verify))
		t.Cleanup(func() { srv.Close(); w.Close() })
		if err := client.WorkerConnect(ctx, srv.URL+api.RPCPath); err != nil {
			t.Fatalf("worker %d: %v", i, err)
		}
	}
}

// waitQueued waits until the node's sched_queue_length gauges (updated by its observer) add up to want.
func waitQueued(t *testing.T, n *node.Node, want int) {
	t.Helper()
	deadline := time.Now().Add(5 * time.Minute)
	tick := time.NewTicker(200 * time.Millisecond)
	defer tick.Stop()
	for {
		fams, err := n.Metrics().Registry().Gather()
		if err != nil {
			t.Fatal(err)
		}
		queued := 0.0
		for _, f := range fams {
			if f.GetName() != "sealfleet_sched_queue_length" && f.GetName() != "sched_queue_length" {
				continue
			}
			for _, m := range f.GetMetric() {
				queued += m.GetGauge().GetValue()
			}
		}
		if int(queued) >= want {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("only %v of %d requests queued after 5 minutes", queued, want)
		}
		<-tick.C
	}
}
