package sched

import "sealfleet/resources"

// heapEntry is one candidate worker for a request key, with the rank it had when last refreshed.
type heapEntry struct {
	w       int32
	now     bool // can start the key's request at once
	win     int8 // first window with room when !now
	load    float64
	tie     uint64
	version uint64
}

func (a *heapEntry) less(b *heapEntry) bool {
	if a.now != b.now {
		return a.now
	}
	if a.load != b.load {
		return a.load < b.load
	}
	return a.tie < b.tie
}

// candHeap is a min-heap of the workers that can take a request key, refreshed lazily: an entry whose worker
// changed since (version) is re-ranked when it reaches the top. Within a pass a worker's rank only worsens (its
// load grows), so the top, once fresh, is the true best.
type candHeap struct {
	built uint64 // pass the heap was built in; 0 = never
	e     []heapEntry
}

func (h *candHeap) up(i int) {
	for i > 0 {
		p := (i - 1) / 2
		if !h.e[i].less(&h.e[p]) {
			return
		}
		h.e[i], h.e[p] = h.e[p], h.e[i]
		i = p
	}
}

func (h *candHeap) down(i int) {
	n := len(h.e)
	for {
		l := 2*i + 1
		if l >= n {
			return
		}
		m := l
		if r := l + 1; r < n && h.e[r].less(&h.e[l]) {
			m = r
		}
		if !h.e[m].less(&h.e[i]) {
			return
		}
		h.e[i], h.e[m] = h.e[m], h.e[i]
		i = m
	}
}

func (h *candHeap) push(e heapEntry) {
	h.e = append(h.e, e)
	h.up(len(h.e) - 1)
}

func (h *candHeap) pop() heapEntry {
	top := h.e[0]
	last := len(h.e) - 1
	h.e[0] = h.e[last]
	h.e = h.e[:last]
	if last > 0 {
		h.down(0)
	}
	return top
}

// entryFor ranks worker wh for key k; ok is false when the worker cannot take the key at all right now.
func (c *Core) entryFor(wh *WorkerHandle, k int) (heapEntry, bool) {
	if !wh.Enabled || !wh.tasks[c.keys[k].ti] {
		return heapEntry{}, false
	}
	now := wh.canStart(k, nil) == resources.Fits
	win := -1
	if !now {
		if win, _ = wh.windowFor(k); win < 0 {
			return heapEntry{}, false
		}
	}
	return heapEntry{w: int32(wh.idx), now: now, win: int8(win), load: wh.loadFig(), tie: wh.tiebreak,
		version: wh.version}, true
}

// heapFor returns the candidate heap of key k for this pass, building it on first use.
func (c *Core) heapFor(k int) *candHeap {
	hp := &c.heaps[k]
	if hp.built == c.pass {
		return hp
	}
	hp.built = c.pass
	hp.e = hp.e[:0]
	for _, wh := range c.handles {
		if e, ok := c.entryFor(wh, k); ok {
			hp.e = append(hp.e, e)
		}
	}
	for i := len(hp.e)/2 - 1; i >= 0; i-- {
		hp.down(i)
	}
	return hp
}

// freshTop refreshes stale entries at the top of hp until the top is current; it returns false when hp is empty.
func (c *Core) freshTop(hp *candHeap, k int) bool {
	for len(hp.e) > 0 {
		top := &hp.e[0]
		if top.version == c.versions[top.w] {
			return true
		}
		e, ok := c.entryFor(c.handles[top.w], k)
		if !ok {
			hp.pop()
			continue
		}
		*top = e
		hp.down(0)
	}
	return false
}
