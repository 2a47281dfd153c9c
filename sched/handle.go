package sched

import (
	"hash/fnv"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/resources"
	"sealfleet/storiface"
)

// WorkerHandle is the core's view of one worker: what it reported (info, task types, paths) and the resources
// its tasks hold. Selectors read it through the exported methods; only the core changes it.
type WorkerHandle struct {
	// Hot fields first: re-ranking a worker in a candidate heap reads these, and the pass touches thousands of
	// handles, so keeping them on few cache lines matters.
	version  uint64 // bumped on every change to the resource state
	loadAt   uint64
	load     float64 // assigner load figure, valid when loadAt == version
	tiebreak uint64
	idx      int // position in Core.handles
	core     *Core
	Enabled  bool
	removed  bool
	tasks    [resources.MaxTaskTypes]bool
	waiting  int // tasks in windows (and the reservation slot)
	windows  []window

	reservedBy *Request // a starved request holding a reservation here
	Info       storiface.WorkerInfo

	committed resources.Active // needs of every started task: preparing, prepared (staged) and running
	windowSum resources.Active // sum of the windows' allocations
	active    resources.Active // running tasks only: the budget a task's work starts against
	preparing resources.Active // prep needs of preparing and staged tasks: the budget prepare steps start against
	staged    []*Request       // prepared, waiting for room in active

	ID      storiface.WorkerID
	taskSet map[storiface.TaskType]struct{}
	paths   []storiface.StoragePath
	pathIDs map[storiface.ID]struct{}
	table   resources.Table // effective table: the core's default overlaid with the worker's own rows
	pass    uint64          // the core's pass counter, for selectors that memoize per pass
}

type window struct {
	alloc resources.Active
	todo  []*Request
}

// needSlot is one worker's resolved needs for one request key, sized to one cache line: the prepare step's need
// is the work's need with the prep type's task index and MaxConcurrent (prepNeed).
type needSlot struct {
	need     resources.Need
	prepTask int16
	prepMax  int16
	ok       bool
}

// prepNeed returns the need the prepare step accounts in the preparing budget.
func (s *needSlot) prepNeed() resources.Need {
	p := s.need
	p.Task, p.MaxConcurrent = int32(s.prepTask), int32(s.prepMax)
	return p
}

// TaskTypes returns the task types the worker accepts. The map is shared: do not modify it.
func (h *WorkerHandle) TaskTypes() map[storiface.TaskType]struct{} { return h.taskSet }

// Supports reports whether the worker accepts task type tt.
func (h *WorkerHandle) Supports(tt storiface.TaskType) bool { return h.tasks[resources.TaskIndex(tt)] }

// Paths returns the worker's local storage paths. The slice is shared: do not modify it.
func (h *WorkerHandle) Paths() []storiface.StoragePath { return h.paths }

// HasPath reports whether the path is one of the worker's local paths.
func (h *WorkerHandle) HasPath(id storiface.ID) bool { _, ok := h.pathIDs[id]; return ok }

// Utilization returns the busiest resource dimension of the tasks running, preparing and waiting in windows on the
// worker, as a fraction of its resources (it can exceed 1 when windows hold waiting tasks).
func (h *WorkerHandle) Utilization() float64 {
	return resources.UtilizationOf(&h.committed, &h.windowSum, &h.Info.Resources)
}

// TaskCount returns the number of tasks running, preparing or waiting on the worker.
func (h *WorkerHandle) TaskCount() int { return h.committed.Tasks + h.waiting }

// Pass returns the core's pass counter; selectors may memoize index reads for the duration of one pass.
func (h *WorkerHandle) Pass() uint64 { return h.pass }

// PendingClaims returns the bytes and the number of claims recorded in the core's ledger and not yet released for
// a storage path (see SpaceClaimer).
func (h *WorkerHandle) PendingClaims(path storiface.ID) (bytes uint64, count int) {
	if h.core == nil {
		return 0, 0
	}
	c := h.core.ledger[path]
	return c.bytes, c.count
}

// Resources returns what one task of (tt, spt) needs on this worker, after the worker's own overrides.
func (h *WorkerHandle) Resources(tt storiface.TaskType, spt abi.RegisteredSealProof) storiface.Resources {
	return h.table.Spec(tt, spt)
}

func newHandle(c *Core, id storiface.WorkerID, info storiface.WorkerInfo, tasks map[storiface.TaskType]struct{},
	paths []storiface.StoragePath) *WorkerHandle {
	h := &WorkerHandle{ID: id, Enabled: true, core: c, windows: make([]window, c.cfg.Windows), idx: len(c.handles)}
	hash := fnv.New64a()
	var seed [8]byte
	for i := range seed {
		seed[i] = byte(c.cfg.Seed >> (8 * i))
	}
	hash.Write(seed[:])
	hash.Write(id[:])
	h.tiebreak = hash.Sum64()
	h.setInfo(info, tasks, paths)
	return h
}

// setInfo replaces what the worker reported; cached needs are recomputed lazily.
func (h *WorkerHandle) setInfo(info storiface.WorkerInfo, tasks map[storiface.TaskType]struct{}, paths []storiface.StoragePath) {
	h.Info = info
	h.taskSet = make(map[storiface.TaskType]struct{}, len(tasks))
	h.tasks = [resources.MaxTaskTypes]bool{}
	for tt := range tasks {
		h.taskSet[tt] = struct{}{}
		h.tasks[resources.TaskIndex(tt)] = true
	}
	h.paths = append([]storiface.StoragePath(nil), paths...)
	h.pathIDs = make(map[storiface.ID]struct{}, len(paths))
	for _, p := range paths {
		h.pathIDs[p.ID] = struct{}{}
	}
	h.table = h.core.cfg.Table
	if len(info.Resources.Resources) > 0 {
		t := h.core.cfg.Table.Clone()
		for tt, m := range info.Resources.Resources {
			if t[tt] == nil {
				t[tt] = map[abi.RegisteredSealProof]storiface.Resources{}
			}
			for spt, r := range m {
				t[tt][spt] = r
			}
		}
		h.table = t
	}
	if h.core != nil {
		for k := range h.core.needTab {
			if row := h.core.needTab[k]; h.idx < len(row) {
				row[h.idx].ok = false
			}
		}
	}
	h.changed()
}

// need returns the resolved needs of a request key on this worker (work and prepare).
func (h *WorkerHandle) need(k int) *needSlot {
	c := h.core
	for len(c.needTab) <= k {
		c.needTab = append(c.needTab, nil)
	}
	row := c.needTab[k]
	if len(row) <= h.idx {
		row = append(row, make([]needSlot, len(c.handles)+1-len(row))...)
		c.needTab[k] = row
	}
	s := &row[h.idx]
	if !s.ok {
		key := h.core.keys[k]
		wr := &h.Info.Resources
		s.need = resources.NeedFor(key.task, h.table.Spec(key.task, key.spt), wr)
		s.prepTask, s.prepMax = int16(s.need.Task), int16(min(s.need.MaxConcurrent, 1<<14))
		if key.prep != "" && key.prep != key.task {
			// As the reference's PrepResourceSpec: the work's resources, limited by the prep type's MaxConcurrent.
			pr := h.table.Spec(key.prep, key.spt)
			s.prepTask, s.prepMax = int16(resources.TaskIndex(key.prep)), int16(min(pr.MaxConcurrent, 1<<14))
		}
		s.ok = true
	}
	return s
}

// changed invalidates heap entries and the load figure (recomputed lazily by loadFig).
func (h *WorkerHandle) changed() {
	h.version++
	h.loadAt = 0
	if c := h.core; c != nil && h.idx < len(c.versions) && c.handles[h.idx] == h {
		c.versions[h.idx] = h.version
	}
}

// loadFig returns the assigner's load figure: utilization of running + preparing + window-assigned tasks, or for
// the spread assigner their number.
func (h *WorkerHandle) loadFig() float64 {
	if h.loadAt == h.version {
		return h.load
	}
	h.loadAt = h.version
	if h.core != nil && h.core.cfg.Assigner == AssignerSpread {
		h.load = float64(h.committed.Tasks + h.waiting)
	} else {
		h.load = resources.UtilizationOf(&h.committed, &h.windowSum, &h.Info.Resources)
	}
	return h.load
}

// startBudget returns the resources held on the worker as seen by a task other than the reservation holder self:
// running + preparing, plus the reserved request's needs.
func (h *WorkerHandle) startBudget(self *Request) resources.Active {
	a := h.committed
	if h.reservedBy != nil && h.reservedBy != self {
		ns := h.need(h.reservedBy.key)
		a.Add(&ns.need)
	}
	return a
}

// canStart reports whether a request with key k (self: the request itself, or nil for "any other request")
// could start on the worker now, and the shortfall if not.
func (h *WorkerHandle) canStart(k int, self *Request) resources.Shortfall {
	ns := h.need(k)
	if h.core.keys[k].prep != "" && ns.prepMax > 0 && h.preparing.Counts[ns.prepTask] >= int32(ns.prepMax) {
		return resources.ShortMaxConcurrent
	}
	if h.reservedBy == nil || h.reservedBy == self || (self != nil && self.before(h.reservedBy)) {
		return h.committed.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources)
	}
	a := h.startBudget(self)
	return a.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources)
}

// windowFor returns the first window with room for a request with key k, or -1 and the last window's shortfall.
func (h *WorkerHandle) windowFor(k int) (int, resources.Shortfall) {
	ns := h.need(k)
	sf := resources.Fits
	for i := range h.windows {
		sf = h.windows[i].alloc.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources)
		if sf == resources.Fits {
			return i, sf
		}
	}
	return -1, sf
}

// canPrepare reports whether a request with key k could start its prepare step now: the prep type's
// MaxConcurrent and the preparing budget (which also holds prepared tasks waiting to run, as in the reference).
func (h *WorkerHandle) canPrepare(k int) resources.Shortfall {
	ns := h.need(k)
	if ns.prepMax > 0 && h.preparing.Counts[ns.prepTask] >= int32(ns.prepMax) {
		return resources.ShortMaxConcurrent
	}
	prep := ns.prepNeed()
	return h.preparing.CanHandle(&prep, &h.Info.Resources, h.Info.IgnoreResources)
}

// canRun reports whether the work of a request with key k could start now against the running tasks, leaving
// room for the reservation holder unless self is the holder, ranks before it, or already began here (it was
// admitted before the reservation, or fitted alongside it — see canBegin).
func (h *WorkerHandle) canRun(k int, self *Request) resources.Shortfall {
	ns := h.need(k)
	admitted := self != nil && (self.state == StatePrepared || self.state == StatePreparing)
	if h.reservedBy == nil || h.reservedBy == self || admitted || h.reservedBy.state == StateRunning ||
		(self != nil && self.before(h.reservedBy)) {
		return h.active.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources)
	}
	a := h.active
	rn := h.need(h.reservedBy.key)
	a.Add(&rn.need)
	return a.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources)
}

// heldBack reports whether the worker's reservation holds r back: it does for every request that ranks after the
// holder in queue order (priority, task order, age); requests ranking before it are more urgent anyway.
func (h *WorkerHandle) heldBack(r *Request) bool {
	return h.reservedBy != nil && h.reservedBy != r && !r.before(h.reservedBy)
}

// canBegin reports whether a waiting request r can leave its window now: its prepare step can start, or, without
// one, its work can. While the worker's reservation holds r back, r begins only if it fits alongside the reserved
// one in everything started there, so prepared tasks cannot slip past the reservation.
func (h *WorkerHandle) canBegin(r *Request) resources.Shortfall {
	if h.heldBack(r) {
		if sf := h.canStart(r.key, r); sf != resources.Fits {
			return sf
		}
	}
	if r.HasPrepare {
		return h.canPrepare(r.key)
	}
	return h.canRun(r.key, r)
}

// everFits reports whether a request with key k could run on the worker if it were idle.
func (h *WorkerHandle) everFits(k int) resources.Shortfall {
	var empty resources.Active
	ns := h.need(k)
	return empty.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources)
}

// ActiveUtilization returns the busiest resource dimension of the tasks running (work phase) on the worker.
func (h *WorkerHandle) ActiveUtilization() float64 { return h.active.Utilization(&h.Info.Resources) }
