//go:build amd64 && !purego

//go:generate go run ./internal/genlabel label_amd64.s

package sdr

import (
	"encoding/binary"
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

// haveLabelKernel is set when the CPU runs the SHA-NI label kernels.
var haveLabelKernel = shani.Available

//go:noescape
func labelSHANI14(out *byte, prefix *[prefixLen]byte, parents, ahead *[TotalParents]uint32, cur, prev *byte, c *labelConsts)

//go:noescape
func labelSHANI6(out *byte, prefix *[prefixLen]byte, parents, ahead *[TotalParents]uint32, cur *byte, c *labelConsts)

// labelRangeKernel labels nodes [lo, hi) of a layer with the SHA-NI kernels, prefetching the parents' labels of
// the node prefetchDistance ahead. prefix holds the layer's message prefix; its node field is overwritten.
func labelRangeKernel(prefix *[prefixLen]byte, pc *ParentsCache, cur, prev []byte, degree int, lo, hi uint64) {
	last := uint64(len(cur)/NodeSize) - 1
	curp := unsafe.SliceData(cur)
	for v := lo; v < hi; v++ {
		binary.BigEndian.PutUint64(prefix[36:44], v)
		parents := (*[TotalParents]uint32)(pc.Parents(v))
		ahead := (*[TotalParents]uint32)(pc.Parents(min(v+prefetchDistance, last)))
		out := &cur[v*NodeSize]
		if degree == BaseDegree {
			labelSHANI6(out, prefix, parents, ahead, curp, labelTable)
		} else {
			labelSHANI14(out, prefix, parents, ahead, curp, unsafe.SliceData(prev), labelTable)
		}
	}
}

// labelOne hashes one layer-2 label whose parents are given by index into buf and stores it at buf[0:32]
// (the SHA-256 floor measurement chains through it).
func labelOne(prefix *[prefixLen]byte, parents *[TotalParents]uint32, buf *byte) {
	labelSHANI14(buf, prefix, parents, parents, buf, buf, labelTable)
}
