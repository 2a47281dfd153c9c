package sdr

import (
	"crypto/sha256"
	"encoding/binary"
	"unsafe"

	"sealfleet/seal/internal/shani"
)

// labelConsts is the table the SHA-NI label kernels read; the offsets are fixed in internal/genlabel.
type labelConsts struct {
	iv   [8]uint32  // 0: initial state as [F E B A] [H G D C]
	k    [64]uint32 // 32: round constants
	flip [4]uint32  // 288: PSHUFB mask reversing the bytes of each dword
	tail [8]uint32  // 304: words 8..15 of the last block: 0x80 then zeros, then the message length in bits
}

var labelTable = &labelConsts{iv: shani.StateIV(), k: shani.K, flip: shani.ByteSwapMask,
	tail: [8]uint32{0x80000000, 0, 0, 0, 0, 0, 0, msgLen * 8}}

// labelJob asks for the labels of nodes [lo, hi) (lo ≥ 1) of a layer, given where each node's parents' labels
// are: table holds degree addresses per node (Parents order), the row of node lo first, and prefetchDistance
// more rows past hi, which the kernels only prefetch (every address in the table must be readable). With the
// SHA-NI kernels, starts holds each node's state after block 0 (startSize bytes per node from node lo, written
// by writeStarts). The fields up to starts are read by the SHA-NI kernels at offsets fixed in
// internal/genlabel.
type labelJob struct {
	cur       *byte           // 0: the layer being labelled; node v's label goes to cur[v·NodeSize:]
	table     *unsafe.Pointer // 8
	lo, hi    uint64          // 16, 24
	consts    *labelConsts    // 32
	replicaID [32]byte        // 40
	layer     uint32          // 72
	starts    *byte           // 80
	degree    int             // parents per node: BaseDegree in layer 1, TotalParents above
}

// startSize is the size of one node's entry in labelJob.starts: the SHA-256 state after the message's first
// block, in the order the SHA-NI rounds keep it.
const startSize = 32

// writeStarts writes the block-0 states of the job's nodes to job.starts where the SHA-NI kernels label;
// elsewhere labelRowsGeneric hashes whole messages and it does nothing. Block 0 — the replica id, the layer and
// the node index — reads no label, so the gatherer runs it ahead of the labeler, on the other core: that takes
// one of a label's 20 compressions off the labeler's chain.
func writeStarts(job *labelJob) {
	if haveLabelKernel && job.lo < job.hi {
		blockZeroKernel(job)
	}
}

// labelRows labels the job's nodes with the SHA-NI kernels where the CPU has them, else with labelRowsGeneric.
func labelRows(job *labelJob) {
	if haveLabelKernel {
		labelRowsKernel(job)
	} else {
		labelRowsGeneric(job)
	}
}

// labelRowsGeneric is the portable labelRows: each node's message is assembled from the table's addresses and
// hashed with crypto/sha256 (starts is not read).
func labelRowsGeneric(job *labelJob) {
	var msg [msgLen]byte
	writePrefix(msg[:prefixLen], &job.replicaID, int(job.layer), 0)
	rows := unsafe.Slice(job.table, (job.hi-job.lo)*uint64(job.degree))
	cur := unsafe.Slice(job.cur, job.hi*NodeSize)
	for v := job.lo; v < job.hi; v++ {
		binary.BigEndian.PutUint64(msg[36:44], v)
		row := rows[(v-job.lo)*uint64(job.degree):]
		for j := 0; j < labelRepeats; j++ {
			*(*[NodeSize]byte)(msg[prefixLen+j*NodeSize:]) = *(*[NodeSize]byte)(row[j%job.degree])
		}
		h := sha256.Sum256(msg[:])
		h[31] &= 0x3f
		*(*[NodeSize]byte)(cur[v*NodeSize:]) = h
	}
}
