package sdr

import (
	"fmt"
	"sync"
	"sync/atomic"
	"syscall"
)

// madvPopulateWrite is MADV_POPULATE_WRITE (Linux 5.14): fault pages in writable without touching their data.
const madvPopulateWrite = 23

// populateChunk is how much of a layer buffer one MADV_POPULATE_WRITE call faults in; free stops populating
// between chunks.
const populateChunk = 64 << 20

// allocLayer returns an anonymous private mapping of size bytes for a layer buffer, advised to use transparent
// huge pages (parents' labels are read at random offsets of two layers; with 4 KiB pages almost every such read
// is also a TLB miss). A background goroutine faults the whole buffer in at once (MADV_POPULATE_WRITE, which
// writes no data, so it is safe while the buffer is being filled): otherwise the labeling thread takes every
// page fault, including the huge-page allocation and zeroing, on its first write to each page. free stops
// that goroutine and releases the mapping.
func allocLayer(size uint64) (buf []byte, free func(), err error) {
	buf, err = syscall.Mmap(-1, 0, int(size), syscall.PROT_READ|syscall.PROT_WRITE, syscall.MAP_ANON|syscall.MAP_PRIVATE)
	if err != nil {
		return nil, nil, fmt.Errorf("mapping a %d-byte layer buffer: %w", size, err)
	}
	_ = syscall.Madvise(buf, syscall.MADV_HUGEPAGE) // advisory: fine if the kernel has THP off
	var stop atomic.Bool
	var wg sync.WaitGroup
	wg.Add(1)
	go func() {
		defer wg.Done()
		for off := 0; off < len(buf) && !stop.Load(); off += populateChunk {
			// Advisory too: older kernels refuse the advice (EINVAL) and the labeler takes the faults.
			if syscall.Madvise(buf[off:min(off+populateChunk, len(buf))], madvPopulateWrite) != nil {
				return
			}
		}
	}()
	return buf, func() {
		stop.Store(true)
		wg.Wait()
		_ = syscall.Munmap(buf)
	}, nil
}

// mapPopulate asks mmap to fault the whole mapping in at once (Linux only).
const mapPopulate = syscall.MAP_POPULATE
