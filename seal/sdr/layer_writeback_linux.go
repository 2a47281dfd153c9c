package sdr

import (
	"os"

	"golang.org/x/sys/unix"
)

// writeBehind starts the writeback of f's bytes [off, off+n) to the disk without waiting for it, then waits
// for the writeback of the bytes [prev, off), which the previous call started, so that at most two chunks are
// in flight and the writing goroutine keeps the disk's pace. It does not make the bytes durable: no journal
// commit and no cache flush, which the layer's one fsync in finish does for the whole file.
//
// An fsync per chunk, as before, cost the labeler on the development VM: each one is a journal commit and a
// cache flush that the hypervisor carries out on the host, and while it did the host took 8 % of the guest's
// CPU time (steal) instead of 1.6–5.6 %, and the block interrupts landed on the labeler's CPU
// (docs/bench/pc1.md, fifth session: 8MiB ratio median 1.071 with fsync per chunk, 1.050 with writeBehind,
// 16 + 16 interleaved runs).
func writeBehind(f *os.File, prev, off, n int64) error {
	rc, err := f.SyscallConn()
	if err != nil {
		return err
	}
	// Control holds the descriptor open for the call (finish may close the file meanwhile: then it fails
	// instead of reaching a descriptor number that may have been reused).
	cerr := rc.Control(func(fd uintptr) {
		err = unix.SyncFileRange(int(fd), off, n, unix.SYNC_FILE_RANGE_WRITE)
		if err == nil && off > prev {
			err = unix.SyncFileRange(int(fd), prev, off-prev,
				unix.SYNC_FILE_RANGE_WAIT_BEFORE|unix.SYNC_FILE_RANGE_WRITE|unix.SYNC_FILE_RANGE_WAIT_AFTER)
		}
	})
	if cerr != nil {
		return cerr
	}
	if err != nil {
		// A file system that does not take the call (it is generic on Linux; a FUSE mount may refuse it):
		// fsync does the same and more.
		return f.Sync()
	}
	return nil
}
