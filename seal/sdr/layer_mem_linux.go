package sdr

import (
	"fmt"
	"syscall"
)

// allocLayer returns an anonymous private mapping of size bytes for a layer buffer, advised to use transparent
// huge pages (parents' labels are read at random offsets of two layers; with 4 KiB pages almost every such read
// is also a TLB miss). Its pages are faulted in as the labeler approaches them (populateAhead, by the
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

// layersFaultLazily: layer buffers and tables are anonymous mappings whose pages are faulted in on first
// touch (populate.go faults them in ahead of the labeler).
const layersFaultLazily = true

// mapPopulate asks mmap to fault the whole mapping in at once (Linux only).
const mapPopulate = syscall.MAP_POPULATE
