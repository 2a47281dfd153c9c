package sdr

import (
	"context"
	"fmt"
	"sync/atomic"
	"time"
	"unsafe"
)

// gatherChunkNodes is how many nodes one table of parents' label addresses covers (8Ki rows of up to 14
// labels: 3.5 MiB of copies, 0.9 MiB of addresses and 0.25 MiB of first-block states): the labeler labels one
// table's nodes per kernel call.
const gatherChunkNodes = 1 << 13

// Scratch shapes by layer size (newLabelScratch). Layers from hugeTablesLayerBytes on get many tables, so that
// the gatherer can work up to seven chunks (about 50 ms) ahead of the labeler and ride out the time slices
// the other core's work takes (with four tables the labeler still waited 8–22 ns per node at 512MiB; with
// eight, 0.5–2), in huge pages, which spare the labeler a TLB miss every few nodes as it reads the copies.
// Smaller layers get few tables in small pages: there the first faults of the tables' memory are a visible
// part of the run (a 2 MiB fault costs about 12 ms on the development VM, and the labeler takes those of the
// first table), and eight tables measured a median ratio of 1.06 at 8MiB against 1.03 with four.
const (
	hugeTablesLayerBytes = 64 << 20
	smallLayerTables     = 4
	largeLayerTables     = 8
)

// firstChunkNodes is the size of a layer's first chunk, whose table the labeler fills itself before it can
// start (startGatherer); the chunks after it double in size up to the scratch's chunk, so that the gatherer,
// started at the same moment, stays ahead of the labeler from the second chunk on. Filling a whole first
// table of 8Ki nodes with the copies of layer 2's expander parents kept the labeler 2.5–3.5 ms per layer.
const firstChunkNodes = 1 << 8

// gatherPoll is the shortest the gatherer sleeps when all tables are full (see gatherer.nap for how long it
// sleeps once it knows the labeler's pace). It polls rather than being woken: a wake-up sent from the labeling
// thread tends to run the woken thread on the labeler's own core.
const gatherPoll = 200 * time.Microsecond

// maxNap is the longest the gatherer sleeps while waiting for the labeler to free a table; it is below the
// time the labeler takes to label the chunks of the tables the gatherer has filled ahead (three or more
// chunks of 8Ki nodes, about 7 ms each on the development VM).
const maxNap = 20 * time.Millisecond

// rowTable is what the labeler needs for one chunk of nodes: each node's row of parents' label addresses, and
// the labels the gatherer copied for it.
type rowTable struct {
	lo, hi uint64
	// rows holds degree addresses per node for nodes lo.. hi-1, then prefetchDistance rows for the nodes after
	// (their labels are only prefetched; the rows of nodes past the last one repeat the last node's).
	rows []unsafe.Pointer
	// copies holds, for node lo+i, the labels of its parents copied at copies[(i·degree+slot)·NodeSize:].
	copies []byte
	// starts holds, for node lo+i, the state after its label's block 0 at starts[i·startSize:] (writeStarts).
	starts []byte
}

// assign points job at the table's nodes, rows and starts.
func (t *rowTable) assign(job *labelJob) {
	job.table, job.starts, job.lo, job.hi = unsafe.SliceData(t.rows), unsafe.SliceData(t.starts), t.lo, t.hi
}

// labelScratch is the tables the gatherer fills in turn; a Label run allocates it once for all layers.
type labelScratch struct {
	tables []rowTable
	// spare is the labeler's own table, for chunks it fills itself (gatherer.table); the gatherer never
	// touches it, so the two never write the same table.
	spare rowTable
	chunk uint64
	// selfFillAfter is how long the labeler waits for a table the gatherer has not started before filling it
	// itself (gatherer.table).
	selfFillAfter time.Duration
	// stall, when set (tests only), holds the gatherer back while true, after it has claimed its first chunk;
	// holdStart holds it back before it starts.
	stall, holdStart *atomic.Bool
	// arena owns the tables' memory (and, in a Label run, the layer buffers'); ownsArena is set when the
	// scratch created it, so that Close releases it.
	arena     *arena
	ownsArena bool
}

// defaultSelfFillAfter: the gatherer normally works several chunks ahead, so a labeler that has waited this
// long for a chunk nobody is filling is facing a starved gatherer.
const defaultSelfFillAfter = 2 * time.Millisecond

// newLabelScratch allocates the tables for a layer of layerBytes, for chunks of at most chunk nodes, in an
// anonymous mapping whose pages are faulted in by the first table fill that reaches them; see
// hugeTablesLayerBytes for how many and which pages, plus the labeler's spare. The
// rows hold addresses of labels in layer buffers and copies, which their owners keep alive (the garbage
// collector does not scan this memory). The mapping belongs to arena a (a new one if nil, released by Close).
func newLabelScratch(chunk, layerBytes uint64, a *arena) (*labelScratch, error) {
	rowsLen := (chunk + prefetchDistance) * TotalParents
	copiesLen := chunk * TotalParents * NodeSize
	startsLen := chunk * startSize
	per := rowsLen*uint64(unsafe.Sizeof(unsafe.Pointer(nil))) + copiesLen + startsLen
	tables, alloc := smallLayerTables, mapAnon
	if layerBytes >= hugeTablesLayerBytes {
		tables, alloc = largeLayerTables, allocLayer
	}
	buf, free, err := alloc(uint64(tables+1) * per)
	if err != nil {
		return nil, fmt.Errorf("allocating the labeler's tables: %w", err)
	}
	s := &labelScratch{tables: make([]rowTable, tables), chunk: chunk, selfFillAfter: defaultSelfFillAfter, arena: a}
	if a == nil {
		s.arena, s.ownsArena = newArena(), true
	}
	s.arena.add(free)
	for i := 0; i <= tables; i++ {
		t := &s.spare // region 0, then the ring
		if i > 0 {
			t = &s.tables[i-1]
		}
		region := buf[uint64(i)*per : uint64(i+1)*per]
		t.rows = unsafe.Slice((*unsafe.Pointer)(unsafe.Pointer(&region[0])), rowsLen)
		t.copies = region[per-copiesLen-startsLen : per-startsLen]
		t.starts = region[per-startsLen:]
	}
	return s, nil
}

// table returns the table of chunk c.
func (s *labelScratch) table(c uint64) *rowTable { return &s.tables[c%uint64(len(s.tables))] }

// Close releases the tables' memory if the scratch owns its arena (each layer's gatherer must have been
// stopped); the memory is unmapped once no gatherer goroutine holds the arena either. A scratch made in a
// caller's arena is released with it.
func (s *labelScratch) Close() {
	if s.ownsArena {
		s.arena.release()
	}
}

// gatherer fills the tables for the chunks of one layer on its own goroutine, ahead of the labeler, so that
// the labeler's reads are mostly sequential. The labels of a layer are a strict chain, so one thread hashes;
// parents' labels that are read at random — all expander parents (in the previous layer, which is complete),
// and base parents already labelled when the table is filled — are copied by the gatherer, on the other core,
// into the table's copies in the order the labeler reads them. Only base parents close behind the node being
// labelled (a few chunks back at most, in the caches) are read where they are.
//
// The labeler and the gatherer only exchange atomic counters: the labeler publishes how many nodes are
// labelled (labelled), the gatherer how many chunks' tables are ready (filled); whoever waits polls.
//
// Measured on this VM (docs/bench/pc1.md): with every parent read where it is, 512MiB labeling costs 20–40 %
// over bare SHA-256 (random reads over two 512 MiB layers miss the TLB, and a prefetch does not take the page
// walk off the hashing thread); reading the copies costs a few per cent.
type gatherer struct {
	pc        *ParentsCache
	cur, prev []byte
	// job holds the layer's fields of the label jobs (replica id, layer, degree), for writeStarts and the rows.
	job      labelJob
	nodes    uint64
	scratch  *labelScratch
	labelled *atomic.Uint64 // published by the labeler: the labels of nodes [0, labelled) are final
	// consumed is published by the labeler after labelled: it is done with the tables of chunks [0, consumed).
	// A table is refilled only once its chunk is consumed: waiting for labelled alone let the gatherer refill
	// an empty chunk's table (chunks of one node: chunk 0 holds no node) before the labeler had read it.
	consumed atomic.Uint64
	filled   atomic.Uint64 // the tables of chunks [0, filled) are ready (or filled by the labeler)
	claimed  atomic.Uint64 // chunks [0, claimed) are taken, by the gatherer or by the labeler itself
	ramp     chunkRamp
	// populated: cur[:populated] is faulted in, and past len(cur) prev[:populated-len(cur)] (populate.go).
	populated uint64
	started   atomic.Bool // the gatherer is running
	quit      atomic.Bool
	busy      atomic.Bool // the gatherer may be claiming or filling a table (see fillTables and stop)
	// selfFilled counts the chunks the labeler filled itself, and patience is how long it waits for the next
	// late table before it does (both used by the labeler only; see table).
	selfFilled uint64
	patience   time.Duration
	// pace measures the labeler's pace from the gatherer's first wait in this layer (nap).
	pace pacer
	// fillCPU is the thread CPU time, in nanoseconds, the gathering goroutine has spent filling tables (Linux;
	// 0 elsewhere).
	fillCPU atomic.Int64
}

// startGatherer fills the table of the first chunk of a layer whose node 0 is already labelled on the calling
// goroutine — the labeler has nothing to do until it is ready, and at the start of a layer the other core is
// busy completing the previous layer's file; the chunk is small (firstChunkNodes) — and starts the gathering
// goroutine for the others.
// The layer is job's (newLayerJob).
func startGatherer(pc *ParentsCache, job labelJob, cur, prev []byte, scratch *labelScratch,
	labelled *atomic.Uint64) *gatherer {
	g := &gatherer{pc: pc, cur: cur, prev: prev, job: job, nodes: uint64(len(cur)) / NodeSize,
		scratch: scratch, labelled: labelled,
		ramp: newChunkRamp(firstChunkNodes, scratch.chunk), patience: scratch.selfFillAfter}
	g.fill(scratch.table(0), g.bounds(0), labelled.Load())
	g.filled.Store(1)
	g.claimed.Store(1)
	if !pc.retain() {
		return g // the cache is closed (a caller's mistake): the labeler fills every table itself
	}
	scratch.arena.retain()
	go g.run()
	return g
}

// chunks is the number of chunks in the layer.
func (g *gatherer) chunks() uint64 { return g.ramp.chunks(g.nodes) }

// bounds returns the nodes of chunk c (node 0, labelled apart, is in no chunk).
func (g *gatherer) bounds(c uint64) [2]uint64 {
	return [2]uint64{max(g.ramp.start(c), 1), min(g.ramp.start(c+1), g.nodes)}
}

// chunkRamp places the chunks of a layer: from first nodes, each chunk doubles in size until it reaches full,
// and all later chunks have full nodes (first = full: all chunks alike).
type chunkRamp struct {
	first, full uint64
	// steps is the number of chunks smaller than full, and end where they end.
	steps, end uint64
}

// newChunkRamp returns the ramp for chunks of at most full nodes, starting at min(first, full).
func newChunkRamp(first, full uint64) chunkRamp {
	r := chunkRamp{first: min(first, full), full: full}
	for size := r.first; size < full; size *= 2 {
		r.steps++
		r.end += size
	}
	return r
}

// start returns the first node of chunk c.
func (r chunkRamp) start(c uint64) uint64 {
	if c < r.steps {
		return r.first * (1<<c - 1)
	}
	return r.end + (c-r.steps)*r.full
}

// chunks returns how many chunks cover nodes nodes.
func (r chunkRamp) chunks(nodes uint64) uint64 {
	if nodes <= r.end {
		c := uint64(0)
		for r.start(c) < nodes {
			c++
		}
		return c
	}
	return r.steps + (nodes-r.end+r.full-1)/r.full
}

// run fills the table of each chunk c ≥ 1 once the labeler has finished chunk c-n (n tables), whose table it
// reuses, copying the base parents labelled by then — unless the labeler, tired of waiting, took chunk c.
//
// Once it is done with the tables it goes on faulting in pages ahead of the labeler (populateAhead: by then
// the rest of cur and the head of prev) until there are none left or the layer's gatherer is stopped; that
// touches no table and changes no label, so stop does not wait for it (labelScratch.Close does).
func (g *gatherer) run() {
	backgroundThread(true)
	defer g.pc.release()
	defer g.scratch.arena.release()
	for g.scratch.holdStart != nil && g.scratch.holdStart.Load() && !g.quit.Load() {
		time.Sleep(gatherPoll)
	}
	g.started.Store(true)
	g.fillTables()
	for !g.quit.Load() && g.populateAhead() { // a step of pages per call
	}
}

// fillTables is run's table loop; it returns when all chunks are taken or the gatherer is stopped.
func (g *gatherer) fillTables() {
	for c := uint64(1); c < g.chunks(); c++ {
		if n := uint64(len(g.scratch.tables)); c >= n {
			for g.consumed.Load() <= c-n {
				if g.quit.Load() {
					return
				}
				if !g.populateAhead() {
					time.Sleep(g.nap(g.bounds(c - n)[1], time.Now()))
				}
			}
		}
		// busy is set before quit is read, and stop sets quit before it reads busy: either stop sees this
		// gatherer busy, or this gatherer sees quit and claims nothing.
		g.busy.Store(true)
		if g.quit.Load() {
			g.busy.Store(false)
			return
		}
		if !g.claimed.CompareAndSwap(c, c+1) {
			g.busy.Store(false)
			continue // the labeler filled it
		}
		for g.scratch.stall != nil && g.scratch.stall.Load() {
			if g.quit.Load() {
				g.busy.Store(false)
				return
			}
			time.Sleep(gatherPoll)
		}
		cpu := threadCPU() // the goroutine is locked to its thread (backgroundThread)
		g.fill(g.scratch.table(c), g.bounds(c), g.labelled.Load())
		g.fillCPU.Add(int64(threadCPU() - cpu))
		// Not busy before the table is published: a labeler that has labelled the layer's last chunk from it
		// and stops the gatherer must find the tables free.
		g.busy.Store(false)
		g.filled.Store(c + 1)
	}
}

// nap returns how long to sleep, at now, while waiting for the labeler to reach node need (pacer.nap, from
// gatherPoll to maxNap). Polling every gatherPoll instead woke the gatherer's core about 35 times per chunk,
// and the labeler's CPU time per node was 1.5 % higher (8MiB, 16 interleaved runs each: cpuRatio median 1.016
// against 0.9995).
func (g *gatherer) nap(need uint64, now time.Time) time.Duration {
	return g.pace.nap(g.labelled.Load(), need, now, gatherPoll, maxNap)
}

// table returns the table of chunk c, spinning until it is ready (a sleep would last at least a scheduler tick),
// or nil once ctx is done. If the gatherer has not started on the layer yet, or the table is not ready after
// selfFillAfter — the gatherer's thread has the lowest priority and a busy machine may starve it, even halfway
// through a table — the labeler fills its spare table for the chunk itself, with the labels addressed where
// they are (no copies: slower to hash, much faster to fill), and claims the chunk so that the gatherer skips it
// if it has not started it. Labeling then degrades to reading parents in place instead of waiting for a
// starved thread.
//
// How long the labeler waits adapts (minPatienceDivisor). The first case is the start of a layer: the gathering goroutine, started with the layer, took 0.2–2 ms to
// run on the development VM (a new thread of the lowest priority, sometimes queued on the labeler's busy CPU
// until the kernel moved it), and the first chunks are small.
func (g *gatherer) table(ctx context.Context, c uint64) *rowTable {
	if g.filled.Load() > c {
		g.patience = g.scratch.selfFillAfter
		return g.scratch.table(c)
	}
	start := time.Now()
	for spins := 0; g.filled.Load() <= c; spins++ {
		if spins%4096 != 0 {
			continue
		}
		if ctx.Err() != nil {
			return nil
		}
		started := g.started.Load()
		if !started || time.Since(start) >= g.patience {
			if started {
				g.patience = max(g.patience/2, g.scratch.selfFillAfter/minPatienceDivisor)
			}
			g.claimed.CompareAndSwap(c, c+1) // fails if the gatherer is on it: it will finish a table nobody reads
			t := &g.scratch.spare
			g.fillInPlace(t, g.bounds(c))
			g.selfFilled++
			return t
		}
	}
	g.patience = g.scratch.selfFillAfter
	return g.scratch.table(c)
}

// minPatienceDivisor: after each table it had to fill itself the labeler waits half as long for the next late
// one, down to selfFillAfter/minPatienceDivisor, and a table that arrives in time restores selfFillAfter. On a
// machine saturated by other work the gatherer gets almost no CPU, and waiting the full selfFillAfter for every
// chunk cost the labeler 0.2 s per 8MiB PC1 beside two CPU hogs; a gatherer late once, as happens a few times
// a layer on an idle machine, still gets the full wait next time.
const minPatienceDivisor = 16

// stop ends the gatherer without waiting for it, and reports whether the tables are free for another layer:
// false if the gatherer is still filling one (a starved gatherer may take seconds to get the CPU to finish it;
// its arena reference keeps the memory mapped meanwhile). A stopped gatherer that is not filling a table never
// touches one again; it may still fault in pages of the layer buffers, which changes no data.
func (g *gatherer) stop() (tablesFree bool) {
	g.quit.Store(true)
	return !g.busy.Load()
}

// fill writes the rows of nodes [b[0], b[1]) and the prefetch rows after them into t, copying the labels of
// expander parents and of base parents below frontier, and the nodes' starts.
func (g *gatherer) fill(t *rowTable, b [2]uint64, frontier uint64) {
	defer g.writeStarts(t)
	lo, hi := b[0], b[1]
	t.lo, t.hi = lo, hi
	deg := uint64(g.job.degree)
	if haveGatherKernel {
		gatherRowsAsm(&gatherJob{parents: &g.pc.Parents(lo)[0], cur: unsafe.SliceData(g.cur),
			prev: unsafe.SliceData(g.prev), rows: &t.rows[0], copies: &t.copies[0], n: hi - lo,
			frontier: frontier, degree: deg, pfLast: g.nodes - 1 - lo})
	} else {
		g.fillRows(t, lo, 0, hi-lo, frontier, true)
	}
	g.fillRows(t, lo, hi-lo, hi-lo+prefetchDistance, frontier, false)
}

// fillInPlace writes the rows of nodes [b[0], b[1]) and the prefetch rows after them into t with every label
// addressed where it is (no copies), and the nodes' starts.
func (g *gatherer) fillInPlace(t *rowTable, b [2]uint64) {
	t.lo, t.hi = b[0], b[1]
	g.fillRows(t, b[0], 0, b[1]-b[0]+prefetchDistance, 0, false)
	g.writeStarts(t)
}

// writeStarts writes the block-0 states of t's nodes (see writeStarts).
func (g *gatherer) writeStarts(t *rowTable) {
	job := g.job
	t.assign(&job)
	writeStarts(&job)
}

// fillRows writes rows [from, to) of t (row i is node lo+i, at most the last node), copying as fill says when
// copies is set, else addressing every label where it is.
func (g *gatherer) fillRows(t *rowTable, lo, from, to, frontier uint64, copies bool) {
	deg := uint64(g.job.degree)
	for i := from; i < to; i++ {
		parents := g.pc.Parents(min(lo+i, g.nodes-1))
		row := t.rows[i*deg : (i+1)*deg]
		for s := range row {
			p := uint64(parents[s])
			var src *[NodeSize]byte
			var copyIt bool
			if s < BaseDegree {
				src, copyIt = (*[NodeSize]byte)(g.cur[p*NodeSize:]), copies && p < frontier
			} else {
				src, copyIt = (*[NodeSize]byte)(g.prev[p*NodeSize:]), copies
			}
			if copyIt {
				dst := (*[NodeSize]byte)(t.copies[(i*deg+uint64(s))*NodeSize:])
				*dst = *src
				src = dst
			}
			row[s] = unsafe.Pointer(src)
		}
	}
}

// gatherJob is what gatherRowsAsm reads (offsets fixed in gather_amd64.s).
type gatherJob struct {
	parents  *uint32         // 0: the parents cache row of the first node
	cur      *byte           // 8
	prev     *byte           // 16
	rows     *unsafe.Pointer // 24
	copies   *byte           // 32
	n        uint64          // 40: rows to write
	frontier uint64          // 48
	degree   uint64          // 56
	pfLast   uint64          // 64: the last row whose parents may be read (for prefetching)
}
