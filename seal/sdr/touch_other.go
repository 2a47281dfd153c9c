//go:build !amd64 && !arm64

package sdr

import (
	"sync/atomic"
	"unsafe"
)

// touchPage adds zero to the 4-byte word at p atomically (see touch.go).
func touchPage(p *byte) { atomic.AddUint32((*uint32)(unsafe.Pointer(p)), 0) }
