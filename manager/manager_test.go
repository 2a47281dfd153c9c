package manager

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

var quiet = slog.New(slog.NewTextHandler(io.Discard, nil))

var testSector = storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 3},
	ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}

var testSecret = bytes.Repeat([]byte{0x42}, api.SecretSize)

// rig is a manager node built from real parts (scheduler, manager, LocalWorker, SQLite) over in-memory fakes of
// the index, store and sealing backend.
type rig struct {
	t       *testing.T
	ctx     context.Context
	dbPath  string
	idx     *workertest.Index
	store   *workertest.Store
	backend *workertest.Backend
	clock   *workertest.Clock
	ret     *switchReturn
	// wrapSched, if set, wraps the scheduler the next startManager gives its manager.
	wrapSched func(Scheduler) Scheduler
}

func newRig(t *testing.T) *rig {
	t.Helper()
	idx := workertest.NewIndex()
	st, err := workertest.NewStore(context.Background(), t.TempDir(), idx)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{t: t, ctx: context.Background(), dbPath: t.TempDir() + "/sealfleet.db", idx: idx, store: st,
		backend: workertest.NewBackend(), clock: workertest.NewClock(), ret: &switchReturn{}}
}

func (r *rig) openDB() *db.DB {
	r.t.Helper()
	d, err := db.OpenSQLite(r.dbPath)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { d.Close() })
	return d
}

// node is one manager process: its scheduler and manager.
type node struct {
	m       *Manager
	s       *sched.Scheduler
	close   func()
	started chan WorkID // receives each work whose worker call ID the tracker recorded
}

// startManager starts a manager (and scheduler) on the rig's database; with backend it runs an embedded worker.
func (r *rig) startManager(withLocalWorker bool) *node {
	r.t.Helper()
	s, err := sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		r.t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	go s.Run(sctx)
	deps := Deps{Index: r.idx, Store: r.store, Local: r.store, Sched: s, DB: r.openDB(), Secret: testSecret}
	if r.wrapSched != nil {
		deps.Sched = r.wrapSched(s)
	}
	if withLocalWorker {
		deps.Backend = r.backend
	}
	m, err := New(r.ctx, Config{Sealer: DefaultSealerConfig(), Logger: quiet}, deps)
	if err != nil {
		r.t.Fatal(err)
	}
	r.ret.set(m)
	started := make(chan WorkID, 16)
	m.ct.onStarted = func(wid WorkID) {
		select {
		case started <- wid:
		default: // nobody is watching (long runs): never block the tracker
		}
	}
	var once sync.Once
	n := &node{m: m, s: s, started: started, close: func() {
		once.Do(func() {
			r.ret.set(nil)
			m.Close()
			s.Close(context.Background())
			stop()
		})
	}}
	r.t.Cleanup(n.close)
	return n
}

// startWorker starts a standalone LocalWorker on its own database that returns to whichever manager runs.
func (r *rig) startWorker(dbPath string) *worker.LocalWorker {
	r.t.Helper()
	d, err := db.OpenSQLite(dbPath)
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { d.Close() })
	w, err := worker.New(r.ctx, worker.Config{Name: "w", TaskTypes: storiface.AllTaskTypes(), IgnoreResources: true,
		Clock: r.clock, Logger: quiet},
		worker.Deps{Backend: r.backend, Store: r.store, Index: r.idx, Local: r.store, Return: r.ret, DB: d})
	if err != nil {
		r.t.Fatal(err)
	}
	r.t.Cleanup(func() { w.Close() })
	return w
}

// keepOpen stops a manager's Close from closing a worker that outlives it (the worker is another process).
type keepOpen struct{ *worker.LocalWorker }

func (keepOpen) Close() error { return nil }

// addWorker adds standalone worker w to the manager, kept open across the manager's Close (keepOpen), and
// returns its ID.
func (n *node) addWorker(t *testing.T, w *worker.LocalWorker) storiface.WorkerID {
	t.Helper()
	id, err := n.m.AddWorker(context.Background(), keepOpen{w})
	if err != nil {
		t.Fatal(err)
	}
	return id
}

func TestSealingThroughScheduler(t *testing.T) {
	r := newRig(t)
	n := r.startManager(true)
	m, ctx := n.m, r.ctx
	size := abi.PaddedPieceSize(2048).Unpadded()

	pi, err := m.AddPiece(ctx, testSector, nil, size, storiface.PieceData{})
	if err != nil {
		t.Fatal("AddPiece:", err)
	}
	pieces := []abi.PieceInfo{pi}
	ticket, seed := abi.SealRandomness{1}, abi.InteractiveSealRandomness{2}
	pc1o, err := m.SealPreCommit1(ctx, testSector, ticket, pieces)
	if err != nil {
		t.Fatal("PC1:", err)
	}
	cids, err := m.SealPreCommit2(ctx, testSector, pc1o)
	if err != nil {
		t.Fatal("PC2:", err)
	}
	c1o, err := m.SealCommit1(ctx, testSector, ticket, seed, pieces, cids)
	if err != nil {
		t.Fatal("C1:", err)
	}
	proof, err := m.SealCommit2(ctx, testSector, c1o)
	if err != nil || len(proof) == 0 {
		t.Fatal("C2:", err)
	}
	if err := m.FinalizeSector(ctx, testSector); err != nil {
		t.Fatal("FIN:", err)
	}
	if err := m.MoveStorage(ctx, testSector, storiface.FTSealed|storiface.FTCache); err != nil {
		t.Fatal("MoveStorage:", err)
	}
	for _, ft := range []storiface.SectorFileType{storiface.FTSealed, storiface.FTCache} {
		found, _ := r.idx.StorageFindSector(ctx, testSector.ID, ft, 0, false)
		if len(found) != 1 || found[0].ID != workertest.StorePathID {
			t.Fatalf("%s after finalize is in %v, want the storage path", ft, found)
		}
	}
	if err := m.ReleaseUnsealed(ctx, testSector, nil); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := m.ReadPiece(ctx, &buf, testSector, 0, size, ticket, cids.Unsealed); err != nil {
		t.Fatal("ReadPiece:", err)
	}
	if buf.Len() != int(size) {
		t.Fatalf("read %d bytes, want %d", buf.Len(), size)
	}
	if err := m.Remove(ctx, testSector); err != nil {
		t.Fatal(err)
	}
	for _, ft := range storiface.PathTypes {
		if r.idx.Declared(testSector.ID, ft) {
			t.Errorf("%s still declared after Remove", ft)
		}
	}
	if left := m.TrackedWork(); len(left) != 0 {
		t.Fatalf("tracker still holds %v", left)
	}
	if r.backend.Calls("SealPreCommit1") != 1 || r.backend.Calls("SealCommit2") != 1 {
		t.Fatal("a stage ran more than once")
	}
	if err := m.LocalWorker().WaitQuiet(ctx); err != nil {
		t.Fatal(err)
	}
	jobs, err := m.WorkerJobs(ctx)
	njobs := 0
	for _, js := range jobs {
		njobs += len(js)
	}
	if err != nil || njobs != 0 {
		t.Fatalf("WorkerJobs after the run = %v, %v", jobs, err)
	}
	stats, err := m.WorkerStats(ctx)
	if err != nil || len(stats) != 1 {
		t.Fatalf("WorkerStats = %v, %v", stats, err)
	}
}

// runAsync runs an op in a goroutine and returns a channel with its error.
func runAsync(ctx context.Context, f func(ctx context.Context) error) <-chan error {
	ch := make(chan error, 1)
	go func() { ch <- f(ctx) }()
	return ch
}

func c2(m *Manager) func(ctx context.Context) error {
	return func(ctx context.Context) error {
		proof, err := m.SealCommit2(ctx, testSector, storiface.Commit1Out("c1-output"))
		if err == nil && len(proof) == 0 {
			return errors.New("empty proof")
		}
		return err
	}
}

func TestManagerRestartReattachesRunningWork(t *testing.T) {
	cases := []struct {
		name string
		// resultFirst: the worker finishes (and its return is accepted) before the op is re-issued.
		resultFirst bool
	}{
		{"re-issued before the result", false},
		{"result before the re-issue", true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			w := r.startWorker(t.TempDir() + "/worker.db")
			release := r.backend.Hold("SealCommit2")
			defer release()

			n1 := r.startManager(false)
			n1.addWorker(t, w)
			ctx1, crash := context.WithCancel(r.ctx)
			first := runAsync(ctx1, c2(n1.m))
			<-r.backend.Entered
			// The manager "crashes": its op is cut off, the process state is gone, the worker keeps running.
			crash()
			if err := <-first; err == nil {
				t.Fatal("op survived its context")
			}
			n1.close()

			n2 := r.startManager(false)
			if got := n2.m.TrackedWork(); len(got) != 1 || got[0].Status != WorkRunning {
				t.Fatalf("after restart the tracker holds %+v, want one running work", got)
			}
			n2.addWorker(t, w)
			var second <-chan error
			if !tc.resultFirst {
				second = runAsync(r.ctx, c2(n2.m))
			}
			release()
			if tc.resultFirst {
				if err := w.WaitQuiet(r.ctx); err != nil { // returned and acknowledged
					t.Fatal(err)
				}
				if got := n2.m.TrackedWork(); len(got) != 1 || got[0].Status != WorkDone {
					t.Fatalf("tracker holds %+v, want the done work", got)
				}
				second = runAsync(r.ctx, c2(n2.m))
			}
			if err := <-second; err != nil {
				t.Fatal("re-issued op:", err)
			}
			if n := r.backend.Calls("SealCommit2"); n != 1 {
				t.Fatalf("Commit2 ran %d times, want 1", n)
			}
			if got := n2.m.TrackedWork(); len(got) != 0 {
				t.Fatalf("tracker still holds %+v", got)
			}
		})
	}
}

func TestIdenticalCallsJoin(t *testing.T) {
	r := newRig(t)
	w := r.startWorker(t.TempDir() + "/worker.db")
	release := r.backend.Hold("SealCommit2")
	n := r.startManager(false)
	joined := make(chan WorkID, 1)
	n.m.ct.onJoin = func(wid WorkID) { joined <- wid }
	n.addWorker(t, w)
	a := runAsync(r.ctx, c2(n.m))
	<-r.backend.Entered
	b := runAsync(r.ctx, c2(n.m))
	<-joined
	release()
	if err := <-a; err != nil {
		t.Fatal(err)
	}
	if err := <-b; err != nil {
		t.Fatal(err)
	}
	if got := r.backend.Calls("SealCommit2"); got != 1 {
		t.Fatalf("Commit2 ran %d times for two identical calls", got)
	}
}

func TestAbortReachesWorker(t *testing.T) {
	r := newRig(t)
	w := r.startWorker(t.TempDir() + "/worker.db")
	release := r.backend.Hold("SealCommit2")
	defer release()
	n := r.startManager(false)
	n.addWorker(t, w)
	op := runAsync(r.ctx, c2(n.m))
	<-r.backend.Entered
	<-n.started
	work := n.m.TrackedWork()
	if len(work) != 1 || work[0].Status != WorkRunning {
		t.Fatalf("tracked work %+v", work)
	}
	call := work[0].WorkerCall.CallID()
	if err := n.m.Abort(r.ctx, call); err != nil {
		t.Fatal(err)
	}
	err := <-op
	if storiface.CodeOf(err) != storiface.ErrCallAborted {
		t.Fatalf("aborted op returned %v", err)
	}
	// The worker's call was cancelled (the held backend call saw its context end), and it returned its result.
	if err := w.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
	if err := n.m.Abort(r.ctx, call); err == nil {
		t.Fatal("aborting a finished call succeeded")
	}
}

func TestWorkerRestartReschedules(t *testing.T) {
	r := newRig(t)
	wdb := t.TempDir() + "/worker.db"
	w1 := r.startWorker(wdb)
	release := r.backend.Hold("SealCommit2")
	n := r.startManager(false)
	id1 := n.addWorker(t, w1)
	op := runAsync(r.ctx, c2(n.m))
	<-r.backend.Entered
	w1.Close() // the worker process dies under the running call (still held: it cannot have returned) …
	release()  // (the call run after the restart goes through)
	if err := n.m.RemoveWorker(r.ctx, id1); err != nil {
		t.Fatal(err)
	}
	// … and comes back: it reports the call lost to its restart, and the manager schedules the op again.
	w2 := r.startWorker(wdb)
	n.addWorker(t, w2)
	if err := <-op; err != nil {
		t.Fatal("op after worker restart:", err)
	}
	if got := r.backend.Calls("SealCommit2"); got != 2 {
		t.Fatalf("Commit2 ran %d times, want 2 (cut short once, then rescheduled)", got)
	}
}

func TestRemoveWorkerReschedulesItsCalls(t *testing.T) {
	r := newRig(t)
	w1 := r.startWorker(t.TempDir() + "/w1.db")
	release := r.backend.Hold("SealCommit2")
	defer release()
	n := r.startManager(false)
	id1 := n.addWorker(t, w1)
	op := runAsync(r.ctx, c2(n.m))
	<-r.backend.Entered
	release()
	// w1 is taken out of service while its call runs (e.g. the operator removed it); the op moves on to w2.
	w2 := r.startWorker(t.TempDir() + "/w2.db")
	if err := n.m.RemoveWorker(r.ctx, id1); err != nil {
		t.Fatal(err)
	}
	n.addWorker(t, w2)
	if err := <-op; err != nil {
		t.Fatal("op after its worker was removed:", err)
	}
	if err := n.m.RemoveWorker(r.ctx, id1); err == nil {
		t.Fatal("removing an unknown worker succeeded")
	}
}

func TestAbortAfterManagerRestartFindsWorkerByHost(t *testing.T) {
	r := newRig(t)
	w := r.startWorker(t.TempDir() + "/worker.db")
	release := r.backend.Hold("SealCommit2")
	defer release()
	n1 := r.startManager(false)
	n1.addWorker(t, w)
	ctx1, crash := context.WithCancel(r.ctx)
	first := runAsync(ctx1, c2(n1.m))
	<-r.backend.Entered
	<-n1.started
	call := n1.m.TrackedWork()[0].WorkerCall.CallID()
	crash()
	<-first
	n1.close()

	n2 := r.startManager(false)
	n2.addWorker(t, w)
	if err := n2.m.Abort(r.ctx, call); err != nil {
		t.Fatal(err)
	}
	// The worker cancelled the call and returned it as aborted.
	if err := w.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
	if got := n2.m.TrackedWork(); len(got) != 1 || got[0].Status != WorkDone || got[0].ErrCode != int64(storiface.ErrCallAborted) {
		t.Fatalf("tracked work after abort: %+v", got)
	}
}
