package sdr

import (
	"context"
	"crypto/sha256"
	"encoding/binary"
	"runtime"
	"time"
	"unsafe"
)

// prefetchDistance is how many nodes ahead of the one being hashed labelRangeGeneric prefetches parents'
// labels; the SHA-NI kernels use the same distance (internal/genlabel).
const prefetchDistance = 8

// layerStats describes one layer's run.
type layerStats struct {
	// hasherCPU is the CPU time of the labeling thread (0 where not measured).
	hasherCPU time.Duration
}

// labelLayer fills cur with the labels of layer (1-based); prev holds the previous layer (unused for layer 1).
// Completed chunks of cur are handed to out (nil: nobody listens) as they are labelled, and the context is
// checked between chunks.
//
// The labels of a layer form one sequential chain (each node's base parents include its predecessor), so one
// thread hashes. It reads each node's parent indices from the memory-mapped parents cache, prefetches the
// labels of the node prefetchDistance ahead, and with SHA-NI (label_amd64.s, one call per chunk of nodes)
// hashes the 20 blocks of the label message straight from the parents' labels, so no message is assembled and
// nothing is copied. The other core
// writes completed chunks of the layer to its file meanwhile. An earlier design in which a second thread
// gathered each message into a ring for the hashing thread cost 13–36 % over bare SHA-256: the hasher paid
// for moving 1248 bytes per node from the other core's cache (see docs/bench/pc1.md). The hot loop allocates
// nothing.
func labelLayer(ctx context.Context, cfg Config, pc *ParentsCache, replicaID [32]byte, layer int, cur, prev []byte,
	out *layerWriter) (layerStats, error) {
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &replicaID, layer, 0)
	h := sha256.Sum256(prefix[:]) // node 0 has no parents: its label is the hash of the prefix alone
	h[31] &= 0x3f
	copy(cur[0:NodeSize], h[:])

	chunk := uint64(defaultWriteChunkNodes)
	if out != nil {
		chunk = out.chunkNodes
	}
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu := threadCPU()
	n := cfg.Nodes
	for c := uint64(0); c*chunk < n; c++ {
		if err := ctx.Err(); err != nil {
			return layerStats{hasherCPU: threadCPU() - cpu}, err
		}
		lo, hi := max(c*chunk, 1), min((c+1)*chunk, n)
		if haveLabelKernel {
			labelRangeKernel(&replicaID, layer, pc, cur, prev, lo, hi)
		} else {
			labelRangeGeneric(&replicaID, layer, pc, cur, prev, lo, hi)
		}
		if out != nil {
			out.chunkDone(c)
		}
	}
	return layerStats{hasherCPU: threadCPU() - cpu}, nil
}

// labelRangeGeneric labels nodes [lo, hi) (lo ≥ 1) of layer without the SHA-NI kernels: each message is
// assembled in a buffer (copyLabels, SSE2 assembly on amd64) and hashed with crypto/sha256, with the same
// prefetching as the kernels.
func labelRangeGeneric(replicaID *[32]byte, layer int, pc *ParentsCache, cur, prev []byte, lo, hi uint64) {
	var msg [msgLen]byte
	writePrefix(msg[:prefixLen], replicaID, layer, 0)
	degree := layerDegree(layer)
	body := (*[labelRepeats][NodeSize]byte)(unsafe.Pointer(&msg[prefixLen]))
	last := uint64(len(cur)/NodeSize) - 1
	curp, prevp := unsafe.SliceData(cur), unsafe.SliceData(prev)
	for v := lo; v < hi; v++ {
		binary.BigEndian.PutUint64(msg[36:44], v)
		parents := (*[TotalParents]uint32)(pc.Parents(v))
		prefetchLabels((*[TotalParents]uint32)(pc.Parents(min(v+prefetchDistance, last))), curp, prevp, degree)
		if degree == BaseDegree {
			copyLabels6(body, parents, curp)
		} else {
			copyLabels14(body, parents, curp, prevp)
		}
		h := sha256.Sum256(msg[:])
		h[31] &= 0x3f
		*(*[NodeSize]byte)(cur[v*NodeSize:]) = h
	}
}
