// Package resources holds the scheduler's resource model: the ResourceTable of what each (task type, proof type)
// needs from a worker, its environment overrides, the 92 % thread rule, and the accounting of resources in use on
// a worker (CanHandle, Add, Free, Utilization). Everything here is pure: no I/O, no goroutines, no globals that
// tests mutate. The values follow the reference scheduler (Lotus storage/sealer/storiface/resources.go).
package resources
