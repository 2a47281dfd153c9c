package sdr

import "os"

// populateStep and populateLead: while all its tables are full, the gatherer faults in the current layer's
// buffer 2 MiB (one huge page) at a time, up to populateLead bytes ahead of the labeler, so that the labeler
// does not take those faults and the work is spread over the layer. In layer 1 it goes on into the head of
// the other buffer, where layer 2 starts (untouched until then; a 2 MiB fault took the labeler 6–12 ms at
// the start of layer 2 on the development VM); from layer 2 on that buffer holds the previous layer.
const (
	populateStep = 2 << 20
	populateLead = 64 << 20
)

// touchMargin is how close to the labeler's position the gatherer does not touch pages (touchPage): those the
// labeler faults in itself.
const touchMargin = 64 << 10

// pageSize is the size of the small pages that the gatherer touches one by one.
var pageSize = os.Getpagesize()

// populateAhead faults in the next populateStep bytes of cur, from where the labeler is if it is further, then
// (layer 1) of the head of prev, if they are within populateLead of the labeler, and reports whether it did.
//
// It faults pages in by touching them (touchPage), not with madvise(MADV_POPULATE_WRITE) as before: each such
// call lasted milliseconds on the development VM (the host backs fresh memory on first touch), and the Go
// runtime's monitor thread takes the processor of a goroutine that stays in a system call past its tick,
// wakes another thread to run it, and polls every 20 µs for a while after each time. At 512MiB it woke
// 141–242 times a second against 198–439 with madvise (6 + 6 alternating runs; the ratio did not move
// through the noise: docs/bench/pc1.md, fifth session).
func (g *gatherer) populateAhead() bool {
	if !layersFaultLazily {
		return false
	}
	size, end, labelled := uint64(len(g.cur)), g.populateEnd(), g.labelled.Load()*NodeSize
	if g.populated >= end || g.populated > labelled+populateLead {
		return false
	}
	if g.populated < labelled { // the labeler got here first: its pages are in
		g.populated = labelled &^ uint64(pageSize-1)
	}
	buf, off, inCur := g.cur, g.populated, g.populated < size
	if !inCur {
		buf, off = g.prev, off-size
	}
	step := min(populateStep, uint64(len(buf))-off)
	for p := off; p < off+step; p += uint64(pageSize) {
		if inCur && p < g.labelled.Load()*NodeSize+touchMargin {
			continue // the labeler is (nearly) there
		}
		if g.quit.Load() {
			return false // stopped: the buffers are another layer's now (see touchPage)
		}
		touchPage(&buf[p])
	}
	g.populated += step
	return true
}

// populateEnd is where populating ends: the end of cur plus, in layer 1, the head of prev, as one offset
// (populated).
func (g *gatherer) populateEnd() uint64 {
	end := uint64(len(g.cur))
	if g.job.degree == BaseDegree {
		end += min(uint64(len(g.prev)), populateLead)
	}
	return end
}
