// Package sched is sealfleet's scheduler: it decides which worker runs each sealing task and when.
//
// It is split in two. The core (Core, core*.go) is a pure, deterministic state machine: events (a request
// arrives, a worker joins, a prepare step or a task finishes, a worker is disabled) plus an injected time go in,
// actions (start preparing request R on worker W, start the work of R) come out. It runs no goroutines, makes no
// RPC and never sleeps; tests and the simulator (package sim) drive it directly. The shell (Scheduler, sched.go,
// shell_*.go) owns the core behind a mutex, runs one goroutine that steps it, carries out its actions against real
// workers, and checks each worker's session every SessionInterval on an injected Clock. The shell, not the core,
// reports each request's life (queued, started on a worker, finished with its outcome) to Config.OnJob, so
// that a caller can keep an exact job history (the scheduler keeps none).
//
// # Placement
//
// Each waiting request is considered in queue order (priority from the context, deal sectors 1024, then task order,
// then age). The workers that could take it are filtered (enabled, task type supported, resources fit now or in
// one of the worker's windows, the request's Selector accepts) and ranked: first those that can start it at once,
// then by the selector's score, then by the assigner's load figure (utilization: busiest resource dimension counting
// running + preparing + window-assigned tasks; spread: number of such tasks), then by a seeded hash of the worker
// ID so that ties are broken deterministically. Every rejection has a named Reason, which Info reports per worker.
//
// Candidate workers are kept in one lazily refreshed heap per (task type, proof type) per pass: a request whose
// key has no worker left with capacity is skipped in O(1), and the best worker is found in O(log W) for selectors
// that accept every capable worker.
//
// # Windows, preparing and running
//
// As in the reference, a worker has Windows (default 2) windows; each is a budget of the worker's full resources
// holding tasks assigned to it but waiting for resources there. A task that fits the worker's free resources
// starts at once and never waits in a window. Starting has two phases, each with its own budget, as in the
// reference: the prepare step (fetching files) starts when the task fits the preparing budget (which also holds
// prepared tasks until they run, so prefetching is bounded to one worker's worth); the work starts when the task
// fits the running budget. So a GPU box can fetch the next PC2's files while two others run. Tasks in windows start
// in order as resources free up; tasks in a later window move to an earlier one when they fit (compaction); a
// waiting task moves to another eligible worker as soon as that one can start it while its own cannot; and every
// Step ends with a sweep that starts whatever can start, so no task that fits is left waiting.
//
// # Starvation
//
// A request that has waited StarvationAfter reserves capacity on its best worker. There, requests that rank after
// it in queue order (same or lower priority, later task order, younger) may begin — prepare or run — only if they
// fit alongside it, so a stream of small tasks cannot keep a big one out forever (conservative backfilling).
// Requests that rank before it still go first: priority stays strict. Tasks that began before the reservation
// finish normally, and the holder gets the first chance at every resource freed on that worker.
//
// # Space claims: why scheduling and space reservation cannot race
//
// Selectors that depend on free storage (alloc, move) implement SpaceClaimer. Their Filter runs inside the core's
// decision for that one request, against the index plus the core's claim ledger; when the core assigns the
// request it records the selector's claims in the ledger before it looks at the next request, and later Filters
// subtract them. With an Index that reports free space (SpaceReporter) the check is byte-exact; without one, a
// path holding a pending claim takes no second one (the index's StorageBestAlloc only promises room for one
// sector). Claims are released when the task's work starts — the worker reserves the space itself as the first
// step of the call — or when the request goes back to the queue.
package sched
