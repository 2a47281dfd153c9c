//go:build !linux

package partialfile

import "os"

// punchHole writes zeros over [off, off+size): this platform has no portable hole punching.
func punchHole(f *os.File, off, size int64) error { return writeZeros(f, off, size) }
