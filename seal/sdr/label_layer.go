package sdr

import (
	"context"
	"crypto/sha256"
	"runtime"
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
	// hasherCPU is the CPU time of the labeling thread (0 where not measured).
	hasherCPU time.Duration
	// waited is the wall time the labeling thread waited for the gatherer's tables.
	waited time.Duration
	// preemptions is how often the labeling thread lost its CPU to another thread (Linux; 0 elsewhere).
	preemptions uint64
}

// labelLayer fills cur with the labels of layer (1-based); prev holds the previous layer (unused for layer 1).
// How many nodes are labelled is published to out (nil: nobody listens) after every chunk, and the context is
// checked between chunks. scratch holds the gatherer's tables.
//
// The labels of a layer form one sequential chain (each node's base parents include its predecessor), so one
// locked thread hashes, a chunk of nodes per kernel call (label_amd64.s with SHA-NI: each of the 20 blocks is
// loaded straight from the two parents' labels it consists of, the labels of the node prefetchDistance ahead
// are prefetched, nothing is assembled or allocated). A gatherer on the other core prepares each chunk's table
// of parents' label addresses ahead of it and copies the randomly placed parents' labels next to each other
// (gather.go). The labeling thread wakes nobody: it only stores its progress in atomic counters that the
// gatherer and the layer writer poll.
func labelLayer(ctx context.Context, pc *ParentsCache, replicaID [32]byte, layer int, cur, prev []byte,
	out *layerWriter, scratch *labelScratch) (st layerStats, err error) {
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &replicaID, layer, 0)
	h := sha256.Sum256(prefix[:]) // node 0 has no parents: its label is the hash of the prefix alone
	h[31] &= 0x3f
	copy(cur[0:NodeSize], h[:])

	var labelled atomic.Uint64
	labelled.Store(1)
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu, preempted := threadCPU(), threadPreemptions()
	defer func() { st.hasherCPU, st.preemptions = threadCPU()-cpu, threadPreemptions()-preempted }()
	g := startGatherer(pc, layer, cur, prev, scratch, &labelled)
	defer g.stop()
	job := labelJob{cur: unsafe.SliceData(cur), consts: labelTable, replicaID: replicaID, layer: uint32(layer),
		degree: layerDegree(layer)}
	for c := uint64(0); c < g.chunks(); c++ {
		waitStart := time.Now()
		t := g.table(ctx, c)
		st.waited += time.Since(waitStart)
		if t == nil {
			return st, ctx.Err()
		}
		job.table, job.lo, job.hi = unsafe.SliceData(t.rows), t.lo, t.hi
		labelRows(&job)
		labelled.Store(job.hi) // t may be refilled from now on
		if out != nil {
			out.progress.Store(job.hi)
		}
		if err = ctx.Err(); err != nil {
			return st, err
		}
	}
	return st, nil
}
