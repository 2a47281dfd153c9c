package worker_test

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/manager"
	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

// partitionInterval is the scheduler's session heartbeat in the partition test. The scheduler runs on a fake
// clock that the test advances by this much per poll, so checks happen when the test asks for them. The real-time
// bound on one Session call is half of it (5 s): generous, so a healthy worker slowed by -race is not disabled;
// the cut-off worker fails at once (its connection is gone), so detection stays fast.
const partitionInterval = 10 * time.Second

// TestWorkerPartition cuts one of two remote workers off the network and brings it back: the manager's session
// heartbeat disables it, new work goes to the other worker, and the heartbeat re-enables it once it answers on
// the same address again, after which it takes work again.
func TestWorkerPartition(t *testing.T) {
	c := startPartitionCluster(t, worker.Config{TaskTypes: []storiface.TaskType{storiface.TTCommit2},
		IgnoreResources: true})
	a, b := c.nodes[0], c.nodes[1]
	aID := a.id

	c.waitEnabled(aID, true) // a healthy heartbeat leaves it enabled

	// Partition A: its listener and every open connection through it go away.
	a.proxy.cut()
	c.waitEnabled(aID, false)
	if got, _ := c.enabled(b.id); !got {
		t.Fatal("worker b was disabled by a's partition")
	}
	aBefore, bBefore := a.backend.Calls("SealCommit2"), b.backend.Calls("SealCommit2")
	const during = 3
	for i := range during {
		if err := c.c2(abi.SectorNumber(100 + i)); err != nil {
			t.Fatal(err)
		}
	}
	if got := a.backend.Calls("SealCommit2") - aBefore; got != 0 {
		t.Fatalf("partitioned worker a ran %d C2 calls, want 0", got)
	}
	if got := b.backend.Calls("SealCommit2") - bBefore; got != during {
		t.Fatalf("worker b ran %d C2 calls during the partition, want %d", got, during)
	}

	// A returns on the same address: the next good heartbeat re-enables it.
	if err := a.proxy.serveAgain(); err != nil {
		t.Fatal(err)
	}
	c.waitEnabled(aID, true)

	// And it takes work again: two C2 calls held inside the backends at once land one on each worker (the
	// spread assigner puts the second on the idle one).
	releaseA, releaseB := a.backend.Hold("SealCommit2"), b.backend.Hold("SealCommit2")
	aBefore, bBefore = a.backend.Calls("SealCommit2"), b.backend.Calls("SealCommit2")
	errs := make(chan error, 2)
	entered := map[string]int{}
	for i := range 2 {
		go func() { errs <- c.c2(abi.SectorNumber(200 + i)) }()
		select {
		case <-a.backend.Entered:
			entered["a"]++
		case <-b.backend.Entered:
			entered["b"]++
		case <-time.After(30 * time.Second):
			releaseA()
			releaseB()
			t.Fatalf("C2 %d did not start within 30s (started so far: %v)", i, entered)
		}
	}
	releaseA()
	releaseB()
	for range 2 {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
	if entered["a"] != 1 || entered["b"] != 1 {
		t.Fatalf("after a's return two concurrent C2 calls started %v, want one on each worker", entered)
	}
	if ga, gb := a.backend.Calls("SealCommit2")-aBefore, b.backend.Calls("SealCommit2")-bBefore; ga != 1 || gb != 1 {
		t.Fatalf("after a's return a ran %d and b ran %d C2 calls, want 1 each", ga, gb)
	}
}

// TestWorkerPartitionRequeuesWaitingTask checks that a task waiting in a worker's window when that worker is
// cut off goes back to the queue once the heartbeat disables it, and runs on the other worker. Each worker has
// one GPU, so it runs one C2 at a time: with both busy on held C2 calls, a third C2 waits in one of them.
func TestWorkerPartitionRequeuesWaitingTask(t *testing.T) {
	c := startPartitionCluster(t, worker.Config{TaskTypes: []storiface.TaskType{storiface.TTCommit2},
		Resources: storiface.WorkerResources{MemPhysical: 1 << 30, CPUs: 1, GPUs: []string{"test-gpu"}}})
	a, b := c.nodes[0], c.nodes[1]
	releaseA, releaseB := a.backend.Hold("SealCommit2"), b.backend.Hold("SealCommit2")
	released := map[*partitionNode]bool{}
	release := func(n *partitionNode) {
		if !released[n] {
			released[n] = true
			map[*partitionNode]func(){a: releaseA, b: releaseB}[n]()
		}
	}
	defer release(a)
	defer release(b)

	errs := map[abi.SectorNumber]chan error{}
	start := func(num abi.SectorNumber) {
		ch := make(chan error, 1)
		errs[num] = ch
		go func() { ch <- c.c2(num) }()
	}
	running := map[*partitionNode]abi.SectorNumber{}
	for _, num := range []abi.SectorNumber{1, 2} {
		start(num)
		select {
		case <-a.backend.Entered:
			running[a] = num
		case <-b.backend.Entered:
			running[b] = num
		case <-time.After(30 * time.Second):
			t.Fatalf("C2 %d did not start within 30s", num)
		}
	}
	if len(running) != 2 {
		t.Fatalf("two C2 calls started on %d worker(s), want one on each", len(running))
	}

	// The third waits in a window of one worker: that one is cut off.
	start(3)
	var cut, other *partitionNode
	for deadline := time.Now().Add(30 * time.Second); cut == nil; {
		for i, n := range c.nodes {
			if st, _ := c.stats(n.id); st.Waiting == 1 {
				cut, other = n, c.nodes[1-i]
			}
		}
		if cut == nil {
			if time.Now().After(deadline) {
				t.Fatal("third C2 is not waiting in a window within 30s")
			}
			<-time.After(10 * time.Millisecond) // poll interval
		}
	}
	cutBefore := cut.backend.Calls("SealCommit2")
	cut.proxy.cut()
	c.waitEnabled(cut.id, false)
	if st, _ := c.stats(cut.id); st.Waiting != 0 {
		t.Fatalf("disabled worker %s still has %d waiting task(s)", cut.name, st.Waiting)
	}
	for deadline := time.Now().Add(30 * time.Second); ; {
		if st, _ := c.stats(other.id); st.Waiting == 1 {
			break // the requeued C2 now waits on the other worker
		}
		if time.Now().After(deadline) {
			t.Fatalf("requeued C2 is not waiting on worker %s within 30s", other.name)
		}
		<-time.After(10 * time.Millisecond) // poll interval
	}

	// Once the other worker's C2 finishes, the requeued C2 runs there.
	otherBefore := other.backend.Calls("SealCommit2")
	release(other)
	for _, num := range []abi.SectorNumber{running[other], 3} {
		if err := <-errs[num]; err != nil {
			t.Fatal(err)
		}
	}
	if got := other.backend.Calls("SealCommit2") - otherBefore; got != 1 {
		t.Fatalf("worker %s ran %d more C2 calls, want 1 (the requeued one)", other.name, got)
	}
	if got := cut.backend.Calls("SealCommit2") - cutBefore; got != 0 {
		t.Fatalf("cut-off worker %s started %d more C2 calls, want 0", cut.name, got)
	}
	release(cut)
	<-errs[running[cut]] // its outcome is not the subject here; wait so nothing outlives the test
}

// partitionNode is one remote worker of a partition cluster, reached by the manager only through proxy.
type partitionNode struct {
	name    string
	id      string
	backend *workertest.Backend
	proxy   *partitionProxy
}

// partitionCluster is a manager whose scheduler runs on a fake clock, and two worker daemons "a" and "b".
type partitionCluster struct {
	t     *testing.T
	m     *manager.Manager
	clock *sched.FakeClock
	nodes []*partitionNode
}

// startPartitionCluster starts the manager and two workers configured as wcfg (Name and Clock are set here).
// Everything stops when the test ends.
func startPartitionCluster(t *testing.T, wcfg worker.Config) *partitionCluster {
	t.Helper()
	ctx := context.Background()
	secret := bytes.Repeat([]byte{7}, api.SecretSize)
	tok, _ := api.NewToken(secret, api.AllPermissions)
	mdb, err := db.OpenSQLite(t.TempDir() + "/manager.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { mdb.Close() })
	c := &partitionCluster{t: t, clock: sched.NewFakeClock(time.Unix(0, 0))}
	var mURL string
	c.m, mURL = startPartitionManager(t, mdb, secret, c.clock)

	// Each worker is reached only through a proxy whose listener the test owns: cutting the proxy is a network
	// partition between the manager and that worker (the worker itself keeps running).
	for _, name := range []string{"a", "b"} {
		n := &partitionNode{name: name, backend: workertest.NewBackend()}
		clock := workertest.NewClock()
		lst, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		// The daemon's own address: a free loopback port, since with Advertise set the daemon reports only
		// the advertised URL.
		real, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		realAddr := real.Addr().String()
		real.Close()
		n.proxy = newPartitionProxy(lst, realAddr)
		cfg := wcfg
		cfg.Name, cfg.Clock = name, clock
		d, err := worker.StartDaemon(ctx, worker.DaemonConfig{
			Manager: api.Info{Token: tok, URL: mURL}, Listen: realAddr, Advertise: "http://" + lst.Addr().String(),
			Repo: t.TempDir(), Logger: quiet, Worker: cfg,
		}, worker.DaemonDeps{Backend: n.backend})
		if err != nil {
			n.proxy.cut()
			t.Fatal(err)
		}
		t.Cleanup(func() { d.Close() })
		t.Cleanup(n.proxy.cut) // runs before d.Close
		clock.WaitAfter()      // connected to the manager
		c.nodes = append(c.nodes, n)
	}
	stats, _ := c.m.WorkerStats(ctx)
	if len(stats) != 2 {
		t.Fatalf("manager knows %d workers, want 2", len(stats))
	}
	for _, n := range c.nodes {
		for id, st := range stats {
			if st.Info.Name == n.name {
				n.id = id.String()
			}
		}
		if n.id == "" {
			t.Fatalf("manager has no worker named %q in %+v", n.name, stats)
		}
	}
	return c
}

// stats returns the manager's view of the worker id, and whether it knows it.
func (c *partitionCluster) stats(id string) (sched.WorkerStats, bool) {
	st, _ := c.m.WorkerStats(context.Background())
	for wid, s := range st {
		if wid.String() == id {
			return s, true
		}
	}
	return sched.WorkerStats{}, false
}

// enabled reports whether the manager has worker id enabled, and whether it knows it.
func (c *partitionCluster) enabled(id string) (bool, bool) {
	s, ok := c.stats(id)
	return s.Enabled, ok
}

// waitEnabled advances the scheduler's clock one heartbeat per poll until the worker's Enabled is want, failing
// the test after 30 s.
func (c *partitionCluster) waitEnabled(id string, want bool) {
	c.t.Helper()
	for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
		if got, ok := c.enabled(id); ok && got == want {
			return
		} else if !ok {
			c.t.Fatalf("manager no longer knows worker %s", id)
		}
		c.clock.Advance(partitionInterval)
		<-time.After(10 * time.Millisecond) // poll interval, not synchronisation: the result is re-read
	}
	c.t.Fatalf("worker %s: Enabled did not become %v within 30s", id, want)
}

// c2 runs a Commit2 of sector num through the manager (bounded to 30 s).
func (c *partitionCluster) c2(num abi.SectorNumber) error {
	sector := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: num},
		ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	if _, err := c.m.SealCommit2(ctx, sector, storiface.Commit1Out{byte(num)}); err != nil {
		return fmt.Errorf("C2 of sector %d: %w", num, err)
	}
	return nil
}

// startPartitionManager starts a manager whose scheduler checks worker sessions every partitionInterval of clock
// and spreads tasks by count, serving its API on loopback. Everything stops when the test ends.
func startPartitionManager(t *testing.T, d *db.DB, secret []byte, clock sched.Clock) (*manager.Manager, string) {
	t.Helper()
	ctx := context.Background()
	idx, err := stores.NewIndex(ctx, d, stores.IndexOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sched.New(sched.Config{Clock: clock, SessionInterval: partitionInterval, Assigner: sched.AssignerSpread,
		Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopSched := context.WithCancel(ctx)
	go s.Run(sctx)
	st, err := workertest.NewStore(ctx, t.TempDir(), workertest.NewIndex())
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(ctx, manager.Config{Logger: quiet}, manager.Deps{Index: idx, Store: st, Sched: s, DB: d, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	lst, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv := &http.Server{Handler: m.Handler(nil, nil)}
	go srv.Serve(lst)
	t.Cleanup(func() {
		srv.Close()
		m.Close()
		s.Close(ctx)
		stopSched()
	})
	return m, "http://" + lst.Addr().String()
}

// partitionProxy forwards TCP connections from a listener the test owns to a worker's real address. cut closes
// the listener and every connection through it; serveAgain listens on the same address again.
type partitionProxy struct {
	addr   string
	target string
	mu     sync.Mutex
	lst    net.Listener
	conns  map[net.Conn]struct{}
	wg     sync.WaitGroup
}

func newPartitionProxy(lst net.Listener, target string) *partitionProxy {
	p := &partitionProxy{addr: lst.Addr().String(), target: target, conns: map[net.Conn]struct{}{}}
	p.serve(lst)
	return p
}

func (p *partitionProxy) serve(lst net.Listener) {
	p.mu.Lock()
	p.lst = lst
	p.mu.Unlock()
	p.wg.Add(1)
	go func() {
		defer p.wg.Done()
		for {
			c, err := lst.Accept()
			if err != nil {
				return
			}
			p.wg.Add(1)
			go func() {
				defer p.wg.Done()
				p.forward(c)
			}()
		}
	}()
}

// forward copies both ways between c and a new connection to the target until either side closes.
func (p *partitionProxy) forward(c net.Conn) {
	up, err := net.Dial("tcp", p.target)
	if err != nil {
		c.Close()
		return
	}
	if !p.track(c, up) {
		return
	}
	done := make(chan struct{}, 2)
	go func() { io.Copy(up, c); done <- struct{}{} }()
	go func() { io.Copy(c, up); done <- struct{}{} }()
	<-done
	p.untrack(c, up)
	<-done
}

// track registers the pair, or closes it when the proxy was cut meanwhile.
func (p *partitionProxy) track(cs ...net.Conn) bool {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.lst == nil {
		for _, c := range cs {
			c.Close()
		}
		return false
	}
	for _, c := range cs {
		p.conns[c] = struct{}{}
	}
	return true
}

func (p *partitionProxy) untrack(cs ...net.Conn) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, c := range cs {
		c.Close()
		delete(p.conns, c)
	}
}

// cut closes the listener and all forwarded connections and waits for the forwarding goroutines. Idempotent.
func (p *partitionProxy) cut() {
	p.mu.Lock()
	if p.lst != nil {
		p.lst.Close()
		p.lst = nil
	}
	for c := range p.conns {
		c.Close()
		delete(p.conns, c)
	}
	p.mu.Unlock()
	p.wg.Wait()
}

// serveAgain listens on the proxy's original address again, retrying briefly if the port is still being released.
func (p *partitionProxy) serveAgain() error {
	var lst net.Listener
	var err error
	for deadline := time.Now().Add(10 * time.Second); time.Now().Before(deadline); {
		if lst, err = net.Listen("tcp", p.addr); err == nil {
			p.serve(lst)
			return nil
		}
		if !errors.Is(err, syscall.EADDRINUSE) {
			break
		}
		<-time.After(50 * time.Millisecond)
	}
	return err
}
