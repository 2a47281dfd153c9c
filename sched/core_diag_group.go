package sched

import (
	"slices"
	"sort"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/resources"
	"sealfleet/storiface"
)

// DiagIDs is how many request IDs (and their sectors) one grouped DiagRequest lists.
const DiagIDs = 20

// diagShape is what makes waiting requests alike for diagnosis: every worker gives each of them the same answer,
// so one of them (the first in queue order) is asked about and stands for all.
type diagShape struct {
	key      int // resource class: task, proof type, prepare type
	priority int
	sel      int // Keyed selector class (>= 0), or -1-i for the i-th distinct outcome of an unkeyed selector
	state    RequestState
	worker   int // index in the sorted workers of the worker it waits on, -1 when queued
	window   int
	reserved bool
	// rank is how many starvation-reservation holders rank before the request in queue order: whether a
	// worker's reservation holds a request back (canStart, canBegin) depends on that and nothing else about it.
	rank int
}

// diagAnswer is one worker's answer for one shape.
type diagAnswer struct {
	reason Reason
	detail string
}

// diagGroup is one shape's requests as the snapshot holds them: its first request's fields, the count, the
// first DiagIDs IDs and sectors, and every worker's answer for the first request: answers (shared by the groups
// of one answer class, see answerClass) with patches applied.
type diagGroup struct {
	shape   diagShape
	first   DiagRequest // without Reasons
	ids     []uuid.UUID
	sectors []abi.SectorID
	answers []diagAnswer // per worker of diagSnapshot.workers; shared, do not modify
	patches []diagPatch
}

// diagPatch replaces one worker's answer in a group's shared answers.
type diagPatch struct {
	worker int
	answer diagAnswer
}

// diagAnswers is the answers of an answer class and the worker whose answer in them is the class's first
// request's own (it waits there), -1 if none.
type diagAnswers struct {
	answers []diagAnswer
	own     int
}

// answerClass is the part of a shape every worker but the one a request waits on answers by: a request waiting
// on worker X gets, from every other worker, the answer a queued request of the same class gets.
func answerClass(sh diagShape) diagShape {
	return diagShape{key: sh.key, sel: sh.sel, rank: sh.rank}
}

// diagWorker is a worker as the snapshot names it.
type diagWorker struct {
	id   storiface.WorkerID
	host string
}

// diagOrder is a copy of the fields of a request that decide its queue order; before is that order
// (Request.before compares through it, and Diag sorts snapshots taken under the lock with it).
type diagOrder struct {
	priority, order int
	task            storiface.TaskType
	added           time.Time
	seq             uint64
}

func orderOf(r *Request) diagOrder {
	return diagOrder{priority: r.Priority, order: r.order, task: r.Task, added: r.Added, seq: r.seq}
}

func (a diagOrder) before(b diagOrder) bool {
	if a.priority != b.priority {
		return a.priority > b.priority
	}
	if a.order != b.order {
		return a.order < b.order
	}
	if a.task != b.task {
		return a.task < b.task
	}
	if !a.added.Equal(b.added) {
		return a.added.Before(b.added)
	}
	return a.seq < b.seq
}

// diagSnapshot is what Diag needs of the core, copied under the scheduler's lock: building the answer from it
// (grouping answers by reason, sorting assignments, allocating the result) needs no lock.
type diagSnapshot struct {
	workers     []diagWorker
	groups      []diagGroup // in queue order of their first request
	waiting     int
	windows     []DiagWindow
	assignments []DiagAssignment
	assignOrder []diagOrder // parallel to assignments
}

// diagSnapshot copies what Diag reports. Each worker is asked once per answer class (through the first request
// of the class in queue order) plus once or twice per group waiting on a worker: the cost is requests +
// classes × workers + groups, plus one Filter per (request, eligible worker) for requests whose selector is not
// Keyed (their answers depend on the sector).
func (c *Core) diagSnapshot() *diagSnapshot {
	c.newDiagPass()
	c.mergeIncoming()
	hs := c.sortedHandles()
	pos := make(map[*WorkerHandle]int, len(hs))
	s := &diagSnapshot{workers: make([]diagWorker, len(hs))}
	for i, h := range hs {
		pos[h] = i
		s.workers[i] = diagWorker{id: h.ID, host: h.Info.Hostname}
	}
	waiting, holders := c.diagWaiting()
	g := &diagGrouper{c: c, hs: hs, pos: pos, holders: holders, byShape: map[diagShape]int{},
		sigs: map[string]int{}, eligible: map[int][]int{}}
	// Queued and waiting requests in one queue order, so that each group's first request is its most urgent.
	qi, wi := 0, 0
	for qi < len(c.queue) || wi < len(waiting) {
		if wi == len(waiting) || (qi < len(c.queue) && c.queue[qi].before(waiting[wi])) {
			if r := c.queue[qi]; r.state == StateQueued { // the queue may hold requests that left it since a Step
				g.add(r, s)
			}
			qi++
		} else {
			g.add(waiting[wi], s)
			wi++
		}
	}
	g.answer(s)
	c.diagWindows(s)
	if len(c.reqs) == s.waiting {
		return s // nothing started: no assignments (skips a walk over every request)
	}
	for _, r := range c.reqs {
		if r.worker != nil && r.state != StateWaiting {
			s.assignments = append(s.assignments, DiagAssignment{ID: r.ID, Sector: r.Sector.ID, Task: r.Task,
				Worker: r.worker.ID, Hostname: r.worker.Info.Hostname, State: r.state.String(), Window: r.window,
				Started: r.started})
			s.assignOrder = append(s.assignOrder, orderOf(r))
		}
	}
	return s
}

// answer fills each group's answers: every worker is asked once per answer class, then each group waiting on a
// worker gets that worker's answer (and, when the class's answers came from a request waiting elsewhere, that
// other worker's answer) from its own first request.
func (g *diagGrouper) answer(s *diagSnapshot) {
	classes := map[diagShape]diagAnswers{}
	ask := func(r *Request, w int) diagAnswer {
		reason, detail := g.c.explain(r, g.hs[w])
		return diagAnswer{reason: reason, detail: detail}
	}
	for i := range s.groups {
		grp, rep := &s.groups[i], g.reps[i]
		cls, ok := classes[answerClass(grp.shape)]
		if !ok {
			cls = g.classAnswers(rep, grp.shape.worker, ask)
			classes[answerClass(grp.shape)] = cls
		}
		grp.answers = cls.answers
		if cls.own >= 0 && cls.own != grp.shape.worker {
			grp.patches = append(grp.patches, diagPatch{worker: cls.own, answer: ask(rep, cls.own)})
		}
		if w := grp.shape.worker; w >= 0 && w != cls.own {
			grp.patches = append(grp.patches, diagPatch{worker: w, answer: ask(rep, w)})
		}
	}
}

// diagDetailed is how many workers giving one reason get their detail worded in an answer class: Diag shows the
// first one's, and up to two of a class's answers are replaced in a group (its own worker and the class's).
const diagDetailed = 3

// classAnswers asks every worker about rep, wording the detail only for the first diagDetailed workers of each
// reason (ask words it).
func (g *diagGrouper) classAnswers(rep *Request, own int, ask func(*Request, int) diagAnswer) diagAnswers {
	cls := diagAnswers{answers: make([]diagAnswer, len(g.hs)), own: own}
	worded := map[Reason]int{}
	for j, h := range g.hs {
		reason, _ := g.c.explainAt(rep, h, false)
		if worded[reason] < diagDetailed {
			worded[reason]++
			cls.answers[j] = ask(rep, j)
			continue
		}
		cls.answers[j] = diagAnswer{reason: reason}
	}
	return cls
}

// diagWaiting returns the requests waiting on workers (in windows or holding a reservation) and the reservation
// holders, both in queue order.
func (c *Core) diagWaiting() (waiting, holders []*Request) {
	for _, h := range c.handles {
		for wi := range h.windows {
			waiting = append(waiting, h.windows[wi].todo...)
		}
		if r := h.reservedBy; r != nil {
			holders = append(holders, r)
			if r.state == StateWaiting && r.window < 0 {
				waiting = append(waiting, r) // held by the reservation, in no window
			}
		}
	}
	byQueue := func(a, b *Request) int {
		if a.before(b) {
			return -1
		}
		if b.before(a) {
			return 1
		}
		return 0
	}
	slices.SortFunc(waiting, byQueue)
	waiting = slices.Compact(waiting)
	slices.SortFunc(holders, byQueue)
	return waiting, holders
}

// diagWindows copies every window that holds waiting tasks.
func (c *Core) diagWindows(s *diagSnapshot) {
	for _, h := range c.handles {
		for wi := range h.windows {
			w := &h.windows[wi]
			if len(w.todo) == 0 {
				continue
			}
			dw := DiagWindow{Worker: h.ID, Hostname: h.Info.Hostname, Window: wi,
				Utilization: w.alloc.Utilization(&h.Info.Resources)}
			for _, r := range w.todo {
				dw.Tasks = append(dw.Tasks, r.ID)
			}
			s.windows = append(s.windows, dw)
		}
	}
}

// diagGrouper sorts requests into shapes.
type diagGrouper struct {
	c        *Core
	hs       []*WorkerHandle
	pos      map[*WorkerHandle]int
	holders  []*Request
	byShape  map[diagShape]int
	last     diagShape // the previous request's shape and group: queues hold long runs of one shape
	lastIdx  int
	reps     []*Request                // each group's first request
	sigs     map[string]int            // unkeyed selector outcomes seen
	eligible map[int][]int             // per request key: the workers the selector is asked about (see explain)
	paths    map[storiface.ID]struct{} // every worker's paths, for diagKeyer; built when first needed
	buf      []byte
}

// add puts r into its shape's group, starting one when r is the first of its shape.
func (g *diagGrouper) add(r *Request, s *diagSnapshot) {
	sh := diagShape{key: r.key, priority: r.Priority, sel: r.selClass, state: r.state, worker: -1,
		window: r.window, reserved: r.reserved}
	if r.worker != nil {
		sh.worker = g.pos[r.worker]
	} else {
		sh.window = 0
	}
	sh.rank = sort.Search(len(g.holders), func(i int) bool { return !g.holders[i].before(r) })
	if sh.sel < 0 {
		sh.sel = -1 - g.outcome(r)
	}
	s.waiting++
	i, ok := g.lastIdx, s.waiting > 1 && sh == g.last
	if !ok {
		i, ok = g.byShape[sh]
	}
	if !ok {
		i = len(s.groups)
		g.byShape[sh] = i
		g.reps = append(g.reps, r)
		s.groups = append(s.groups, diagGroup{shape: sh, first: DiagRequest{ID: r.ID, Sector: r.Sector.ID,
			Task: r.Task, ProofType: r.Sector.ProofType, Priority: r.Priority, State: r.state.String(),
			Worker: r.Worker(), Added: r.Added, Reserved: r.reserved}})
	}
	g.last, g.lastIdx = sh, i
	grp := &s.groups[i]
	grp.first.Count++
	if len(grp.ids) < DiagIDs {
		grp.ids = append(grp.ids, r.ID)
		grp.sectors = append(grp.sectors, r.Sector.ID)
	}
}

// outcome numbers the answers of r's (unkeyed) selector over the workers explain would ask it about: requests
// with the same number are accepted and rejected by the same workers. A selector that implements diagKeyer is
// numbered by its key, without asking the workers.
func (g *diagGrouper) outcome(r *Request) int {
	if dk, ok := r.Sel.(diagKeyer); ok {
		if g.paths == nil {
			g.paths = map[storiface.ID]struct{}{}
			for _, h := range g.hs {
				for _, p := range h.paths {
					g.paths[p.ID] = struct{}{}
				}
			}
		}
		if key, ok := dk.diagKey(r.ctx(), r.Sector.ProofType, g.c.pass, g.paths); ok {
			return g.number("k" + key)
		}
	}
	el, ok := g.eligible[r.key]
	if !ok {
		for i, h := range g.hs {
			if h.Enabled && h.Supports(r.Task) && h.everFits(r.key) == resources.Fits {
				el = append(el, i)
			}
		}
		g.eligible[r.key] = el
	}
	b := g.buf[:0]
	for _, i := range el {
		ok, _, err := r.Sel.Filter(r.ctx(), r.Task, r.Sector.ProofType, g.hs[i])
		switch {
		case err != nil:
			b = append(b, 'e')
		case ok:
			b = append(b, 'a')
		default:
			b = append(b, 'r')
		}
	}
	g.buf = b
	return g.number(string(b))
}

// number returns the number of an outcome signature: workers' answers ('a', 'r', 'e' per worker) or "k"+diagKey.
func (g *diagGrouper) number(sig string) int {
	n, ok := g.sigs[sig]
	if !ok {
		n = len(g.sigs)
		g.sigs[sig] = n
	}
	return n
}

// build turns the snapshot into the answer; it reads only the snapshot.
func (s *diagSnapshot) build() DiagInfo {
	out := DiagInfo{Waiting: s.waiting, OpenWindows: s.windows, Requests: make([]DiagRequest, 0, len(s.groups))}
	for i := range s.groups {
		grp := &s.groups[i]
		dr := grp.first
		dr.IDs, dr.Sectors = grp.ids, grp.sectors
		dr.Reasons = groupAnswers(grp.answers, grp.patches, s.workers)
		out.Requests = append(out.Requests, dr)
	}
	idx := make([]int, len(s.assignments))
	for i := range idx {
		idx[i] = i
	}
	sort.Slice(idx, func(a, b int) bool { return s.assignOrder[idx[a]].before(s.assignOrder[idx[b]]) })
	out.Assignments = make([]DiagAssignment, len(idx))
	for i, j := range idx {
		out.Assignments[i] = s.assignments[j]
	}
	return out
}

// groupAnswers groups workers' answers (ans with patches applied) by reason, most workers first, each with up to
// DiagExamples examples in worker order and the first example's detail.
func groupAnswers(ans []diagAnswer, patches []diagPatch, ws []diagWorker) []DiagReasonGroup {
	var out []DiagReasonGroup
	idx := map[Reason]int{}
	for j, a := range ans {
		for _, p := range patches {
			if p.worker == j {
				a = p.answer
			}
		}
		i, seen := idx[a.reason]
		if !seen {
			i = len(out)
			idx[a.reason] = i
			out = append(out, DiagReasonGroup{Reason: a.reason, Detail: a.detail})
		}
		g := &out[i]
		g.Count++
		if len(g.Workers) < DiagExamples {
			g.Workers = append(g.Workers, ws[j].id)
			g.Hostnames = append(g.Hostnames, ws[j].host)
		}
	}
	sort.SliceStable(out, func(i, j int) bool { return out[i].Count > out[j].Count })
	return out
}
