package sched

import (
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/google/uuid"

	"sealfleet/resources"
	"sealfleet/storiface"
)

// The assigners: how the core ranks workers that are otherwise equal for a request.
const (
	// AssignerUtilization prefers the worker whose busiest resource is least used (the default).
	AssignerUtilization = "utilization"
	// AssignerSpread prefers the worker with the fewest tasks.
	AssignerSpread = "spread"
)

// CoreConfig configures the decision core.
type CoreConfig struct {
	// Assigner is AssignerUtilization (default when empty) or AssignerSpread.
	Assigner string
	// Windows is the number of windows per worker (default 2, as the reference's SchedWindows).
	Windows int
	// StarvationAfter is how long a request may wait before it reserves capacity on its best worker; 0 disables.
	StarvationAfter time.Duration
	// Seed drives the deterministic tie-break between equally ranked workers.
	Seed uint64
	// Table is the resource table for workers that report no overrides (default resources.DefaultTable()).
	Table resources.Table
	// Logger receives selector errors; nil discards them.
	Logger *slog.Logger
}

// ActionKind says what an Action asks the driver to do.
type ActionKind uint8

// The action kinds.
const (
	// ActPrepare: run the request's prepare step on the worker, then call PrepareDone.
	ActPrepare ActionKind = iota
	// ActWork: run the request's work on the worker, then call WorkDone.
	ActWork
)

// Action is one decision of the core for its driver to carry out.
type Action struct {
	Kind   ActionKind
	Req    *Request
	Worker storiface.WorkerID
}

type claimTotal struct {
	bytes uint64
	count int
}

// Core is the scheduler's pure decision core. It is not safe for concurrent use: one driver (the shell's loop or
// the simulator) calls it at a time. Events update its state; Step returns the actions they lead to.
type Core struct {
	cfg CoreConfig
	now time.Time

	handles  []*WorkerHandle
	versions []uint64 // handles[i].version, contiguous: heap freshness checks stay in cache
	byID     map[storiface.WorkerID]*WorkerHandle
	reqs     map[uuid.UUID]*Request
	queue    queue
	seq      uint64

	keys   []reqKey
	keyIdx map[reqKey]int
	// needTab caches each key's resolved needs per worker: [key][worker index], contiguous per key so building a
	// key's candidate heap walks memory in order.
	needTab [][]needSlot
	heaps   []candHeap

	ledger        map[storiface.ID]claimTotal
	ledgerVersion uint64
	filterCache   [][]filterEntry // [selector class][worker index]
	selClasses    map[selClass]int
	incoming      []*Request // added since the last Step, merged into queue in order

	dirty   bool
	pending []*WorkerHandle // workers whose resources changed since the last Step
	actions []Action
	scratch []heapEntry
	pass    uint64

	passes uint64

	// Starvation bookkeeping for one pass: workers without a reservation per task type, the keyed selector
	// classes that found no worker to reserve, and how many more worker evaluations reservations may cost.
	unreserved    [resources.MaxTaskTypes]int
	reserveFailed []uint64 // [selector class] = pass
	reserveBudget int
}

// NewCore validates cfg and returns an empty core.
func NewCore(cfg CoreConfig) (*Core, error) {
	switch cfg.Assigner {
	case "":
		cfg.Assigner = AssignerUtilization
	case AssignerUtilization, AssignerSpread:
	default:
		return nil, fmt.Errorf("assigner %q: accepted are %s, %s", cfg.Assigner, AssignerUtilization, AssignerSpread)
	}
	if cfg.Windows == 0 {
		cfg.Windows = 2
	}
	if cfg.Windows < 1 || cfg.Windows > 64 {
		return nil, fmt.Errorf("windows %d: accepted are 1..64", cfg.Windows)
	}
	if cfg.StarvationAfter < 0 {
		return nil, fmt.Errorf("starvation bound %s: must not be negative", cfg.StarvationAfter)
	}
	if cfg.Table == nil {
		cfg.Table = resources.DefaultTable()
	}
	return &Core{cfg: cfg, byID: map[storiface.WorkerID]*WorkerHandle{}, reqs: map[uuid.UUID]*Request{},
		keyIdx: map[reqKey]int{}, ledger: map[storiface.ID]claimTotal{}, selClasses: map[selClass]int{}}, nil
}

// Config returns the configuration in force (defaults filled in).
func (c *Core) Config() CoreConfig { return c.cfg }

// Passes returns how many assignment passes Step has run.
func (c *Core) Passes() uint64 { return c.passes }

// keyOf returns the dense key index of a request's resource class.
func (c *Core) keyOf(r *Request) int {
	k := reqKey{task: r.Task, ti: resources.TaskIndex(r.Task), spt: r.Sector.ProofType}
	if r.HasPrepare {
		k.prep = r.PrepType
		if k.prep == "" {
			k.prep = r.Task
		}
	}
	if i, ok := c.keyIdx[k]; ok {
		return i
	}
	c.keys = append(c.keys, k)
	c.heaps = append(c.heaps, candHeap{})
	c.keyIdx[k] = len(c.keys) - 1
	return len(c.keys) - 1
}

// AddWorker adds an enabled worker with what it reported.
func (c *Core) AddWorker(id storiface.WorkerID, info storiface.WorkerInfo, tasks map[storiface.TaskType]struct{},
	paths []storiface.StoragePath) error {
	if _, ok := c.byID[id]; ok {
		return fmt.Errorf("adding worker %s: %w", id, ErrDuplicateWorker)
	}
	h := newHandle(c, id, info, tasks, paths)
	h.idx = len(c.handles)
	c.handles = append(c.handles, h)
	c.versions = append(c.versions, h.version)
	c.byID[id] = h
	c.dirty = true
	return nil
}

// UpdateWorker replaces what a worker reported (after a restart). Tasks waiting on it go back to the queue.
func (c *Core) UpdateWorker(id storiface.WorkerID, info storiface.WorkerInfo, tasks map[storiface.TaskType]struct{},
	paths []storiface.StoragePath) error {
	h, ok := c.byID[id]
	if !ok {
		return fmt.Errorf("updating worker %s: %w", id, ErrUnknownWorker)
	}
	c.returnWaiting(h)
	h.setInfo(info, tasks, paths)
	c.dirty = true
	return nil
}

// DisableWorker stops assigning to a worker and returns the tasks waiting on it (not started) to the queue.
// Tasks preparing or running there stay accounted until their PrepareDone / WorkDone.
func (c *Core) DisableWorker(id storiface.WorkerID) error {
	h, ok := c.byID[id]
	if !ok {
		return fmt.Errorf("disabling worker %s: %w", id, ErrUnknownWorker)
	}
	h.Enabled = false
	c.returnWaiting(h)
	h.changed()
	c.dirty = true
	return nil
}

// EnableWorker makes a disabled worker eligible again.
func (c *Core) EnableWorker(id storiface.WorkerID) error {
	h, ok := c.byID[id]
	if !ok {
		return fmt.Errorf("enabling worker %s: %w", id, ErrUnknownWorker)
	}
	if !h.Enabled {
		h.Enabled = true
		h.changed()
		c.dirty = true
	}
	return nil
}

// RemoveWorker forgets a worker; its waiting tasks go back to the queue. Its preparing and running tasks end
// through PrepareDone / WorkDone as usual.
func (c *Core) RemoveWorker(id storiface.WorkerID) error {
	h, ok := c.byID[id]
	if !ok {
		return fmt.Errorf("removing worker %s: %w", id, ErrUnknownWorker)
	}
	h.Enabled = false
	c.returnWaiting(h)
	h.removed = true
	delete(c.byID, id)
	c.handles = append(c.handles[:h.idx], c.handles[h.idx+1:]...)
	c.versions = c.versions[:len(c.handles)]
	for i, o := range c.handles {
		o.idx = i
		c.versions[i] = o.version
	}
	for k := range c.heaps {
		c.heaps[k].built = 0 // indices moved: rebuild
	}
	c.needTab = nil
	c.dirty = true
	return nil
}

// Worker returns the handle of a worker, or nil.
func (c *Core) Worker(id storiface.WorkerID) *WorkerHandle { return c.byID[id] }

// Workers returns the handles in the order they were added. The slice is shared: do not modify it.
func (c *Core) Workers() []*WorkerHandle { return c.handles }

// AddRequest queues a request. Its ID must be unique among live requests.
func (c *Core) AddRequest(r *Request) error {
	if _, ok := c.reqs[r.ID]; ok {
		return fmt.Errorf("adding request %s: duplicate ID", r.ID)
	}
	if r.Sel == nil {
		return fmt.Errorf("adding request %s: no selector", r.ID)
	}
	c.seq++
	r.seq = c.seq
	r.key = c.keyOf(r)
	r.order = r.Task.Order()
	r.selClass = -1
	if k, ok := r.Sel.(Keyed); ok {
		sc := selClass{sel: k.Key(), task: r.Task, spt: int64(r.Sector.ProofType)}
		i, ok := c.selClasses[sc]
		if !ok {
			i = len(c.filterCache)
			c.selClasses[sc] = i
			c.filterCache = append(c.filterCache, nil)
		}
		r.selClass = i
		_, r.claims0 = r.Sel.(SpaceClaimer)
	}
	r.state = StateQueued
	r.worker = nil
	c.reqs[r.ID] = r
	c.incoming = append(c.incoming, r)
	c.dirty = true
	return nil
}

// Request returns a live request, or nil.
func (c *Core) Request(id uuid.UUID) *Request { return c.reqs[id] }

// CancelRequest removes a request that has not started (queued or waiting in a window) and reports whether it
// did; a started request is left alone (its work ends through its context).
func (c *Core) CancelRequest(id uuid.UUID) bool {
	r, ok := c.reqs[id]
	if !ok {
		return false
	}
	switch r.state {
	case StateQueued:
		r.state = StateDone
		c.queue.compact()
		c.mergeIncoming()
	case StateWaiting:
		c.unwait(r)
		r.state = StateDone
	default:
		return false
	}
	delete(c.reqs, id)
	c.dirty = true
	return true
}

// PrepareDone records the end of a request's prepare step. On success the work starts (an ActWork action at the
// next Step) when the worker has room, else the request waits there, prepared; on error the request ends and
// its resources are freed.
func (c *Core) PrepareDone(id uuid.UUID, err error) error {
	r, ok := c.reqs[id]
	if !ok || r.state != StatePreparing {
		return fmt.Errorf("prepare done for %s: request not preparing", id)
	}
	h := r.worker
	ns := h.need(r.key)
	c.releaseClaims(r)
	if err != nil {
		prep := ns.prepNeed()
		h.preparing.Free(&prep)
		h.committed.Free(&ns.need)
		r.state = StateDone
		delete(c.reqs, id)
	} else if h.canRun(r.key, r) == resources.Fits {
		c.run(r)
	} else {
		r.state = StatePrepared
		h.staged = append(h.staged, r)
	}
	c.touch(h)
	return nil
}

// run starts the work of a prepared request.
func (c *Core) run(r *Request) {
	h := r.worker
	ns := h.need(r.key)
	prep := ns.prepNeed()
	h.preparing.Free(&prep)
	h.active.Add(&ns.need)
	if h.reservedBy == r {
		h.reservedBy = nil
		c.pending = append(c.pending, h) // the reservation no longer holds others back
	}
	r.reserved = false
	r.state = StateRunning
	c.actions = append(c.actions, Action{Kind: ActWork, Req: r, Worker: h.ID})
	h.changed()
}

// WorkDone records the end of a request's work (successful or not) and frees its resources.
func (c *Core) WorkDone(id uuid.UUID) error {
	r, ok := c.reqs[id]
	if !ok || r.state != StateRunning {
		return fmt.Errorf("work done for %s: request not running", id)
	}
	h := r.worker
	ns := h.need(r.key)
	h.committed.Free(&ns.need)
	h.active.Free(&ns.need)
	r.state = StateDone
	delete(c.reqs, id)
	c.touch(h)
	return nil
}

// touch marks a worker's resources as changed: waiting tasks may start, the queue may move.
func (c *Core) touch(h *WorkerHandle) {
	h.changed()
	c.dirty = true
	if !h.removed {
		c.pending = append(c.pending, h)
	}
}

// Queued returns the number of queued requests.
func (c *Core) Queued() int {
	c.mergeIncoming()
	return len(c.queue)
}

// mergeIncoming sorts the requests added since the last Step and merges them into the queue: O(new·log new +
// queue) instead of one O(queue) insertion each.
func (c *Core) mergeIncoming() {
	out := c.incoming[:0]
	for _, r := range c.incoming {
		if r.state == StateQueued {
			out = append(out, r)
		}
	}
	c.incoming = nil
	if len(out) == 0 {
		return
	}
	slices.SortFunc(out, func(a, b *Request) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	})
	merged := make(queue, 0, len(c.queue)+len(out))
	i, j := 0, 0
	for i < len(c.queue) || j < len(out) {
		if j == len(out) || (i < len(c.queue) && !out[j].before(c.queue[i])) {
			merged = append(merged, c.queue[i])
			i++
		} else {
			merged = append(merged, out[j])
			j++
		}
	}
	c.queue = merged
}

// Live returns the number of requests not yet done.
func (c *Core) Live() int { return len(c.reqs) }

// Drain removes every request that has not started (queued or waiting) and returns them, for a driver that is
// closing. Preparing and running requests stay until PrepareDone / WorkDone.
func (c *Core) Drain() []*Request {
	var out []*Request
	for _, h := range c.handles {
		c.returnWaiting(h)
	}
	c.mergeIncoming()
	for _, r := range c.queue {
		if r.state == StateQueued {
			r.state = StateDone
			delete(c.reqs, r.ID)
			out = append(out, r)
		}
	}
	c.queue.compact()
	return out
}

// IdleWithEligibleWork returns the enabled workers that run nothing (no task preparing or running) although some
// queued, waiting or prepared-but-not-running request could run there: the worker lists its task type and the task fits the idle worker.
// The simulator uses it to measure idle time that a better decision could have avoided.
func (c *Core) IdleWithEligibleWork() []storiface.WorkerID {
	var keys []int
	seen := map[int]bool{}
	for _, r := range c.reqs {
		if (r.state == StateQueued || r.state == StateWaiting || r.state == StatePrepared) && !seen[r.key] {
			seen[r.key] = true
			keys = append(keys, r.key)
		}
	}
	var out []storiface.WorkerID
	for _, h := range c.handles {
		if !h.Enabled || h.committed.Tasks > 0 {
			continue
		}
		for _, k := range keys {
			if h.tasks[c.keys[k].ti] && h.everFits(k) == resources.Fits {
				out = append(out, h.ID)
				break
			}
		}
	}
	return out
}
