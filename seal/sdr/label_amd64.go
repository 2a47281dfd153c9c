//go:build amd64 && !purego

//go:generate go run ./internal/genlabel label_amd64.s

package sdr

import (
	"unsafe"

	"sealfleet/seal/internal/shani"
)

// labelConsts is the table the label kernels read; the offsets are fixed in internal/genlabel.
type labelConsts struct {
	iv   [8]uint32  // 0: initial state as [F E B A] [H G D C]
	k    [64]uint32 // 32: round constants
	flip [4]uint32  // 288: PSHUFB mask reversing the bytes of each dword
	tail [8]uint32  // 304: words 8..15 of the last block: 0x80 then zeros, then the message length in bits
}

var labelTable = &labelConsts{iv: shani.StateIV(), k: shani.K, flip: shani.ByteSwapMask,
	tail: [8]uint32{0x80000000, 0, 0, 0, 0, 0, 0, msgLen * 8}}

// labelJob is a range of nodes for the kernels; the offsets are fixed in internal/genlabel.
type labelJob struct {
	cur, prev *byte        // 0, 8: layer buffers, NodeSize bytes per node
	parents   *uint32      // 16: the parents cache, TotalParents indices per node
	lo, hi    uint64       // 24, 32: the nodes to label
	last      uint64       // 40: the last node of the layer (prefetching stops there)
	consts    *labelConsts // 48
	replicaID [32]byte     // 56
	layer     uint32       // 88
}

// haveLabelKernel is set when the CPU runs the SHA-NI label kernels.
var haveLabelKernel = shani.Available

//go:noescape
func labelSHANI14(job *labelJob)

//go:noescape
func labelSHANI6(job *labelJob)

//go:noescape
func shaChainSHANI(job *labelJob, n int)

// labelRangeKernel labels nodes [lo, hi) (lo ≥ 1) of layer with the SHA-NI kernels. Every parent index in the
// cache must be below the layer's node count (the cache is digest-checked when opened).
func labelRangeKernel(replicaID *[32]byte, layer int, pc *ParentsCache, cur, prev []byte, lo, hi uint64) {
	if lo >= hi {
		return
	}
	_ = cur[hi*NodeSize-1]
	_ = pc.parents[hi*TotalParents-1]
	job := labelJob{cur: unsafe.SliceData(cur), prev: unsafe.SliceData(prev),
		parents: unsafe.SliceData(pc.parents), lo: lo, hi: hi, last: uint64(len(cur)/NodeSize) - 1,
		consts: labelTable, replicaID: *replicaID, layer: uint32(layer)}
	if layerDegree(layer) == BaseDegree {
		labelSHANI6(&job)
	} else {
		labelSHANI14(&job)
	}
}

// shaChainKernel runs n chained label hashes with the kernels' instruction sequence (see ShaNsPerNode).
func shaChainKernel(buf *[NodeSize]byte, n int) {
	job := labelJob{cur: &buf[0], consts: labelTable, layer: 2}
	shaChainSHANI(&job, n)
}
