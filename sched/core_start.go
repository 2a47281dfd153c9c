package sched

import "sealfleet/resources"

// startWaiting starts the tasks waiting on h that now fit — the reservation holder first, then window by window
// in queue order — and then compacts h's windows.
func (c *Core) startWaiting(h *WorkerHandle) {
	if !h.Enabled && len(h.staged) == 0 {
		return
	}
	if r := h.reservedBy; r != nil && r.state == StatePrepared && h.canRun(r.key, r) == resources.Fits {
		c.unstage(r)
		c.run(r)
	}
	out := h.staged[:0]
	for _, r := range h.staged {
		if h.canRun(r.key, r) == resources.Fits {
			c.run(r)
			continue
		}
		out = append(out, r)
	}
	clear(h.staged[len(out):])
	h.staged = out
	if !h.Enabled || h.waiting == 0 {
		return
	}
	if r := h.reservedBy; r != nil && r.state == StateWaiting && h.canBegin(r) == resources.Fits {
		c.takeOut(r)
		c.start(r)
	}
	for wi := range h.windows {
		w := &h.windows[wi]
		out := w.todo[:0]
		for _, r := range w.todo {
			if r != h.reservedBy && h.canBegin(r) == resources.Fits {
				ns := h.need(r.key)
				w.alloc.Free(&ns.need)
				h.windowSum.Free(&ns.need)
				h.waiting--
				c.start(r)
				continue
			}
			out = append(out, r)
		}
		clear(w.todo[len(out):])
		w.todo = out
	}
	c.compactWindows(h)
}

// unstage removes a prepared request from its worker's staged list.
func (c *Core) unstage(r *Request) {
	h := r.worker
	for i, o := range h.staged {
		if o == r {
			h.staged = append(h.staged[:i], h.staged[i+1:]...)
			return
		}
	}
}

// takeOut removes a waiting request from its window without releasing its claims (it is about to start).
func (c *Core) takeOut(r *Request) {
	h := r.worker
	if r.window >= 0 {
		w := &h.windows[r.window]
		ns := h.need(r.key)
		w.alloc.Free(&ns.need)
		h.windowSum.Free(&ns.need)
		for i, o := range w.todo {
			if o == r {
				w.todo = append(w.todo[:i], w.todo[i+1:]...)
				break
			}
		}
	}
	h.waiting--
}

// compactWindows moves tasks from a later window to the one before it when they fit there, as the reference's
// workerCompactWindows does, so that tasks move up as earlier windows drain.
func (c *Core) compactWindows(h *WorkerHandle) {
	for wi := 1; wi < len(h.windows); wi++ {
		lower, w := &h.windows[wi-1], &h.windows[wi]
		out := w.todo[:0]
		for _, r := range w.todo {
			ns := h.need(r.key)
			if lower.alloc.CanHandle(&ns.need, &h.Info.Resources, h.Info.IgnoreResources) == resources.Fits {
				w.alloc.Free(&ns.need)
				h.windowSum.Free(&ns.need)
				h.waiting--
				c.wait(r, h, wi-1)
				continue
			}
			out = append(out, r)
		}
		clear(w.todo[len(out):])
		w.todo = out
	}
	h.changed()
}

// reserveWaiting gives each worker without a reservation to its oldest-in-queue-order starved waiting task that
// cannot start.
func (c *Core) reserveWaiting() {
	if c.cfg.StarvationAfter <= 0 {
		return
	}
	for _, h := range c.handles {
		if !h.Enabled || (h.waiting == 0 && len(h.staged) == 0) || h.reservedBy != nil {
			continue
		}
		var pick *Request
		for wi := range h.windows {
			for _, r := range h.windows[wi].todo {
				if c.starved(r) && (pick == nil || r.before(pick)) && h.canStart(r.key, r) != resources.Fits {
					pick = r
				}
			}
		}
		if pick != nil {
			h.reservedBy, pick.reserved = pick, true
			h.changed()
			c.reservedOn(h)
			c.pending = append(c.pending, h)
			continue
		}
		// A prepared task that waits too long to run reserves the worker's running capacity the same way.
		for _, r := range h.staged {
			if c.starved(r) {
				h.reservedBy, r.reserved = r, true
				h.changed()
				c.reservedOn(h)
				c.pending = append(c.pending, h)
				break
			}
		}
	}
}

// reserveFor gives a starved queued request, which no worker can take now, a reservation on its best worker:
// enabled, supporting the task, big enough when idle, accepted by the selector, not reserved by another request;
// ranked by selector score, then load, then the seeded tie-break. It costs at most O(workers) and is skipped when
// no unreserved worker takes the task type, when a request of the same keyed selector class found none in this
// pass, or when the pass's reservation budget (4 × workers evaluations) is spent; the next pass goes on.
func (c *Core) reserveFor(r *Request) {
	if c.unreserved[c.keys[r.key].ti] == 0 || c.reserveBudget <= 0 {
		return
	}
	if r.selClass >= 0 {
		for len(c.reserveFailed) <= r.selClass {
			c.reserveFailed = append(c.reserveFailed, 0)
		}
		if c.reserveFailed[r.selClass] == c.pass {
			return
		}
	}
	var best *WorkerHandle
	bestScore := -1.0
	for _, h := range c.handles {
		if !h.Enabled || h.reservedBy != nil || !h.tasks[c.keys[r.key].ti] {
			continue
		}
		c.reserveBudget--
		if h.everFits(r.key) != resources.Fits {
			continue
		}
		ok, score := c.filter(r, h)
		if !ok {
			continue
		}
		if best == nil || score > bestScore || (score == bestScore &&
			(h.loadFig() < best.loadFig() || (h.loadFig() == best.loadFig() && h.tiebreak < best.tiebreak))) {
			best, bestScore = h, score
		}
	}
	if best == nil {
		if r.selClass >= 0 {
			c.reserveFailed[r.selClass] = c.pass
		}
		return
	}
	c.reservedOn(best)
	if sc, ok := r.Sel.(SpaceClaimer); ok {
		r.claims = sc.Claim(r.ctx(), r.Task, r.Sector.ProofType, best)
		for _, cl := range r.claims {
			t := c.ledger[cl.Path]
			t.bytes += cl.Bytes
			t.count++
			c.ledger[cl.Path] = t
		}
		c.ledgerVersion++
	}
	r.state, r.worker, r.window, r.reserved = StateWaiting, best, -1, true
	best.reservedBy = r
	best.waiting++
	best.changed()
	c.pending = append(c.pending, best)
	if best.canStart(r.key, r) == resources.Fits && best.canBegin(r) == resources.Fits {
		c.takeOut(r)
		c.start(r)
	}
}

// rebalance moves each waiting task that cannot start on its worker to another eligible worker that can start it
// at once.
func (c *Core) rebalance() {
	for _, h := range c.handles {
		if h.waiting == 0 || !h.Enabled {
			continue
		}
		if r := h.reservedBy; r != nil && r.window < 0 {
			c.tryMove(r)
		}
		for wi := range h.windows {
			w := &h.windows[wi]
			for i := 0; i < len(w.todo); i++ {
				if c.tryMove(w.todo[i]) {
					i--
				}
			}
		}
	}
}

// tryMove moves waiting request r to a worker that can start it now, if its own cannot; it reports a move.
func (c *Core) tryMove(r *Request) bool {
	hp := c.heapFor(r.key)
	if !c.freshTop(hp, r.key) || !hp.e[0].now {
		return false // no worker can start it now: nowhere to move
	}
	if r.worker.canBegin(r) == resources.Fits {
		return false
	}
	cand, now, _ := c.choose(r, true)
	if cand == nil || !now {
		return false
	}
	c.unwait(r)
	c.assign(r, cand, true, -1)
	return true
}
