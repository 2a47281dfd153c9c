package sched

import (
	"context"
	"sort"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// RequestState is where a request is in its life.
type RequestState uint8

// The request states.
const (
	StateQueued    RequestState = iota // waiting for a worker
	StateWaiting                       // assigned to a worker, waiting in one of its windows (or its reservation)
	StatePreparing                     // prepare step running on the worker
	StatePrepared                      // prepare step done, waiting for room to run on the worker
	StateRunning                       // work running on the worker
	StateDone                          // finished, removed or returned
)

var stateNames = [...]string{"queued", "waiting", "preparing", "prepared", "running", "done"}

// String names the state.
func (s RequestState) String() string {
	if int(s) < len(stateNames) {
		return stateNames[s]
	}
	return "?"
}

// Request is one task to schedule. The caller fills the exported fields before AddRequest and must not change
// them afterwards; the core owns the rest.
type Request struct {
	ID       uuid.UUID
	Sector   storiface.SectorRef
	Task     storiface.TaskType
	PrepType storiface.TaskType // task type limiting concurrent prepare steps; "" = Task
	// HasPrepare says whether the request has a prepare step; without one the work starts directly.
	HasPrepare bool
	Priority   int
	Sel        Selector
	Ctx        context.Context // passed to the selector; context.Background() if nil
	Added      time.Time
	// Payload is the driver's own data (the shell's actions, the simulator's sector); the core ignores it.
	Payload any

	key      int  // request key (task, proof, prep) index in Core.keys
	order    int  // Task.Order(), cached
	selClass int  // Keyed selector class index in Core.filterCache, -1 if not Keyed
	claims0  bool // the Keyed selector also claims space: its cache entries depend on the ledger
	seq      uint64
	state    RequestState
	worker   *WorkerHandle
	window   int // window index while waiting; -1 = held by the worker's reservation
	claims   []SpaceClaim
	started  time.Time
	reserved bool // holds a reservation on worker
}

// State returns the request's state.
func (r *Request) State() RequestState { return r.state }

// Worker returns the worker the request is assigned to, or the zero ID.
func (r *Request) Worker() storiface.WorkerID {
	if r.worker == nil {
		return storiface.WorkerID{}
	}
	return r.worker.ID
}

func (r *Request) ctx() context.Context {
	if r.Ctx == nil {
		return context.Background()
	}
	return r.Ctx
}

// before is the queue order: higher priority, then task order (finishing sectors first), then older, then
// arrival sequence.
func (r *Request) before(o *Request) bool { return orderOf(r).before(orderOf(o)) }

// reqKey groups requests that need the same resources on any given worker.
type reqKey struct {
	task storiface.TaskType
	ti   int // resources.TaskIndex(task)
	spt  abi.RegisteredSealProof
	prep storiface.TaskType
}

// queue is the sorted list of queued requests.
type queue []*Request

func (q *queue) insert(r *Request) {
	i := sort.Search(len(*q), func(i int) bool { return r.before((*q)[i]) })
	*q = append(*q, nil)
	copy((*q)[i+1:], (*q)[i:])
	(*q)[i] = r
}

// compact drops the requests that are no longer queued, keeping the order.
func (q *queue) compact() {
	out := (*q)[:0]
	for _, r := range *q {
		if r.state == StateQueued {
			out = append(out, r)
		}
	}
	for i := len(out); i < len(*q); i++ {
		(*q)[i] = nil
	}
	*q = out
}
