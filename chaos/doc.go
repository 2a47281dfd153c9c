// Package chaos runs a sealing cluster of real processes — a manager (`sealfleet run --no-local-worker`) and
// workers (`sealfleet worker run`) on loopback — while a seeded fault injector kills (SIGKILL) and restarts random
// workers and the manager at random moments, then checks what sealfleet promises (docs/guarantees.md):
//
//   - every sector reaches Proving and its proof verifies against its comm_r and comm_d;
//   - no tracked call ran twice: PreCommit1 executions per sector, counted from the native sealer's log, are at
//     most one plus those logged within 3 s before a kill of their worker (a kill can cut a run short before its
//     result is saved);
//   - no reservation is left on any storage path once every sector is Proving;
//   - no temporary file (call or fetch temporaries) is left in any repo.
//
// The same seed gives the same victims and moments (the cluster's own timing still varies). `sealfleet chaos`
// runs it for operators; the itest package runs it as a test.
package chaos
