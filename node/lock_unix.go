//go:build unix

package node

import (
	"fmt"
	"os"
	"path/filepath"
	"syscall"
)

// LockFile is the file in the repo a running node holds an exclusive lock on.
const LockFile = "repo.lock"

// lockRepo takes the repo's exclusive lock, so that two nodes never drive the same pipeline and call trackers.
// The lock is released by unlock or when the process dies.
func lockRepo(repo string) (unlock func(), err error) {
	p := filepath.Join(repo, LockFile)
	f, err := os.OpenFile(p, os.O_CREATE|os.O_RDWR, 0o600)
	if err != nil {
		return nil, fmt.Errorf("opening repo lock %s: %w", p, err)
	}
	if err := syscall.Flock(int(f.Fd()), syscall.LOCK_EX|syscall.LOCK_NB); err != nil {
		f.Close()
		return nil, fmt.Errorf("repo %s is in use by another sealfleet node (lock %s held): %w", repo, p, err)
	}
	return func() {
		_ = syscall.Flock(int(f.Fd()), syscall.LOCK_UN)
		f.Close()
	}, nil
}
