package sdr

import (
	"fmt"
	"syscall"
)

// allocLayer returns an anonymous private mapping of size bytes for a layer buffer, advised to use transparent
// huge pages: the gatherer reads parents' labels at random offsets of two layers, and with 4 KiB pages almost
// every such read is also a TLB miss. free releases it.
func allocLayer(size uint64) (buf []byte, free func(), err error) {
	buf, err = syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping a %d-byte layer buffer: %w", size, err)
	}
	_ = syscall.Madvise(buf, syscall.MADV_HUGEPAGE) // advisory: fine if the kernel has THP off
	return buf, func() { _ = syscall.Munmap(buf) }, nil
}

// mapPopulate asks mmap to fault the whole mapping in at once (Linux only).
const mapPopulate = syscall.MAP_POPULATE
