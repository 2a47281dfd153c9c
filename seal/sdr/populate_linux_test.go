package sdr

import (
	"bytes"
	"sync/atomic"
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

func TestPopulateAheadFaultsInPagesAheadOfTheLabeler(t *testing.T) {
	// The gatherer faults in cur from touchMargin past the labeler to the end, then (layer 1 only) the head of
	// prev, without changing a byte; the pages next to the labeler are left to it (mincore shows which pages
	// are resident; the head of a layer buffer is in small pages).
	const nodes = 1 << 18 // 8 MiB: a 2 MiB small-page head, then huge pages
	for _, tc := range []struct {
		name      string
		degree    int
		wantPrevs bool
	}{{"layer 1", BaseDegree, true}, {"layer 2", TotalParents, false}} {
		t.Run(tc.name, func(t *testing.T) {
			cur, freeCur, err := allocLayer(nodes * NodeSize)
			if err != nil {
				t.Fatal(err)
			}
			defer freeCur()
			prev, freePrev, err := allocLayer(nodes * NodeSize)
			if err != nil {
				t.Fatal(err)
			}
			defer freePrev()
			const at = 1000 // the labeler's position, in the head
			want := randomLayer(at, 3)
			copy(cur, want)
			labelled := new(atomic.Uint64)
			labelled.Store(at)
			g := &gatherer{cur: cur, prev: prev, job: labelJob{degree: tc.degree}, labelled: labelled}
			for g.populateAhead() {
			}
			if !bytes.Equal(cur[:len(want)], want) {
				t.Fatal("populating changed the labels")
			}
			page := uint64(pageSize)
			start := at * NodeSize &^ (page - 1)
			resident := func(buf []byte, off uint64) bool {
				var vec [1]byte
				if _, _, e := unix.Syscall(unix.SYS_MINCORE, uintptr(unsafe.Pointer(&buf[off])), uintptr(page),
					uintptr(unsafe.Pointer(&vec[0]))); e != 0 {
					t.Fatal(e)
				}
				return vec[0]&1 == 1
			}
			for off := start + page; off < start+touchMargin-page; off += page {
				if resident(cur, off) {
					t.Fatalf("page at %d, within touchMargin of the labeler, was faulted in", off)
				}
			}
			for _, off := range []uint64{start + touchMargin + page, headBytes - page, headBytes, uint64(len(cur)) - page} {
				if !resident(cur, off) {
					t.Fatalf("page at %d of cur not faulted in", off)
				}
			}
			if got := resident(prev, 0); got != tc.wantPrevs {
				t.Fatalf("head of prev faulted in: %v, want %v", got, tc.wantPrevs)
			}
		})
	}
}
