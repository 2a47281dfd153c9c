//go:build !linux

package sdr

import "runtime"

// backgroundThread locks the calling goroutine to its OS thread (thread priorities are only lowered on Linux);
// see the Linux version.
func backgroundThread(idle bool) { runtime.LockOSThread() }
