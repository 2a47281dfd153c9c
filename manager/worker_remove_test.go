package manager

import (
	"context"
	"errors"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"

	"sealfleet/api"
	"sealfleet/sched"
	"sealfleet/storiface"
)

// TestWorkerRemoveOverRPC takes a worker out while its call hangs (as for a worker that vanished): the waiting op
// is scheduled again on another worker and completes.
func TestWorkerRemoveOverRPC(t *testing.T) {
	r := newRig(t)
	w1 := r.startWorker(t.TempDir() + "/w1.db")
	release := r.backend.Hold("SealCommit2")
	defer release()
	n := r.startManager(false)
	srv := httptest.NewServer(n.m.Handler(nil, nil))
	defer srv.Close()
	dial := func(perms []auth.Permission) api.Manager {
		tok, err := api.NewToken(testSecret, perms)
		if err != nil {
			t.Fatal(err)
		}
		c, closer, err := api.NewManagerClient(r.ctx, api.Info{URL: srv.URL, Token: tok}, api.ClientOptions{Scheme: "http"})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(closer)
		return c
	}
	admin := dial(api.AllPermissions)
	writer := dial([]auth.Permission{api.PermRead, api.PermWrite})

	id1 := n.addWorker(t, w1)
	op := runAsync(r.ctx, c2(n.m))
	<-r.backend.Entered // w1 runs the call and, held, never returns it: it has vanished as far as the op can tell

	t.Run("write token refused", func(t *testing.T) {
		err := writer.WorkerRemove(r.ctx, id1)
		if err == nil || !strings.Contains(err.Error(), "admin") {
			t.Fatalf("err %v, want a missing admin permission", err)
		}
		if stats, _ := n.m.WorkerStats(r.ctx); len(stats) != 1 {
			t.Fatalf("%d workers after a refused removal, want 1", len(stats))
		}
	})
	t.Run("unknown worker", func(t *testing.T) {
		if err := admin.WorkerRemove(r.ctx, storiface.NewWorkerID()); err == nil {
			t.Fatal("removing an unknown worker succeeded")
		}
	})
	t.Run("removed worker's op moves on", func(t *testing.T) {
		if err := admin.WorkerRemove(r.ctx, id1); err != nil {
			t.Fatal(err)
		}
		if stats, _ := n.m.WorkerStats(r.ctx); len(stats) != 0 {
			t.Fatalf("%d workers after removal, want 0", len(stats))
		}
		w2 := r.startWorker(t.TempDir() + "/w2.db")
		n.addWorker(t, w2)
		<-r.backend.Entered // the op was scheduled again, on w2, while w1's call still hangs
		release()
		if err := <-op; err != nil {
			t.Fatal("op after its worker was removed:", err)
		}
		if err := admin.WorkerRemove(r.ctx, id1); err == nil {
			t.Fatal("removing the worker twice succeeded")
		}
	})
}

// TestWorkerRemovedWhileItsCallIsRecorded removes a worker after it took a call and before the manager
// recorded the call ID (TestWorkerRemoveOverRPC hit this window under load): the removal's failWorker finds no
// running call to fail, so the op must fail the call itself, and it is scheduled again on another worker,
// instead of waiting forever for a worker nobody will hear from.
func TestWorkerRemovedWhileItsCallIsRecorded(t *testing.T) {
	r := newRig(t)
	w1 := r.startWorker(t.TempDir() + "/w1.db")
	release := r.backend.Hold("SealCommit2")
	defer release()
	n := r.startManager(false)
	id1 := n.addWorker(t, w1)
	var once sync.Once
	n.m.afterCall = func() {
		once.Do(func() {
			if err := n.m.RemoveWorker(r.ctx, id1); err != nil {
				t.Error(err)
			}
		})
	}
	op := runAsync(r.ctx, c2(n.m))
	<-r.backend.Entered // w1 runs the call, held: it never returns it
	w2 := r.startWorker(t.TempDir() + "/w2.db")
	n.addWorker(t, w2)
	select {
	case <-r.backend.Entered: // the op was scheduled again, on w2
	case err := <-op:
		t.Fatalf("op ended before it was scheduled again: %v", err)
	case <-time.After(time.Minute):
		t.Fatal("the op still waits for the removed worker's call after a minute")
	}
	release()
	if err := <-op; err != nil {
		t.Fatal("op after its worker was removed:", err)
	}
}

// addOrderSched checks, whenever the scheduler is given a worker, that the manager already counts it as added:
// the scheduler may give a new worker a call at once, and a call whose worker the manager did not know was
// failed as if its worker had been removed (the op then ran a third time in TestWorkerRestartReschedules).
type addOrderSched struct {
	Scheduler
	t     *testing.T
	m     func() *Manager
	added int
}

func (s *addOrderSched) AddWorker(ctx context.Context, id storiface.WorkerID, w sched.Worker) error {
	if !s.m().added(w) {
		s.t.Errorf("the scheduler got worker %s before the manager added it", id)
	}
	s.added++
	return s.Scheduler.AddWorker(ctx, id, w)
}

func TestManagerKnowsAWorkerBeforeItsScheduler(t *testing.T) {
	r := newRig(t)
	var n *node
	check := &addOrderSched{t: t, m: func() *Manager { return n.m }}
	r.wrapSched = func(s Scheduler) Scheduler { check.Scheduler = s; return check }
	n = r.startManager(false)
	w := r.startWorker(t.TempDir() + "/w.db")
	id := n.addWorker(t, w)
	if check.added != 1 {
		t.Fatalf("the scheduler was given %d workers, want 1", check.added)
	}
	// A second add under the same ID is refused and leaves the first in place.
	if err := n.m.addWorker(r.ctx, id, keepOpen{w}, ""); !errors.Is(err, sched.ErrDuplicateWorker) {
		t.Fatalf("adding worker %s twice: %v, want ErrDuplicateWorker", id, err)
	}
	if !n.m.added(keepOpen{w}) {
		t.Fatal("the first worker is no longer added after a refused duplicate")
	}
}
