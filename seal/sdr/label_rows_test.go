package sdr

import (
	"crypto/sha256"
	"encoding"
	"encoding/binary"
	"fmt"
	"testing"
	"unsafe"
)

func TestWriteStartsMatchesSHA256State(t *testing.T) {
	// Each node's entry in starts is the SHA-256 state after its label's first block (the 64-byte prefix:
	// replica id, layer, node index), in the SHA-NI register order [F E B A] [H G D C]. crypto/sha256's
	// marshalled state after exactly one block is the reference. Node indices past 2^32 check the index's high
	// word.
	if !haveLabelKernel {
		t.Skip("no SHA-NI on this CPU: labelRowsGeneric hashes whole messages and reads no starts")
	}
	rid := [32]byte{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19, 20, 21, 22, 23, 24, 25, 26,
		27, 28, 29, 30, 31, 32}
	for _, tc := range []struct {
		layer  int
		lo, hi uint64
	}{
		{1, 1, 40},
		{2, 1 << 20, 1<<20 + 3},
		{11, 1<<32 - 2, 1<<32 + 2},
	} {
		t.Run(fmt.Sprintf("layer %d/nodes %d-%d", tc.layer, tc.lo, tc.hi), func(t *testing.T) {
			starts := make([]byte, (tc.hi-tc.lo)*startSize)
			job := newLayerJob(rid, tc.layer, nil)
			job.lo, job.hi, job.starts = tc.lo, tc.hi, unsafe.SliceData(starts)
			writeStarts(&job)
			for v := tc.lo; v < tc.hi; v++ {
				want := blockZeroState(t, rid, tc.layer, v)
				if got := starts[(v-tc.lo)*startSize:][:startSize]; string(got) != string(want[:]) {
					t.Fatalf("node %d: start %x, want %x", v, got, want)
				}
			}
		})
	}
}

// blockZeroState returns the state after the label prefix of node in layer, from crypto/sha256, as the label
// kernels keep it: the words F E B A H G D C, little-endian.
func blockZeroState(t *testing.T, rid [32]byte, layer int, node uint64) (st [startSize]byte) {
	t.Helper()
	var prefix [prefixLen]byte
	writePrefix(prefix[:], &rid, layer, node)
	h := sha256.New()
	h.Write(prefix[:])
	m, err := h.(encoding.BinaryMarshaler).MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	// The marshalled digest: a 4-byte magic, then the state words A..H big-endian.
	var w [8]uint32
	for i := range w {
		w[i] = binary.BigEndian.Uint32(m[4+4*i:])
	}
	for i, x := range [8]uint32{w[5], w[4], w[1], w[0], w[7], w[6], w[3], w[2]} {
		binary.LittleEndian.PutUint32(st[4*i:], x)
	}
	return st
}

func TestKernelOffsets(t *testing.T) {
	// The SHA-NI kernels read labelJob and labelConsts at offsets fixed in internal/genlabel (its job* and off*
	// constants); a field moved on one side only would make them read the wrong memory.
	var job labelJob
	var consts labelConsts
	for _, tc := range []struct {
		name      string
		got, want uintptr
	}{
		{"labelJob.cur", unsafe.Offsetof(job.cur), 0},
		{"labelJob.table", unsafe.Offsetof(job.table), 8},
		{"labelJob.lo", unsafe.Offsetof(job.lo), 16},
		{"labelJob.hi", unsafe.Offsetof(job.hi), 24},
		{"labelJob.consts", unsafe.Offsetof(job.consts), 32},
		{"labelJob.replicaID", unsafe.Offsetof(job.replicaID), 40},
		{"labelJob.layer", unsafe.Offsetof(job.layer), 72},
		{"labelJob.starts", unsafe.Offsetof(job.starts), 80},
		{"labelConsts.iv", unsafe.Offsetof(consts.iv), 0},
		{"labelConsts.k", unsafe.Offsetof(consts.k), 32},
		{"labelConsts.flip", unsafe.Offsetof(consts.flip), 288},
		{"labelConsts.tail", unsafe.Offsetof(consts.tail), 304},
	} {
		if tc.got != tc.want {
			t.Errorf("%s at offset %d, internal/genlabel reads it at %d", tc.name, tc.got, tc.want)
		}
	}
}
