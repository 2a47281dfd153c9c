package partialfile

import (
	"errors"
	"os"
	"syscall"
)

// fallocPunchHole is FALLOC_FL_PUNCH_HOLE | FALLOC_FL_KEEP_SIZE (linux/falloc.h).
const fallocPunchHole = 0x02 | 0x01

// punchHole deallocates [off, off+size) so it reads as zeros and takes no disk space. Filesystems without hole
// punching get zeros written instead.
func punchHole(f *os.File, off, size int64) error {
	err := syscall.Fallocate(int(f.Fd()), fallocPunchHole, off, size)
	if errors.Is(err, syscall.EOPNOTSUPP) || errors.Is(err, syscall.ENOSYS) {
		return writeZeros(f, off, size)
	}
	return err
}
