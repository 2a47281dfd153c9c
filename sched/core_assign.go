package sched

import (
	"time"

	"sealfleet/resources"
	"sealfleet/storiface"
)

// selClass interns what a Keyed selector's result depends on: its key, the task type and the proof type.
type selClass struct {
	sel  string
	task storiface.TaskType
	spt  int64
}

// filterEntry caches one Keyed selector class's answer for one worker, valid for one pass and ledger version.
type filterEntry struct {
	pass   uint64
	ledger uint64
	ok     bool
	score  float64
}

// Step runs the core after a batch of events at time now: waiting tasks start where resources freed up, starved
// requests take reservations, queued requests are placed, waiting tasks move to workers that can start them
// sooner. It returns the actions to carry out (including those PrepareDone produced since the last Step), in a
// fresh slice the caller owns.
func (c *Core) Step(now time.Time) []Action {
	c.now = now
	defer func() { c.actions = c.actions[:0] }()
	if !c.dirty && !c.starvationDue() {
		return append([]Action(nil), c.actions...)
	}
	c.dirty = false
	c.pass++
	c.passes++
	for _, h := range c.handles {
		h.pass = c.pass
	}

	c.mergeIncoming()
	for _, h := range c.pending {
		if !h.removed {
			c.startWaiting(h)
		}
	}
	c.pending = c.pending[:0]
	c.countUnreserved()
	c.reserveBudget = 4*len(c.handles) + 64
	c.reserveWaiting()
	for _, r := range c.queue {
		if r.state == StateQueued {
			c.place(r)
		}
	}
	c.queue.compact()
	c.rebalance()
	// Final sweep: workers whose resources or reservation changed during this pass may start waiting or prepared
	// tasks now; no task that can start is left waiting when Step returns.
	for i := 0; i < len(c.pending); i++ {
		if h := c.pending[i]; !h.removed {
			c.startWaiting(h)
		}
	}
	c.pending = c.pending[:0]
	return append([]Action(nil), c.actions...)
}

// NextWakeup returns when a Step would do something without any new event (a request reaching the starvation
// bound), or the zero time. Drivers with virtual time (the simulator) use it.
func (c *Core) NextWakeup() time.Time {
	if c.cfg.StarvationAfter <= 0 {
		return time.Time{}
	}
	var next time.Time
	for _, r := range c.reqs {
		if (r.state != StateQueued && r.state != StateWaiting) || r.reserved {
			continue
		}
		t := r.Added.Add(c.cfg.StarvationAfter)
		if t.After(c.now) && (next.IsZero() || t.Before(next)) {
			next = t
		}
	}
	return next
}

// starvationDue reports whether some request crossed the starvation bound without holding a reservation while
// a worker that could give it one exists. O(workers + requests).
func (c *Core) starvationDue() bool {
	if c.cfg.StarvationAfter <= 0 {
		return false
	}
	c.countUnreserved()
	for _, r := range c.reqs {
		if (r.state == StateQueued || r.state == StateWaiting) && !r.reserved && c.starved(r) &&
			c.unreserved[c.keys[r.key].ti] > 0 {
			return true
		}
	}
	return false
}

func (c *Core) starved(r *Request) bool {
	return c.cfg.StarvationAfter > 0 && c.now.Sub(r.Added) >= c.cfg.StarvationAfter
}

// countUnreserved counts, per task type, the enabled workers without a reservation that accept it.
func (c *Core) countUnreserved() {
	c.unreserved = [resources.MaxTaskTypes]int{}
	for _, h := range c.handles {
		if h.Enabled && h.reservedBy == nil {
			for i, ok := range h.tasks {
				if ok {
					c.unreserved[i]++
				}
			}
		}
	}
}

// reserved records that h took a reservation: it no longer counts as unreserved.
func (c *Core) reservedOn(h *WorkerHandle) {
	for i, ok := range h.tasks {
		if ok && c.unreserved[i] > 0 {
			c.unreserved[i]--
		}
	}
}

// place finds a worker for a queued request, or a reservation if it is starved.
func (c *Core) place(r *Request) {
	if h, now, win := c.choose(r, false); h != nil {
		c.assign(r, h, now, win)
		return
	}
	if c.starved(r) {
		c.reserveFor(r)
	}
}

// choose returns the best worker for r and whether r can start there at once. With onlyNow it considers only
// workers that can start r at once, other than the one r waits on.
func (c *Core) choose(r *Request, onlyNow bool) (*WorkerHandle, bool, int) {
	k := r.key
	hp := c.heapFor(k)
	var best *WorkerHandle
	bestScore, bestNow, bestWin := -1.0, false, -1
	c.scratch = c.scratch[:0]
	for c.freshTop(hp, k) {
		top := hp.e[0]
		if (best != nil && bestNow && !top.now) || (onlyNow && !top.now) {
			break
		}
		h := c.handles[top.w]
		if h != r.worker {
			ok, score := c.filter(r, h)
			if ok && (best == nil || score > bestScore) {
				best, bestScore, bestNow, bestWin = h, score, top.now, int(top.win)
			}
			if ok && score >= 1 {
				break // the top stays in the heap: nothing to pop and push back
			}
		}
		c.scratch = append(c.scratch, hp.pop())
	}
	for _, e := range c.scratch {
		hp.push(e)
	}
	return best, bestNow, bestWin
}

// filter runs r's selector on h (cached per pass for Keyed selectors) and returns acceptance and score.
func (c *Core) filter(r *Request, h *WorkerHandle) (bool, float64) {
	var fe *filterEntry
	if r.selClass >= 0 {
		row := c.filterCache[r.selClass]
		if len(row) < len(c.handles) {
			row = append(row, make([]filterEntry, len(c.handles)-len(row))...)
			c.filterCache[r.selClass] = row
		}
		fe = &row[h.idx]
		if fe.pass == c.pass && (!r.claims0 || fe.ledger == c.ledgerVersion) {
			return fe.ok, fe.score
		}
	}
	ctx := r.ctx()
	ok, _, err := r.Sel.Filter(ctx, r.Task, r.Sector.ProofType, h)
	if err != nil && c.cfg.Logger != nil {
		c.cfg.Logger.Warn("selector failed", "request", r.ID, "task", r.Task.Short(), "worker", h.ID, "err", err)
	}
	ok = ok && err == nil
	score := 0.0
	if ok {
		score = r.Sel.Score(ctx, r.Task, r.Sector.ProofType, h)
	}
	if fe != nil {
		*fe = filterEntry{pass: c.pass, ledger: c.ledgerVersion, ok: ok, score: score}
	}
	return ok, score
}

// assign gives r to h: it starts at once when it can, else waits in the first window with room (win, when the
// caller already knows it; -1 to look it up). Space claims are recorded in the same decision.
func (c *Core) assign(r *Request, h *WorkerHandle, now bool, win int) {
	if sc, ok := r.Sel.(SpaceClaimer); ok {
		r.claims = sc.Claim(r.ctx(), r.Task, r.Sector.ProofType, h)
		for _, cl := range r.claims {
			t := c.ledger[cl.Path]
			t.bytes += cl.Bytes
			t.count++
			c.ledger[cl.Path] = t
		}
		if len(r.claims) > 0 {
			c.ledgerVersion++
		}
	}
	r.worker = h
	// Start at once when it can run right away, or, with a prepare step, when the preparing budget has room
	// (prefetch: the fetch overlaps the tasks running there, as in the reference).
	if (now || r.HasPrepare) && h.canBegin(r) == resources.Fits {
		c.start(r)
		return
	}
	wi := win
	if wi < 0 {
		wi, _ = h.windowFor(r.key)
	}
	if wi < 0 {
		wi = len(h.windows) - 1 // only reached through a reservation; keep accounting consistent
	}
	c.wait(r, h, wi)
}

// wait puts r in window wi of h, keeping the window in queue order.
func (c *Core) wait(r *Request, h *WorkerHandle, wi int) {
	w := &h.windows[wi]
	ns := h.need(r.key)
	w.alloc.Add(&ns.need)
	h.windowSum.Add(&ns.need)
	i := len(w.todo)
	for i > 0 && r.before(w.todo[i-1]) {
		i--
	}
	w.todo = append(w.todo, nil)
	copy(w.todo[i+1:], w.todo[i:])
	w.todo[i] = r
	r.state, r.worker, r.window = StateWaiting, h, wi
	h.waiting++
	h.changed()
}

// unwait takes a waiting request out of its window (or reservation) and releases its claims.
func (c *Core) unwait(r *Request) {
	h := r.worker
	c.takeOut(r)
	if h.reservedBy == r {
		h.reservedBy = nil
	}
	r.reserved = false
	c.releaseClaims(r)
	r.worker = nil
	h.changed()
	c.touch(h)
}

// start moves r (assigned to r.worker) to preparing, or straight to running without a prepare step. The caller
// has checked that it can begin.
func (c *Core) start(r *Request) {
	h := r.worker
	ns := h.need(r.key)
	h.committed.Add(&ns.need)
	r.started = c.now
	if r.HasPrepare {
		prep := ns.prepNeed()
		h.preparing.Add(&prep)
		r.state = StatePreparing
		c.actions = append(c.actions, Action{Kind: ActPrepare, Req: r, Worker: h.ID})
	} else {
		c.releaseClaims(r)
		prep := ns.prepNeed()
		h.preparing.Add(&prep) // run frees it again: keeps one code path for both kinds
		c.run(r)
	}
	h.changed()
}

func (c *Core) releaseClaims(r *Request) {
	for _, cl := range r.claims {
		t := c.ledger[cl.Path]
		t.bytes -= cl.Bytes
		t.count--
		if t.count <= 0 {
			delete(c.ledger, cl.Path)
		} else {
			c.ledger[cl.Path] = t
		}
	}
	if len(r.claims) > 0 {
		c.ledgerVersion++
	}
	r.claims = nil
}

// returnWaiting sends every task waiting on h back to the queue.
func (c *Core) returnWaiting(h *WorkerHandle) {
	var back []*Request
	for wi := range h.windows {
		back = append(back, h.windows[wi].todo...)
	}
	if h.reservedBy != nil && h.reservedBy.window < 0 {
		back = append(back, h.reservedBy)
	}
	for _, r := range back {
		c.unwait(r)
		r.state = StateQueued
		c.queue.insert(r)
	}
	c.dirty = true
}
