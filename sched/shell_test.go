package sched

import (
	"context"
	"errors"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
)

// memWorker is an in-memory Worker for tests: its sealing calls return fresh call IDs, and its session can be made
// to fail or change. Test-only.
type memWorker struct {
	b box

	mu         sync.Mutex
	session    uuid.UUID
	sessionErr error
	sessions   int
	closed     bool
}

var _ Worker = (*memWorker)(nil)

func newMemWorker(b box) *memWorker { return &memWorker{b: b, session: uuid.New()} }

func (m *memWorker) call(s storiface.SectorRef) (storiface.CallID, error) {
	return storiface.NewCallID(s.ID), nil
}

func (m *memWorker) DataCid(context.Context, abi.UnpaddedPieceSize, storiface.PieceData) (storiface.CallID, error) {
	return storiface.NewCallID(abi.SectorID{}), nil
}
func (m *memWorker) AddPiece(_ context.Context, s storiface.SectorRef, _ []abi.UnpaddedPieceSize, _ abi.UnpaddedPieceSize, _ storiface.PieceData) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) SealPreCommit1(_ context.Context, s storiface.SectorRef, _ abi.SealRandomness, _ []abi.PieceInfo) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) SealPreCommit2(_ context.Context, s storiface.SectorRef, _ storiface.PreCommit1Out) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) SealCommit1(_ context.Context, s storiface.SectorRef, _ abi.SealRandomness, _ abi.InteractiveSealRandomness, _ []abi.PieceInfo, _ storiface.SectorCids) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) SealCommit2(_ context.Context, s storiface.SectorRef, _ storiface.Commit1Out) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) FinalizeSector(_ context.Context, s storiface.SectorRef) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) FinalizeUnsealed(_ context.Context, s storiface.SectorRef, _ []storiface.Range) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) ReleaseUnsealed(_ context.Context, s storiface.SectorRef, _ []storiface.Range) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) MoveStorage(_ context.Context, s storiface.SectorRef, _ storiface.SectorFileType) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) UnsealPiece(_ context.Context, s storiface.SectorRef, _ storiface.UnpaddedByteIndex, _ abi.UnpaddedPieceSize, _ abi.SealRandomness, _ cid.Cid) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) Fetch(_ context.Context, s storiface.SectorRef, _ storiface.SectorFileType, _ storiface.PathType, _ storiface.AcquireMode) (storiface.CallID, error) {
	return m.call(s)
}
func (m *memWorker) TaskTypes(context.Context) (map[storiface.TaskType]struct{}, error) {
	return m.b.taskSet(), nil
}
func (m *memWorker) Paths(context.Context) ([]storiface.StoragePath, error) {
	return m.b.storagePaths(), nil
}
func (m *memWorker) Info(context.Context) (storiface.WorkerInfo, error) { return m.b.info(), nil }
func (m *memWorker) Session(context.Context) (uuid.UUID, error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessions++
	return m.session, m.sessionErr
}
func (m *memWorker) Close() error {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.closed = true
	return nil
}

func (m *memWorker) setSessionErr(err error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.sessionErr = err
}

// gate is a work action that reports which worker it runs on and blocks until released.
type gate struct {
	started chan string
	release chan error
}

func newGate() *gate { return &gate{started: make(chan string, 16), release: make(chan error, 16)} }

func (g *gate) work(ctx context.Context, w Worker) error {
	info, _ := w.Info(ctx)
	g.started <- info.Hostname
	select {
	case err := <-g.release:
		return err
	case <-ctx.Done():
		return ctx.Err()
	}
}

func newShell(t *testing.T) (*Scheduler, *FakeClock, context.CancelFunc) {
	t.Helper()
	clk := NewFakeClock(t0)
	s, err := New(Config{Clock: clk})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { s.Run(ctx); close(done) }()
	t.Cleanup(func() {
		cctx, c2 := context.WithTimeout(context.Background(), 5*time.Second)
		defer c2()
		_ = s.Close(cctx)
		cancel()
		<-done
	})
	return s, clk, cancel
}

func sectorRef(n int) storiface.SectorRef {
	return storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(n)}, ProofType: spt32}
}

func TestShellScheduleRunsWork(t *testing.T) {
	s, _, _ := newShell(t)
	w := newMemWorker(box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks})
	if err := s.AddWorker(context.Background(), wid("w"), w); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	prepared := make(chan struct{}, 1)
	errc := make(chan error, 1)
	go func() {
		errc <- s.Schedule(context.Background(), sectorRef(1), storiface.TTPreCommit1, NewTaskSelector(),
			PrepareAction{Action: func(context.Context, Worker) error { prepared <- struct{}{}; return nil },
				PrepType: storiface.TTFetch}, g.work)
	}()
	<-prepared
	if host := <-g.started; host != "w" {
		t.Fatalf("ran on %q", host)
	}
	jobs := s.WorkerJobs()[wid("w")]
	if len(jobs) != 1 || jobs[0].RunWait != storiface.RWRunning || jobs[0].Hostname != "w" {
		t.Fatalf("jobs = %+v", jobs)
	}
	want := errors.New("boom")
	g.release <- want
	if err := <-errc; !errors.Is(err, want) {
		t.Fatalf("Schedule = %v, want %v", err, want)
	}
}

func TestShellSessionFailureMovesTasks(t *testing.T) {
	s, _, _ := newShell(t)
	ctx := context.Background()
	a := newMemWorker(box{name: "a", cpus: 16, memGiB: 128, tasks: allTasks})
	if err := s.AddWorker(ctx, wid("a"), a); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	errs := make(chan error, 2)
	for i := 1; i <= 2; i++ {
		go func() {
			errs <- s.Schedule(ctx, sectorRef(i), storiface.TTPreCommit1, NewTaskSelector(), PrepareAction{}, g.work)
		}()
	}
	if host := <-g.started; host != "a" {
		t.Fatalf("first ran on %q", host)
	}
	// The second waits in a's window. a's session fails: a is disabled, the waiting task returns to the queue
	// and goes to b as soon as b joins.
	waitFor(t, func() bool { return len(s.WorkerJobs()[wid("a")]) == 2 })
	a.setSessionErr(errors.New("connection refused"))
	s.checkSessions(ctx, true)
	if st := s.WorkerStats(ctx)[wid("a")]; st.Enabled {
		t.Fatal("worker still enabled after a failed session")
	}
	b := newMemWorker(box{name: "b", cpus: 16, memGiB: 128, tasks: allTasks})
	if err := s.AddWorker(ctx, wid("b"), b); err != nil {
		t.Fatal(err)
	}
	if host := <-g.started; host != "b" {
		t.Fatalf("second ran on %q, want b", host)
	}
	a.setSessionErr(nil)
	s.checkSessions(ctx, true)
	if st := s.WorkerStats(ctx)[wid("a")]; !st.Enabled {
		t.Fatal("worker not re-enabled after its session recovered")
	}
	g.release <- nil
	g.release <- nil
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestShellHeartbeatOnClock(t *testing.T) {
	s, clk, _ := newShell(t)
	w := newMemWorker(box{name: "w", cpus: 16, memGiB: 128, tasks: allTasks})
	if err := s.AddWorker(context.Background(), wid("w"), w); err != nil {
		t.Fatal(err)
	}
	w.setSessionErr(errors.New("gone"))
	for i := 0; !func() bool { return !s.WorkerStats(context.Background())[wid("w")].Enabled }(); i++ {
		clk.Advance(DefaultSessionInterval)
		waitFor(t, func() bool { return true })
		if i > 100000 {
			t.Fatal("heartbeat never disabled the worker")
		}
	}
}

func TestShellRemoveRequestAndClose(t *testing.T) {
	s, _, _ := newShell(t)
	ctx := context.Background()
	// No worker: the requests stay queued.
	errs := make(chan error, 2)
	go func() {
		errs <- s.Schedule(ctx, sectorRef(1), storiface.TTPreCommit1, NewTaskSelector(), PrepareAction{},
			func(context.Context, Worker) error { return nil })
	}()
	var id uuid.UUID
	waitFor(t, func() bool {
		d, _ := s.Info(ctx)
		if len(d.Requests) == 1 {
			id = d.Requests[0].ID
			return true
		}
		return false
	})
	if err := s.RemoveRequest(ctx, id); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, ErrRequestRemoved) {
		t.Fatalf("Schedule = %v, want ErrRequestRemoved", err)
	}
	if err := s.RemoveRequest(ctx, id); !errors.Is(err, ErrUnknownRequest) {
		t.Fatalf("second RemoveRequest = %v", err)
	}
	go func() {
		errs <- s.Schedule(ctx, sectorRef(2), storiface.TTPreCommit1, NewTaskSelector(), PrepareAction{},
			func(context.Context, Worker) error { return nil })
	}()
	waitFor(t, func() bool { d, _ := s.Info(ctx); return len(d.Requests) == 1 })
	if err := s.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := <-errs; !errors.Is(err, ErrClosed) {
		t.Fatalf("Schedule = %v, want ErrClosed", err)
	}
}

// waitFor yields to other goroutines until cond holds; it never sleeps on a timer.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for i := 0; i < 10_000_000; i++ {
		if cond() {
			return
		}
		runtime.Gosched()
	}
	t.Fatal("condition never held")
}

func TestShellRestartReturnsWaitingTasks(t *testing.T) {
	s, _, _ := newShell(t)
	ctx := context.Background()
	a := newMemWorker(box{name: "a", cpus: 16, memGiB: 128, tasks: allTasks})
	if err := s.AddWorker(ctx, wid("a"), a); err != nil {
		t.Fatal(err)
	}
	g := newGate()
	errs := make(chan error, 2)
	for i := 1; i <= 2; i++ {
		go func() {
			errs <- s.Schedule(ctx, sectorRef(i), storiface.TTPreCommit1, NewTaskSelector(), PrepareAction{}, g.work)
		}()
	}
	<-g.started
	waitFor(t, func() bool { return len(s.WorkerJobs()[wid("a")]) == 2 })
	// The worker restarts with more memory: a new session. Its waiting task goes back to the queue and, with the
	// new resources, starts at once on the same worker; the worker stays enabled.
	a.mu.Lock()
	a.session = uuid.New()
	a.b.memGiB = 256
	a.mu.Unlock()
	s.checkSessions(ctx, true)
	if host := <-g.started; host != "a" {
		t.Fatalf("second ran on %q", host)
	}
	if st := s.WorkerStats(ctx)[wid("a")]; !st.Enabled || st.Info.Resources.MemPhysical != 256<<30 {
		t.Fatalf("after restart: enabled %v, memory %d", st.Enabled, st.Info.Resources.MemPhysical)
	}
	g.release <- nil
	g.release <- nil
	for i := 0; i < 2; i++ {
		if err := <-errs; err != nil {
			t.Fatal(err)
		}
	}
}

func TestShellWorkerRemovedDuringPrepare(t *testing.T) {
	s, _, _ := newShell(t)
	ctx := context.Background()
	a := newMemWorker(box{name: "a", cpus: 16, memGiB: 128, tasks: allTasks})
	if err := s.AddWorker(ctx, wid("a"), a); err != nil {
		t.Fatal(err)
	}
	preparing, release := make(chan struct{}), make(chan struct{})
	errc := make(chan error, 1)
	go func() {
		errc <- s.Schedule(ctx, sectorRef(1), storiface.TTPreCommit1, NewTaskSelector(),
			PrepareAction{Action: func(context.Context, Worker) error { close(preparing); <-release; return nil }},
			func(context.Context, Worker) error { t.Error("work ran on a removed worker"); return nil })
	}()
	<-preparing
	if err := s.RemoveWorker(ctx, wid("a")); err != nil {
		t.Fatal(err)
	}
	close(release)
	err := <-errc
	if storiface.CodeOf(err) != storiface.ErrTempWorkerRestart {
		t.Fatalf("Schedule = %v, want a worker-restart error", err)
	}
	if !a.closed {
		t.Fatal("removed worker's connection not closed")
	}
}
