// Package chaos runs a sealing cluster of real processes — a manager (`sealfleet run --no-local-worker`) and
// workers (`sealfleet worker run`) on loopback — while a seeded fault injector kills (SIGKILL) and restarts random
// workers and the manager at random moments, then checks what sealfleet promises (docs/guarantees.md):
//
//   - every sector reaches Proving and its proof verifies against its comm_r and comm_d;
//   - no tracked call ran twice: the workers' execution records (one row per execution of a call's work, written
//     before the work starts, marked finished when its result is saved) show at most one finished execution per
//     WorkID — a second only when the manager was killed in one of its two windows of forgetting work — and no
//     sector's sealing task finished twice without a kill between (executions.go has the exact rules);
//   - no reservation is left on any storage path once every sector is Proving;
//   - no temporary file (call or fetch temporaries) is left in any repo.
//
// The same seed gives the same victims and moments (the cluster's own timing still varies). `sealfleet chaos`
// runs it for operators; the itest package runs it as a test.
package chaos
