package sdr

import (
	"runtime"

	"golang.org/x/sys/unix"
)

// backgroundThread locks the calling goroutine to its OS thread and lowers that thread's priority to nice 19.
// The labeler's helpers (the gatherer, the layer writers) call it first and return without unlocking, so the
// thread ends with them and never serves other goroutines. A nice-19 thread that the kernel wakes on the
// labeling thread's CPU does not preempt it; the load balancer moves it to the other CPU instead (on the
// development VM a 512MiB PC1 lost its labeling thread's CPU 4,300–4,600 times with nice helpers, 5,000–7,500
// times without).
func backgroundThread() {
	runtime.LockOSThread()
	_ = unix.Setpriority(unix.PRIO_PROCESS, unix.Gettid(), 19) // lowering one's own priority is always allowed
}
