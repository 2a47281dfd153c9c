package worker_test

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net"
	"net/http"
	"sync"
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

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

// managerProc is a manager serving its API on a real loopback listener, as `sealfleet run` does.
type managerProc struct {
	m    *manager.Manager
	addr string
	stop func()
}

func startManager(t *testing.T, addr string, d *db.DB, secret []byte) *managerProc {
	t.Helper()
	ctx := context.Background()
	idx, err := stores.NewIndex(ctx, d, stores.IndexOptions{Logger: quiet})
	if err != nil {
		t.Fatal(err)
	}
	s, err := sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stopSched := context.WithCancel(ctx)
	go s.Run(sctx)
	st, err := workertest.NewStore(ctx, t.TempDir(), workertest.NewIndex()) // the manager node has no paths of its own here
	if err != nil {
		t.Fatal(err)
	}
	m, err := manager.New(ctx, manager.Config{Logger: quiet}, manager.Deps{Index: idx, Store: st, Sched: s, DB: d, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	raw, err := net.Listen("tcp", addr)
	if err != nil {
		t.Fatal(err)
	}
	lst := &trackingListener{Listener: raw}
	srv := &http.Server{Handler: m.Handler(nil, nil)}
	go srv.Serve(lst)
	p := &managerProc{m: m, addr: lst.Addr().String()}
	p.stop = func() {
		srv.Close()
		lst.closeAll() // a dead process drops its WebSocket connections too
		m.Close()
		s.Close(ctx)
		stopSched()
	}
	return p
}

func TestDaemonConnectsRunsAndReconnects(t *testing.T) {
	ctx := context.Background()
	secret := bytes.Repeat([]byte{9}, api.SecretSize)
	mdb, err := db.OpenSQLite(t.TempDir() + "/manager.db")
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	mp := startManager(t, "127.0.0.1:0", mdb, secret)

	tok, _ := api.NewToken(secret, api.AllPermissions)
	clock := workertest.NewClock()
	backend := workertest.NewBackend()
	mURL := "http://" + mp.addr
	d, err := worker.StartDaemon(ctx, worker.DaemonConfig{
		Manager: api.Info{Token: tok, URL: mURL}, Listen: "127.0.0.1:0", Repo: t.TempDir(), Logger: quiet,
		Worker: worker.Config{Name: "remote", TaskTypes: storiface.AllTaskTypes(), IgnoreResources: true, Clock: clock},
	}, worker.DaemonDeps{Backend: backend})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	clock.WaitAfter() // the first connection attempt is done
	stats, _ := mp.m.WorkerStats(ctx)
	if len(stats) != 1 {
		t.Fatalf("manager knows %d workers, want 1", len(stats))
	}

	// /remote is served and refuses requests without an admin token.
	for _, tc := range []struct {
		name  string
		token string
		want  int
	}{
		{"no token", "", http.StatusUnauthorized},
		{"bad token", "nope", http.StatusUnauthorized},
		{"admin token", tok, http.StatusNotFound}, // authorised; the path ID does not exist
	} {
		req, _ := http.NewRequest(http.MethodGet, d.URL()+"/remote/stat/no-such-path", nil)
		if tc.token != "" {
			req.Header.Set("Authorization", "Bearer "+tc.token)
		}
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		resp.Body.Close()
		if resp.StatusCode != tc.want {
			t.Fatalf("/remote with %s: status %d, want %d", tc.name, resp.StatusCode, tc.want)
		}
	}

	sector := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 1}, ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
	proof, err := mp.m.SealCommit2(ctx, sector, storiface.Commit1Out("c1"))
	if err != nil || len(proof) == 0 {
		t.Fatalf("C2 over RPC: %v", err)
	}

	// The manager restarts on the same address; at the next heartbeat the worker connects to it again.
	mp.stop()
	mp2 := startManager(t, mp.addr, mdb, secret)
	defer mp2.stop()
	// The worker's RPC client reconnects on its own (real-time backoff inside go-jsonrpc); the fake clock drives
	// the worker's heartbeats until it has reconnected, bounded by a real deadline.
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); {
		if stats, _ := mp2.m.WorkerStats(ctx); len(stats) == 1 {
			break
		}
		clock.Advance(5 * time.Second)
		clock.WaitAfter()
	}
	if stats, _ := mp2.m.WorkerStats(ctx); len(stats) != 1 {
		t.Fatalf("restarted manager knows %d workers, want 1", len(stats))
	}
	proof2, err := mp2.m.SealCommit2(ctx, sector, storiface.Commit1Out("c1-again"))
	if err != nil || len(proof2) == 0 {
		t.Fatalf("C2 after manager restart: %v", err)
	}
}

// trackingListener remembers accepted connections so a test can drop them all, hijacked ones included.
type trackingListener struct {
	net.Listener
	mu    sync.Mutex
	conns []net.Conn
}

func (l *trackingListener) Accept() (net.Conn, error) {
	c, err := l.Listener.Accept()
	if err == nil {
		l.mu.Lock()
		l.conns = append(l.conns, c)
		l.mu.Unlock()
	}
	return c, err
}

func (l *trackingListener) closeAll() {
	l.mu.Lock()
	defer l.mu.Unlock()
	for _, c := range l.conns {
		c.Close()
	}
}
