// Package loadtest measures the manager's API under load: many worker connections over loopback (real
// worker.LocalWorker instances with a fast test backend, each served by its own HTTP server and connected through
// the manager's RPC WorkerConnect) and many queued sealing requests, while `sealing jobs` (WorkerJobs),
// `sched-diag` (SchedDiag) and `sched-diag --request` (SchedDiagRequest) are called over the real RPC client. The package has no code of its own: see
// load_test.go. Figures are in docs/bench/load.md.
package loadtest
