package manager

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/google/uuid"

	"sealfleet/sched"
	"sealfleet/storiface"
)

// listedWorker is a worker whose Jobs answer the test sets, counting the calls.
type listedWorker struct {
	keepOpen
	mu    sync.Mutex
	jobs  []storiface.WorkerJob
	calls int
}

func (w *listedWorker) Jobs(context.Context) ([]storiface.WorkerJob, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.calls++
	return append([]storiface.WorkerJob(nil), w.jobs...), nil
}

func (w *listedWorker) set(jobs ...storiface.WorkerJob) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.jobs = jobs
}

func (w *listedWorker) asked() int {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.calls
}

// TestWorkerJobsFromView checks WorkerJobs serves a remote worker's jobs from the background poll's view: no RPC
// per call, the answer changes only after a refresh, and a removed worker's entry goes away.
func TestWorkerJobsFromView(t *testing.T) {
	r := newRig(t)
	s, err := sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(context.Background())
	t.Cleanup(stop)
	go s.Run(sctx)
	// An hour between polls: only the test's refreshJobs calls poll.
	m, err := New(r.ctx, Config{Sealer: DefaultSealerConfig(), Logger: quiet, JobsRefresh: time.Hour},
		Deps{Index: r.idx, Store: r.store, Local: r.store, Sched: s, DB: r.openDB(), Secret: testSecret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	w := &listedWorker{keepOpen: keepOpen{r.startWorker(t.TempDir() + "/w.db")}}
	id := storiface.NewWorkerID()
	if err := m.addWorker(r.ctx, id, w, "http://remote.invalid/rpc/v0"); err != nil {
		t.Fatal(err)
	}
	job := func() storiface.WorkerJob {
		return storiface.WorkerJob{ID: storiface.CallID{ID: uuid.New()}, Task: storiface.TTPreCommit1,
			RunWait: storiface.RWRunning, Sector: testSector.ID}
	}
	count := func() int {
		t.Helper()
		jobs, err := m.WorkerJobs(r.ctx)
		if err != nil {
			t.Fatal(err)
		}
		return len(jobs[uuid.UUID(id)])
	}
	steps := []struct {
		name    string
		set     []storiface.WorkerJob
		refresh bool
		want    int
	}{
		{"not polled yet: scheduler view only", []storiface.WorkerJob{job()}, false, 0},
		{"after a poll", nil, true, 1},
		{"stale until the next poll", []storiface.WorkerJob{job(), job()}, false, 1},
		{"next poll", nil, true, 2},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.set != nil {
				w.set(st.set...)
			}
			if st.refresh {
				m.refreshJobs(r.ctx)
			}
			before := w.asked()
			for range 3 {
				if got := count(); got != st.want {
					t.Fatalf("%d jobs, want %d", got, st.want)
				}
			}
			if w.asked() != before {
				t.Fatalf("WorkerJobs asked the worker %d times", w.asked()-before)
			}
		})
	}
	t.Run("removed worker leaves the view", func(t *testing.T) {
		if err := m.RemoveWorker(r.ctx, id); err != nil {
			t.Fatal(err)
		}
		m.refreshJobs(r.ctx)
		if n := len(m.jobs.snapshot(map[storiface.WorkerID]*workerRef{id: nil})); n != 0 {
			t.Fatalf("view still holds the removed worker")
		}
	})
}
