package sched

import (
	"fmt"
	"sort"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/resources"
	"sealfleet/storiface"
)

// Reason names why a worker was not chosen for a request; Info reports one per (waiting request, worker).
type Reason string

// The reasons, from the most to the least fundamental.
const (
	ReasonDisabled        Reason = "worker-disabled"      // the worker's session failed or it is being removed
	ReasonTaskUnsupported Reason = "task-unsupported"     // the task type is not in the worker's list
	ReasonTooSmall        Reason = "worker-too-small"     // the task would not fit even on the idle worker
	ReasonSelectorError   Reason = "selector-error"       // the selector failed (e.g. the index did not answer)
	ReasonSelector        Reason = "selector-rejected"    // the selector's filter said no (detail: its reason)
	ReasonNoCapacity      Reason = "no-capacity"          // busy now and every window full (detail: shortfalls)
	ReasonReserved        Reason = "reserved-for-starved" // capacity held for a request past the starvation bound
	ReasonLowerRank       Reason = "ranked-lower"         // eligible, but another worker ranked better
	ReasonAssignedHere    Reason = "assigned-here"        // the request waits on this worker (detail: for what)
)

// DiagRejection is one worker's answer for one waiting request.
type DiagRejection struct {
	Worker   storiface.WorkerID
	Hostname string
	Reason   Reason
	Detail   string `json:",omitempty"`
}

// DiagExamples is how many example workers a DiagReasonGroup names.
const DiagExamples = 5

// DiagReasonGroup is every worker that gave one reason for one waiting request: how many, and the first
// DiagExamples of them in worker order with the first one's detail.
type DiagReasonGroup struct {
	Reason    Reason
	Count     int
	Workers   []storiface.WorkerID
	Hostnames []string
	Detail    string `json:",omitempty"` // of the first example
}

// DiagRequest is a group of requests not yet started that every worker answers alike (see Diag), or one such
// request (DiagRequest). The scalar fields are those of the group's first request in queue order (for a group of
// waiting requests, the most urgent and, within one priority and task, the oldest). Reasons groups the workers'
// answers for it by reason; Rejections lists each worker's answer and is filled only by DiagRequest.
type DiagRequest struct {
	ID        uuid.UUID
	Sector    abi.SectorID
	Task      storiface.TaskType
	ProofType abi.RegisteredSealProof
	Priority  int
	State     string
	Worker    storiface.WorkerID `json:",omitempty"` // when waiting on a worker
	Added     time.Time
	Reserved  bool // holds a starvation reservation
	// Count is how many requests the group holds (1 from DiagRequest).
	Count int
	// IDs and Sectors list the group's first DiagIDs requests in queue order (ID and Sector first).
	IDs        []uuid.UUID
	Sectors    []abi.SectorID
	Reasons    []DiagReasonGroup
	Rejections []DiagRejection `json:",omitempty"`
}

// DiagWindow is one window of a worker holding waiting tasks.
type DiagWindow struct {
	Worker      storiface.WorkerID
	Hostname    string
	Window      int
	Tasks       []uuid.UUID
	Utilization float64 // of the window's budget
}

// DiagAssignment is one request started on a worker (preparing, prepared or running). Requests waiting on a
// worker are in DiagInfo.Requests (State "waiting", Worker set) and in their window's Tasks.
type DiagAssignment struct {
	ID       uuid.UUID
	Sector   abi.SectorID
	Task     storiface.TaskType
	Worker   storiface.WorkerID
	Hostname string
	State    string
	Window   int // while waiting; -1 for a reservation
	Started  time.Time
}

// DiagInfo is the scheduler's state as `sealfleet sealing sched-diag` shows it.
type DiagInfo struct {
	// Waiting is the number of requests queued or waiting on a worker: the sum of the Requests' Count.
	Waiting  int
	Requests []DiagRequest
	// OpenWindows lists the windows holding waiting tasks (every worker has CoreConfig.Windows windows; empty
	// ones are left out, so the answer does not grow with idle workers).
	OpenWindows []DiagWindow
	Assignments []DiagAssignment
}

// Diag explains the core's state: the queued or waiting requests with the workers' reasons grouped by reason,
// the windows holding waiting tasks and every started request (Assignments, in queue order). Requests that every worker answers alike
// are one entry with a count and their first DiagIDs IDs: same task, proof type, prepare type and priority, same
// state (queued, or waiting on the same worker, window and reservation), same rank against the workers'
// starvation reservations, and a selector that accepts and rejects the same workers (one Keyed class, or for
// other selectors the same outcome per worker; the detail shown is the first request's). Each worker is asked
// once per class of answers, so the cost is requests + classes × workers (plus one Filter per request and
// eligible worker for selectors that are not Keyed); DiagRequest gives one request's answer per worker. It is
// meant for operators, not hot paths.
func (c *Core) Diag() DiagInfo {
	return c.diagSnapshot().build()
}

// DiagRequest explains one queued or waiting request: its reasons grouped as in Diag plus every worker's own
// answer in Rejections, sorted by hostname then worker ID. ok is false when id is not a queued or waiting request.
func (c *Core) DiagRequest(id uuid.UUID) (dr DiagRequest, ok bool) {
	r := c.reqs[id]
	if r == nil || (r.state != StateQueued && r.state != StateWaiting) {
		return DiagRequest{}, false
	}
	c.newDiagPass()
	return c.diagRequest(r, c.sortedHandles()), true
}

// newDiagPass starts a fresh pass number: selectors that memoize index reads per pass read the index again.
func (c *Core) newDiagPass() {
	c.pass++
	for _, h := range c.handles {
		h.pass = c.pass
	}
}

// sortedHandles returns the workers sorted by hostname then ID, so examples and rejections are stable.
func (c *Core) sortedHandles() []*WorkerHandle {
	hs := make([]*WorkerHandle, 0, len(c.handles))
	for _, h := range c.handles {
		hs = append(hs, h)
	}
	sort.Slice(hs, func(i, j int) bool {
		if hs[i].Info.Hostname != hs[j].Info.Hostname {
			return hs[i].Info.Hostname < hs[j].Info.Hostname
		}
		return hs[i].ID.String() < hs[j].ID.String()
	})
	return hs
}

// diagRequest asks every worker of hs why it does not run r: each answer in Rejections, and grouped by reason.
func (c *Core) diagRequest(r *Request, hs []*WorkerHandle) DiagRequest {
	dr := DiagRequest{ID: r.ID, Sector: r.Sector.ID, Task: r.Task, ProofType: r.Sector.ProofType,
		Priority: r.Priority, State: r.state.String(), Worker: r.Worker(), Added: r.Added, Reserved: r.reserved,
		Count: 1, IDs: []uuid.UUID{r.ID}, Sectors: []abi.SectorID{r.Sector.ID}}
	ans := make([]diagAnswer, len(hs))
	ws := make([]diagWorker, len(hs))
	for i, h := range hs {
		reason, detail := c.explain(r, h)
		ans[i] = diagAnswer{reason: reason, detail: detail}
		ws[i] = diagWorker{id: h.ID, host: h.Info.Hostname}
		dr.Rejections = append(dr.Rejections, DiagRejection{Worker: h.ID, Hostname: h.Info.Hostname,
			Reason: reason, Detail: detail})
	}
	dr.Reasons = groupAnswers(ans, nil, ws)
	return dr
}

// explain says why h does not run r now, with the reason's detail.
func (c *Core) explain(r *Request, h *WorkerHandle) (Reason, string) {
	return c.explainAt(r, h, true)
}

// explainAt is explain; without detail it leaves the detail empty and, for selectors that implement
// diagFilterer, asks the selector without having it word a rejection (Diag words only the examples it shows).
func (c *Core) explainAt(r *Request, h *WorkerHandle, detail bool) (Reason, string) {
	if h == r.worker {
		if !detail {
			return ReasonAssignedHere, ""
		}
		where := fmt.Sprintf("waiting in window %d", r.window)
		if r.window < 0 {
			where = "holding the worker's starvation reservation"
		}
		return ReasonAssignedHere, fmt.Sprintf("%s: %s", where, h.canBegin(r))
	}
	if !h.Enabled {
		return ReasonDisabled, ""
	}
	if !h.Supports(r.Task) {
		return ReasonTaskUnsupported, ""
	}
	if sf := h.everFits(r.key); sf != resources.Fits {
		return ReasonTooSmall, sf.String()
	}
	if df, ok := r.Sel.(diagFilterer); ok && !detail {
		ok, err := df.diagFilter(r.ctx(), r.Task, r.Sector.ProofType, h)
		if err != nil {
			return ReasonSelectorError, ""
		}
		if !ok {
			return ReasonSelector, ""
		}
	} else {
		ok, why, err := r.Sel.Filter(r.ctx(), r.Task, r.Sector.ProofType, h)
		if err != nil {
			return ReasonSelectorError, err.Error()
		}
		if !ok {
			return ReasonSelector, why
		}
	}
	now := h.canStart(r.key, r)
	if now != resources.Fits {
		if h.reservedBy != nil && h.reservedBy != r {
			a := h.committed
			ns := h.need(r.key)
			if a.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources) == resources.Fits {
				if !detail {
					return ReasonReserved, ""
				}
				return ReasonReserved, fmt.Sprintf("for %s of %s", h.reservedBy.Task.Short(),
					storiface.SectorName(h.reservedBy.Sector.ID))
			}
		}
		if wi, wsf := h.windowFor(r.key); wi < 0 {
			if !detail {
				return ReasonNoCapacity, ""
			}
			return ReasonNoCapacity, fmt.Sprintf("now: %s; windows: %s", now, wsf)
		}
	}
	if !detail {
		return ReasonLowerRank, ""
	}
	return ReasonLowerRank, fmt.Sprintf("eligible (can start now: %v, load %.2f)", now == resources.Fits, h.loadFig())
}

// WorkerStats is one worker as `sealfleet sealing workers` shows it.
type WorkerStats struct {
	Info    storiface.WorkerInfo
	Tasks   []storiface.TaskType
	Enabled bool

	MemUsedMin uint64 // running + preparing, MinMemory plus shared base memory
	MemUsedMax uint64 // running + preparing, MaxMemory plus shared base memory
	GpuUsed    float64
	CpuUse     uint64

	TaskCounts map[string]int // running + preparing per task type short name
	Waiting    int            // tasks waiting in windows
}

// Stats returns each worker's resource use.
func (c *Core) Stats() map[storiface.WorkerID]WorkerStats {
	out := make(map[storiface.WorkerID]WorkerStats, len(c.handles))
	for _, h := range c.handles {
		ws := WorkerStats{Info: h.Info, Enabled: h.Enabled, MemUsedMin: h.committed.MemUsedMin + h.committed.BaseMem,
			MemUsedMax: h.committed.MemUsedMax + h.committed.BaseMem, GpuUsed: h.committed.GPUUsed,
			CpuUse: h.committed.CPUUse, TaskCounts: map[string]int{}, Waiting: h.waiting}
		for tt := range h.taskSet {
			ws.Tasks = append(ws.Tasks, tt)
		}
		sort.Slice(ws.Tasks, func(i, j int) bool { return ws.Tasks[i].Less(ws.Tasks[j]) })
		for i, n := range h.committed.Counts {
			if n > 0 {
				ws.TaskCounts[resources.TaskAt(i).Short()] = int(n)
			}
		}
		out[h.ID] = ws
	}
	return out
}

// Jobs returns each worker's assigned, preparing and running requests as WorkerJobs (RunWait: 0 running,
// RWPrepared preparing, window+1 waiting). The call IDs are filled in by the driver; the core knows requests only.
func (c *Core) Jobs() map[storiface.WorkerID][]storiface.WorkerJob {
	out := map[storiface.WorkerID][]storiface.WorkerJob{}
	for _, r := range c.reqs {
		if r.worker == nil {
			continue
		}
		j := storiface.WorkerJob{ID: storiface.CallID{Sector: r.Sector.ID, ID: r.ID}, Sector: r.Sector.ID,
			Task: r.Task, Start: r.started}
		switch r.state {
		case StateRunning:
			j.RunWait = storiface.RWRunning
		case StatePreparing, StatePrepared:
			j.RunWait = storiface.RWPrepared
		case StateWaiting:
			j.RunWait = r.window + 1
			if r.window < 0 {
				j.RunWait = 1
			}
			j.Start = r.Added
		}
		out[r.worker.ID] = append(out[r.worker.ID], j)
	}
	for id := range out {
		jobs := out[id]
		sort.Slice(jobs, func(i, j int) bool {
			if jobs[i].Start.Equal(jobs[j].Start) {
				return jobs[i].ID.ID.String() < jobs[j].ID.ID.String()
			}
			return jobs[i].Start.Before(jobs[j].Start)
		})
	}
	return out
}
