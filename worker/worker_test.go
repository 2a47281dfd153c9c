package worker

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/db"
	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

type rig struct {
	ctx     context.Context
	db      *db.DB
	idx     *workertest.Index
	store   *workertest.Store
	backend *workertest.Backend
	ret     *workertest.Returns
	clock   *workertest.Clock
}

func newRig(t *testing.T) *rig {
	t.Helper()
	ctx := context.Background()
	d, err := db.OpenSQLite(t.TempDir() + "/worker.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	idx := workertest.NewIndex()
	st, err := workertest.NewStore(ctx, t.TempDir(), idx)
	if err != nil {
		t.Fatal(err)
	}
	return &rig{ctx: ctx, db: d, idx: idx, store: st, backend: workertest.NewBackend(),
		ret: workertest.NewReturns(), clock: workertest.NewClock()}
}

func (r *rig) worker(t *testing.T, ret *workertest.Returns) *LocalWorker {
	t.Helper()
	w, err := New(r.ctx, Config{Name: "test", TaskTypes: storiface.AllTaskTypes(), Clock: r.clock,
		ParallelFetchLimit: 1},
		Deps{Backend: r.backend, Store: r.store, Index: r.idx, Local: r.store, Return: ret, DB: r.db})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	return w
}

// runningC2 starts a worker and a SealCommit2 call that the backend holds, and returns them once the work is
// running inside the backend; release lets the work finish (it is also released when the test ends, before the
// worker closes).
func (r *rig) runningC2(t *testing.T) (w *LocalWorker, id storiface.CallID, release func()) {
	t.Helper()
	w = r.worker(t, r.ret)
	release = r.backend.Hold("SealCommit2")
	t.Cleanup(release)
	id, err := w.SealCommit2(r.ctx, testSector, storiface.Commit1Out("c1"))
	if err != nil {
		t.Fatal(err)
	}
	<-r.backend.Entered
	return w, id, release
}

var testSector = storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 7},
	ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}

// waitAcked waits for the acknowledgement of id and returns what was recorded.
func waitAcked(t *testing.T, ret *workertest.Returns, id storiface.CallID) workertest.Returned {
	t.Helper()
	for got := range ret.Acked {
		if got == id {
			rs := ret.Got(id)
			if len(rs) != 1 {
				t.Fatalf("call %s returned %d times", id, len(rs))
			}
			return rs[0]
		}
	}
	t.Fatal("acked channel closed")
	return workertest.Returned{}
}

func TestSealingCallsInOrder(t *testing.T) {
	r := newRig(t)
	w := r.worker(t, r.ret)
	ctx := r.ctx
	size := abi.PaddedPieceSize(2048).Unpadded()
	var (
		pieces []abi.PieceInfo
		pc1o   storiface.PreCommit1Out
		cids   storiface.SectorCids
		c1o    storiface.Commit1Out
	)
	steps := []struct {
		name     string
		call     func() (storiface.CallID, error)
		method   string
		take     func(v any)
		declared storiface.SectorFileType
	}{
		{"AddPiece", func() (storiface.CallID, error) {
			return w.AddPiece(ctx, testSector, nil, size, storiface.PieceData{})
		}, "AddPiece", func(v any) { pieces = append(pieces, v.(abi.PieceInfo)) }, storiface.FTUnsealed},
		{"PreCommit1", func() (storiface.CallID, error) {
			return w.SealPreCommit1(ctx, testSector, abi.SealRandomness{1}, pieces)
		}, "SealPreCommit1", func(v any) { pc1o = v.(storiface.PreCommit1Out) }, storiface.FTSealed | storiface.FTCache},
		{"PreCommit2", func() (storiface.CallID, error) { return w.SealPreCommit2(ctx, testSector, pc1o) },
			"SealPreCommit2", func(v any) { cids = v.(storiface.SectorCids) }, storiface.FTSealed},
		{"Commit1", func() (storiface.CallID, error) {
			return w.SealCommit1(ctx, testSector, abi.SealRandomness{1}, abi.InteractiveSealRandomness{2}, pieces, cids)
		}, "SealCommit1", func(v any) { c1o = v.(storiface.Commit1Out) }, storiface.FTCache},
		{"Commit2", func() (storiface.CallID, error) { return w.SealCommit2(ctx, testSector, c1o) },
			"SealCommit2", func(v any) {
				if len(v.(storiface.Proof)) == 0 {
					t.Error("empty proof")
				}
			}, storiface.FTNone},
		{"Finalize", func() (storiface.CallID, error) { return w.FinalizeSector(ctx, testSector) },
			"FinalizeSector", nil, storiface.FTCache},
		{"Unseal", func() (storiface.CallID, error) {
			return w.UnsealPiece(ctx, testSector, 0, size, abi.SealRandomness{1}, cids.Unsealed)
		}, "UnsealPiece", nil, storiface.FTUnsealed},
		{"ReleaseUnsealed", func() (storiface.CallID, error) { return w.ReleaseUnsealed(ctx, testSector, nil) },
			"ReleaseUnsealed", nil, storiface.FTNone},
		{"MoveStorage", func() (storiface.CallID, error) {
			return w.MoveStorage(ctx, testSector, storiface.FTSealed|storiface.FTCache)
		}, "MoveStorage", nil, storiface.FTSealed | storiface.FTCache},
		{"Fetch", func() (storiface.CallID, error) {
			return w.Fetch(ctx, testSector, storiface.FTSealed, storiface.PathStorage, storiface.AcquireCopy)
		}, "Fetch", nil, storiface.FTSealed},
		{"DataCid", func() (storiface.CallID, error) { return w.DataCid(ctx, size, storiface.PieceData{}) },
			"DataCid", func(v any) {
				if v.(abi.PieceInfo).PieceCID != pieces[0].PieceCID {
					t.Error("DataCid and AddPiece disagree on a zero piece")
				}
			}, storiface.FTNone},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			id, err := s.call()
			if err != nil {
				t.Fatal(err)
			}
			got := waitAcked(t, r.ret, id)
			if got.Err != nil || got.Method != s.method {
				t.Fatalf("returned %s err %v, want %s", got.Method, got.Err, s.method)
			}
			if s.take != nil {
				s.take(got.Value)
			}
			for _, ft := range s.declared.All() {
				if !r.idx.Declared(testSector.ID, ft) {
					t.Errorf("%s not declared after %s", ft, s.name)
				}
			}
		})
	}
	if r.idx.Declared(testSector.ID, storiface.FTUnsealed) {
		t.Error("unsealed still declared after ReleaseUnsealed")
	}
	if err := w.WaitQuiet(ctx); err != nil {
		t.Fatal(err)
	}
}

func TestReturnRetriedWithBackoffUntilAcked(t *testing.T) {
	r := newRig(t)
	r.ret.FailNext(4)
	w := r.worker(t, r.ret)
	id, err := w.SealCommit2(r.ctx, testSector, storiface.Commit1Out("c1"))
	if err != nil {
		t.Fatal(err)
	}
	// Each failed attempt waits twice as long as the previous one (1s, 2s, 4s, 8s).
	for i, want := range []time.Duration{time.Second, 2 * time.Second, 4 * time.Second, 8 * time.Second} {
		if got := <-r.ret.Attempts; got != id {
			t.Fatalf("attempt for %s, want %s", got, id)
		}
		pending := r.clock.WaitAfter()
		if len(pending) != 1 || pending[0] != want {
			t.Fatalf("attempt %d: pending timers %v, want [%v]", i+1, pending, want)
		}
		jobs, _ := w.Jobs(r.ctx)
		if len(jobs) != 1 || jobs[0].RunWait != storiface.RWRetWait {
			t.Fatalf("jobs while retrying: %+v", jobs)
		}
		r.clock.Advance(want)
	}
	got := waitAcked(t, r.ret, id)
	if got.Err != nil || len(got.Value.(storiface.Proof)) == 0 {
		t.Fatalf("returned %+v", got)
	}
	if n := r.backend.Calls("SealCommit2"); n != 1 {
		t.Fatalf("Commit2 ran %d times", n)
	}
	if err := w.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestRestartReturnsSavedResultWithoutRecomputing(t *testing.T) {
	r := newRig(t)
	down := workertest.NewReturns()
	down.FailNext(1 << 30)
	w1 := r.worker(t, down)
	id, err := w1.SealCommit2(r.ctx, testSector, storiface.Commit1Out("c1"))
	if err != nil {
		t.Fatal(err)
	}
	<-down.Attempts     // the result is saved before the first attempt
	r.clock.WaitAfter() // and the worker waits to retry
	if err := w1.Close(); err != nil {
		t.Fatal(err)
	}

	w2 := r.worker(t, r.ret)
	got := waitAcked(t, r.ret, id)
	if got.Err != nil || len(got.Value.(storiface.Proof)) == 0 {
		t.Fatalf("after restart returned %+v", got)
	}
	if n := r.backend.Calls("SealCommit2"); n != 1 {
		t.Fatalf("Commit2 ran %d times, want 1 (the saved result must be returned)", n)
	}
	if err := w2.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
	recs, err := w2.ct.unfinished(r.ctx)
	if err != nil || len(recs) != 0 {
		t.Fatalf("tracker holds %d calls after the return, err %v", len(recs), err)
	}
}

func TestRestartReportsUnfinishedCalls(t *testing.T) {
	r := newRig(t)
	w1, id, _ := r.runningC2(t)
	if jobs, _ := w1.Jobs(r.ctx); len(jobs) != 1 || jobs[0].RunWait != storiface.RWRunning || jobs[0].ID != id {
		t.Fatalf("jobs while running: %+v", jobs)
	}
	if err := w1.Close(); err != nil { // the running call is cut short by the "crash"
		t.Fatal(err)
	}
	if len(r.ret.Got(id)) != 0 {
		t.Fatal("a call cut short by shutdown was returned")
	}

	w2 := r.worker(t, r.ret)
	got := waitAcked(t, r.ret, id)
	if got.Err == nil || got.Err.Code != storiface.ErrTempWorkerRestart {
		t.Fatalf("after restart returned %+v, want a worker-restart error", got)
	}
	if err := w2.WaitQuiet(r.ctx); err != nil {
		t.Fatal(err)
	}
}

func TestAbortCall(t *testing.T) {
	r := newRig(t)
	w, id, _ := r.runningC2(t)
	ctx, cancel := context.WithCancel(r.ctx)
	cancel()
	if err := w.WaitQuiet(ctx); err == nil {
		t.Fatal("WaitQuiet returned with a call running")
	}
	if err := w.AbortCall(r.ctx, id); err != nil {
		t.Fatal(err)
	}
	got := waitAcked(t, r.ret, id)
	if got.Err == nil || got.Err.Code != storiface.ErrCallAborted {
		t.Fatalf("aborted call returned %+v", got)
	}
	if err := w.AbortCall(r.ctx, id); err == nil {
		t.Fatal("aborting a finished call succeeded")
	}
}

func TestControls(t *testing.T) {
	r := newRig(t)
	w := r.worker(t, r.ret)
	ctx := r.ctx
	s1, _ := w.Session(ctx)
	if s1 == uuid.Nil {
		t.Fatal("nil session while enabled")
	}
	cases := []struct {
		name  string
		apply func() error
		check func() error
	}{
		{"disable", func() error { return w.SetEnabled(ctx, false) }, func() error {
			if s, _ := w.Session(ctx); s != uuid.Nil {
				return errors.New("disabled worker reports a session")
			}
			return nil
		}},
		{"enable", func() error { return w.SetEnabled(ctx, true) }, func() error {
			if s, _ := w.Session(ctx); s != s1 {
				return errors.New("session changed across disable/enable")
			}
			return nil
		}},
		{"task disable", func() error { return w.TaskDisable(ctx, storiface.TTPreCommit1) }, func() error {
			tt, _ := w.TaskTypes(ctx)
			if _, ok := tt[storiface.TTPreCommit1]; ok {
				return errors.New("PC1 still accepted")
			}
			if s, _ := w.Session(ctx); s == s1 {
				return errors.New("session unchanged after a task change: the scheduler would not re-read tasks")
			}
			return nil
		}},
		{"task enable", func() error { return w.TaskEnable(ctx, storiface.TTPreCommit1) }, func() error {
			tt, _ := w.TaskTypes(ctx)
			if _, ok := tt[storiface.TTPreCommit1]; !ok {
				return errors.New("PC1 not accepted")
			}
			return nil
		}},
		{"unknown task", func() error {
			if err := w.TaskEnable(ctx, "seal/v0/nope"); err == nil {
				return errors.New("unknown task type accepted")
			}
			return nil
		}, func() error { return nil }},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.apply(); err != nil {
				t.Fatal(err)
			}
			if err := tc.check(); err != nil {
				t.Fatal(err)
			}
		})
	}
	paths, err := w.Paths(ctx)
	if err != nil || len(paths) != 2 {
		t.Fatalf("Paths = %v, %v", paths, err)
	}
}

func TestPieceDataFromURL(t *testing.T) {
	body := strings.Repeat("x", 2032)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("X-Test") != "yes" {
			http.Error(w, "no header", http.StatusForbidden)
			return
		}
		if r.URL.Path == "/short" {
			w.Write([]byte(body[:100]))
			return
		}
		w.Write([]byte(body))
	}))
	defer srv.Close()
	r := newRig(t)
	w := r.worker(t, r.ret)
	cases := []struct {
		name    string
		data    storiface.PieceData
		wantErr bool
	}{
		{"full", storiface.PieceData{URL: srv.URL + "/p", Headers: map[string]string{"X-Test": "yes"}}, false},
		{"short body", storiface.PieceData{URL: srv.URL + "/short", Headers: map[string]string{"X-Test": "yes"}}, true},
		{"refused", storiface.PieceData{URL: srv.URL + "/p"}, true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			id, err := w.DataCid(r.ctx, 2032, tc.data)
			if err != nil {
				t.Fatal(err)
			}
			got := waitAcked(t, r.ret, id)
			if (got.Err != nil) != tc.wantErr {
				t.Fatalf("returned %+v", got)
			}
		})
	}
}

func TestParseMeminfo(t *testing.T) {
	in := "MemTotal:       16384 kB\nMemAvailable:    8192 kB\nSwapTotal:  0 kB\nHugePages_Total: 0\n"
	got, err := parseMeminfo(bufioScanner(in))
	if err != nil {
		t.Fatal(err)
	}
	if got["MemTotal"] != 16384*1024 || got["MemAvailable"] != 8192*1024 || got["HugePages_Total"] != 0 {
		t.Fatalf("parsed %v", got)
	}
	res, err := DetectResources(context.Background())
	if err != nil || res.CPUs == 0 {
		t.Fatalf("DetectResources = %+v, %v", res, err)
	}
}

func TestFailedCallLeavesNothingDeclaredOrWritten(t *testing.T) {
	r := newRig(t)
	release := r.backend.Hold("AddPiece")
	defer release()
	w := r.worker(t, r.ret)
	id, err := w.AddPiece(r.ctx, testSector, nil, abi.PaddedPieceSize(2048).Unpadded(), storiface.PieceData{})
	if err != nil {
		t.Fatal(err)
	}
	<-r.backend.Entered
	if err := w.AbortCall(r.ctx, id); err != nil {
		t.Fatal(err)
	}
	if got := waitAcked(t, r.ret, id); got.Err == nil {
		t.Fatal("aborted AddPiece succeeded")
	}
	if r.idx.Declared(testSector.ID, storiface.FTUnsealed) {
		t.Fatal("unsealed file of a failed AddPiece is declared")
	}
	final := storiface.SectorPathIn(filepath.Join(r.store.Root, string(workertest.SealPathID)), storiface.FTUnsealed, testSector.ID)
	for _, p := range []string{final, final + tmpSuffix} {
		if _, err := os.Stat(p); !os.IsNotExist(err) {
			t.Fatalf("%s left behind (stat err %v)", p, err)
		}
	}
}

// flakyIndex fails declarations as an unreachable manager would, a set number of times.
type flakyIndex struct {
	*workertest.Index
	mu    sync.Mutex
	fails int
}

func (f *flakyIndex) StorageDeclareSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType, primary bool) error {
	f.mu.Lock()
	if f.fails > 0 {
		f.fails--
		f.mu.Unlock()
		return fmt.Errorf("declaring: %w", &jsonrpc.RPCConnectionError{})
	}
	f.mu.Unlock()
	return f.Index.StorageDeclareSector(ctx, id, s, ft, primary)
}

func TestDeclarationWaitsForManager(t *testing.T) {
	r := newRig(t)
	idx := &flakyIndex{Index: r.idx, fails: 2}
	w, err := New(r.ctx, Config{TaskTypes: storiface.AllTaskTypes(), Clock: r.clock},
		Deps{Backend: r.backend, Store: r.store, Index: idx, Return: r.ret, DB: r.db})
	if err != nil {
		t.Fatal(err)
	}
	defer w.Close()
	id, err := w.AddPiece(r.ctx, testSector, nil, abi.PaddedPieceSize(2048).Unpadded(), storiface.PieceData{})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []time.Duration{time.Second, 2 * time.Second} {
		if p := r.clock.WaitAfter(); len(p) != 1 || p[0] != want {
			t.Fatalf("pending timers %v, want [%v]", p, want)
		}
		r.clock.Advance(want)
	}
	got := waitAcked(t, r.ret, id)
	if got.Err != nil {
		t.Fatalf("AddPiece failed although only the manager was briefly unreachable: %v", got.Err)
	}
	if !r.idx.Declared(testSector.ID, storiface.FTUnsealed) || r.backend.Calls("AddPiece") != 1 {
		t.Fatal("the piece was not declared once written, or written twice")
	}
}
