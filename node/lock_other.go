//go:build !unix

package node

// LockFile is the file in the repo a running node holds an exclusive lock on (unused on this platform).
const LockFile = "repo.lock"

// lockRepo does nothing on platforms without flock: do not run two nodes on one repo there.
func lockRepo(string) (func(), error) { return func() {}, nil }
