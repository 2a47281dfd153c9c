package sched

import "runtime"

func runtimeGosched() { runtime.Gosched() }
