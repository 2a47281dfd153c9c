package sdr

import (
	"context"
	"crypto/sha256"
	"sync/atomic"
	"time"
	"unsafe"
)

// prefetchDistance is how many nodes ahead of the one being hashed the labeler prefetches parents' labels
// (internal/genlabel uses the same distance). A label takes about a microsecond, so this covers a main-memory
// round trip many times over, while the prefetched lines stay well within the first-level cache until used.
const prefetchDistance = 8

// layerStats describes one layer's run.
type layerStats struct {
	// hasherCPU is the CPU time of the label kernel calls (0 where not measured).
	hasherCPU time.Duration
	// gathererCPU is the CPU time the gathering goroutine spent filling tables by the end of the layer (0 where
	// not measured): with hasherCPU it shows how close the gatherer is to becoming the bound.
	gathererCPU time.Duration
	// waited is the wall time the labeler waited for the gatherer's tables.
	waited time.Duration
	// preemptions is how often the labeling thread lost its CPU to another thread during the kernel calls
	// (Linux; 0 elsewhere).
	preemptions uint64
	// selfFilled is the number of chunks whose table the labeler filled itself (a starved gatherer).
	selfFilled uint64
	// tablesInUse is set when the stopped gatherer was still filling a table: scratch must not serve another
	// layer (gatherer.stop).
	tablesInUse bool
}

// kernelMeter measures the thread CPU time and preemptions of the label kernel calls. The labeling goroutine is
// not locked to its thread, so a call counts only if it ran on one thread from start to end (an assembly call
// cannot be preempted, but the goroutine may move between threads around it); the totals are scaled up to all
// nodes.
type kernelMeter struct {
	cpu0            time.Duration
	pre0            uint64
	tid0            int
	cpu             time.Duration
	pre             uint64
	nodes, measured uint64
}

func (m *kernelMeter) start() { m.cpu0, m.pre0, m.tid0 = threadUsage() }

func (m *kernelMeter) stop(nodes uint64) {
	cpu, pre, tid := threadUsage()
	m.nodes += nodes
	if tid == m.tid0 && tid != 0 && cpu >= m.cpu0 && pre >= m.pre0 {
		m.cpu += cpu - m.cpu0
		m.pre += pre - m.pre0
		m.measured += nodes
	}
}

// totals returns the measured CPU time and preemptions scaled to all nodes.
func (m *kernelMeter) totals() (time.Duration, uint64) {
	if m.measured == 0 {
		return 0, 0
	}
	scale := float64(m.nodes) / float64(m.measured)
	return time.Duration(float64(m.cpu) * scale), uint64(float64(m.pre)*scale + 0.5)
}

// labelLayer fills cur with the labels of layer (1-based); prev holds the previous layer (unused for layer 1).
// How many nodes are labelled is published to out (nil: no layer file) after every chunk, and the context is
// checked between chunks. scratch holds the gatherer's tables.
//
// The labels of a layer form one sequential chain (each node's base parents include its predecessor), so one
// goroutine hashes, a chunk of nodes per kernel call (label_amd64.s with SHA-NI: each label starts from the
// state after its first block, which the gatherer computed (writeStarts), each of the other 19 blocks is loaded
// straight from the two parents' labels it consists of, the labels of the node prefetchDistance ahead are
// prefetched, nothing is assembled or allocated). A gatherer on the other core prepares each chunk's table
// of parents' label addresses ahead of it and copies the randomly placed parents' labels next to each other
// (gather.go). The labeling goroutine wakes nobody: it only stores its progress in atomic counters that the
// gatherer and the layer writer poll. It is not locked to its thread: every 10 ms the runtime preempts it, and
// a locked goroutine then has to be handed back to its thread by another one, which costs more when the other
// core is busy (512MiB: 873–888 ns per node unlocked against 889–942 locked, in alternating runs).
func labelLayer(ctx context.Context, pc *ParentsCache, replicaID [32]byte, layer int, cur, prev []byte,
	out *layerWriter, scratch *labelScratch) (st layerStats, err error) {
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &replicaID, layer, 0)
	h := sha256.Sum256(prefix[:]) // node 0 has no parents: its label is the hash of the prefix alone
	h[31] &= 0x3f
	copy(cur[0:NodeSize], h[:])

	// One progress counter for both pollers: the gatherer, and the layer writer when there is one.
	labelled := new(atomic.Uint64)
	if out != nil {
		labelled = &out.progress
	}
	labelled.Store(1)
	var meter kernelMeter
	defer func() { st.hasherCPU, st.preemptions = meter.totals() }()
	job := newLayerJob(replicaID, layer, cur)
	g := startGatherer(pc, job, cur, prev, scratch, labelled)
	defer func() { st.tablesInUse = !g.stop() }()
	defer func() { st.selfFilled, st.gathererCPU = g.selfFilled, time.Duration(g.fillCPU.Load()) }()
	for c := uint64(0); c < g.chunks(); c++ {
		waitStart := time.Now()
		t := g.table(ctx, c)
		st.waited += time.Since(waitStart)
		if t == nil {
			return st, ctx.Err()
		}
		t.assign(&job)
		meter.start()
		labelRows(&job)
		meter.stop(job.hi - job.lo)
		labelled.Store(job.hi)  // the writer may write these nodes
		g.consumed.Store(c + 1) // t may be refilled from now on
		if err = ctx.Err(); err != nil {
			return st, err
		}
	}
	return st, nil
}

// newLayerJob returns the fields of a layer's label jobs that stay the same from chunk to chunk (the chunk's come
// from its table: rowTable.assign).
func newLayerJob(replicaID [32]byte, layer int, cur []byte) labelJob {
	return labelJob{cur: unsafe.SliceData(cur), consts: labelTable, replicaID: replicaID, layer: uint32(layer),
		degree: layerDegree(layer)}
}
