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
// clock that the test advances by this much per poll, so checks happen when the test asks for them; the real
// bound on one Session call is half of it.
const partitionInterval = 2 * time.Second

// TestWorkerPartition cuts one of two remote workers off the network and brings it back: the manager's session
// heartbeat disables it, new work goes to the other worker, and the heartbeat re-enables it once it answers on
// the same address again, after which it takes work again.
func TestWorkerPartition(t *testing.T) {
	ctx := context.Background()
	secret := bytes.Repeat([]byte{7}, api.SecretSize)
	tok, _ := api.NewToken(secret, api.AllPermissions)
	mdb, err := db.OpenSQLite(t.TempDir() + "/manager.db")
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	schedClock := sched.NewFakeClock(time.Unix(0, 0))
	m, mURL := startPartitionManager(t, mdb, secret, schedClock)

	// Each worker is reached only through a proxy whose listener the test owns: cutting the proxy is a network
	// partition between the manager and that worker (the worker itself keeps running).
	type node struct {
		name    string
		backend *workertest.Backend
		proxy   *partitionProxy
		url     string
	}
	var nodes []*node
	for _, name := range []string{"a", "b"} {
		n := &node{name: name, backend: workertest.NewBackend()}
		clock := workertest.NewClock()
		lst, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		n.url = "http://" + lst.Addr().String()
		// The daemon's own address: a free loopback port, since with Advertise set the daemon reports only
		// the advertised URL.
		real, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		realAddr := real.Addr().String()
		real.Close()
		n.proxy = newPartitionProxy(lst, realAddr)
		defer n.proxy.cut()
		d, err := worker.StartDaemon(ctx, worker.DaemonConfig{
			Manager: api.Info{Token: tok, URL: mURL}, Listen: realAddr, Advertise: n.url,
			Repo: t.TempDir(), Logger: quiet,
			Worker: worker.Config{Name: name, TaskTypes: []storiface.TaskType{storiface.TTCommit2},
				IgnoreResources: true, Clock: clock},
		}, worker.DaemonDeps{Backend: n.backend})
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		clock.WaitAfter() // connected to the manager
		nodes = append(nodes, n)
	}
	a, b := nodes[0], nodes[1]
	stats, _ := m.WorkerStats(ctx)
	if len(stats) != 2 {
		t.Fatalf("manager knows %d workers, want 2", len(stats))
	}
	idOf := func(n *node) string {
		for id, st := range stats {
			if st.Info.Name == n.name {
				return id.String()
			}
		}
		t.Fatalf("manager has no worker named %q in %+v", n.name, stats)
		return ""
	}
	aID := idOf(a)
	enabled := func(id string) (bool, bool) {
		st, _ := m.WorkerStats(ctx)
		for wid, s := range st {
			if wid.String() == id {
				return s.Enabled, true
			}
		}
		return false, false
	}
	// waitEnabled advances the scheduler's clock one heartbeat per poll until the worker's Enabled is want.
	waitEnabled := func(id string, want bool) {
		t.Helper()
		for deadline := time.Now().Add(30 * time.Second); time.Now().Before(deadline); {
			if got, ok := enabled(id); ok && got == want {
				return
			} else if !ok {
				t.Fatalf("manager no longer knows worker %s", id)
			}
			schedClock.Advance(partitionInterval)
			<-time.After(10 * time.Millisecond) // poll interval, not synchronisation: the result is re-read
		}
		t.Fatalf("worker %s: Enabled did not become %v within 30s", id, want)
	}
	c2 := func(num abi.SectorNumber) error {
		sector := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: num},
			ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
		cctx, cancel := context.WithTimeout(ctx, 30*time.Second)
		defer cancel()
		if _, err := m.SealCommit2(cctx, sector, storiface.Commit1Out{byte(num)}); err != nil {
			return fmt.Errorf("C2 of sector %d: %w", num, err)
		}
		return nil
	}

	waitEnabled(aID, true) // a healthy heartbeat leaves it enabled

	// Partition A: its listener and every open connection through it go away.
	a.proxy.cut()
	waitEnabled(aID, false)
	if got, _ := enabled(idOf(b)); !got {
		t.Fatal("worker b was disabled by a's partition")
	}
	aBefore, bBefore := a.backend.Calls("SealCommit2"), b.backend.Calls("SealCommit2")
	const during = 3
	for i := range during {
		if err := c2(abi.SectorNumber(100 + i)); err != nil {
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
	waitEnabled(aID, true)

	// And it takes work again: two C2 calls held inside the backends at once land one on each worker (the
	// spread assigner puts the second on the idle one).
	releaseA, releaseB := a.backend.Hold("SealCommit2"), b.backend.Hold("SealCommit2")
	aBefore, bBefore = a.backend.Calls("SealCommit2"), b.backend.Calls("SealCommit2")
	errs := make(chan error, 2)
	entered := map[string]int{}
	for i := range 2 {
		go func() { errs <- c2(abi.SectorNumber(200 + i)) }()
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
