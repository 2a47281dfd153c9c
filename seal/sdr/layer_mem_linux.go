package sdr

import (
	"fmt"
	"syscall"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault pages in writable without touching their data.
const madvPopulateWrite = 23

// allocLayer returns an anonymous private mapping of size bytes for a layer buffer, advised to use transparent
// huge pages (parents' labels are read at random offsets of two layers; with 4 KiB pages almost every such read
// is also a TLB miss). Its pages are faulted in as the labeler approaches them (populate, called by the
// gatherer), not here, and its first headBytes use small pages. free releases the mapping.
func allocLayer(size uint64) (buf []byte, free func(), err error) {
	buf, free, err = mapAnon(size)
	if err == nil {
		_ = syscall.Madvise(buf, syscall.MADV_HUGEPAGE) // advisory: fine if the kernel has THP off
		// The first huge page in small pages: the labeler writes there as soon as the layer starts, before the
		// gatherer can fault anything in ahead of it, and a 2 MiB fault kept it 0.3–11 ms (a virtual machine
		// whose host backs fresh memory on first touch); 4 KiB faults let the gatherer overtake it.
		if size > 2*headBytes {
			_ = syscall.Madvise(buf[:headBytes], syscall.MADV_NOHUGEPAGE)
		}
	}
	return buf, free, err
}

// headBytes is the head of a layer buffer that allocLayer leaves in small pages.
const headBytes = 2 << 20

// mapAnon returns an anonymous private mapping of size bytes, zero until written, and a function that unmaps
// it.
func mapAnon(size uint64) (buf []byte, free func(), err error) {
	buf, err = syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping a %d-byte buffer: %w", size, err)
	}
	return buf, func() { _ = syscall.Munmap(buf) }, nil
}

// populate faults buf's pages in, writable, without changing their data (MADV_POPULATE_WRITE), so that the
// page faults — with huge pages, allocating and zeroing 2 MiB each — are taken by the calling thread rather
// than by the labeler when it first writes there. It reports false where the kernel does not support it
// (before 5.14); the first write then takes the fault.
func populate(buf []byte) bool {
	return syscall.Madvise(buf, madvPopulateWrite) == nil
}

// mapPopulate asks mmap to fault the whole mapping in at once (Linux only).
const mapPopulate = syscall.MAP_POPULATE
