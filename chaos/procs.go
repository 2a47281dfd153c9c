package chaos

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"time"

	"sealfleet/internal/procs"
)

// proc is one sealfleet process of the cluster. Its output is appended to a log file across restarts, with a
// marker line after each kill.
type proc struct{ procs.Proc }

// killMarker is appended to a process's log after it was killed, splitting the log into lifetimes; the kill's
// time (RFC 3339, nanoseconds) follows it on the same line.
const killMarker = "=== chaos: SIGKILL ==="

// kill9 kills the process at once, as a crash does, waits for it to be gone and marks its log.
func (p *proc) kill9() error {
	at := time.Now()
	p.Kill9()
	f, err := os.OpenFile(p.Log, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("\n" + killMarker + " " + at.Format(time.RFC3339Nano) + "\n")
	return err
}

// poll calls check every interval until it reports true, returning the last error when ctx ends or timeout
// passes first, or at once when check returns a fatalError.
func poll(ctx context.Context, what string, timeout, interval time.Duration, check func() (bool, error)) error {
	ctx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		ok, err := check()
		if ok {
			return nil
		}
		var fatal fatalError
		if errors.As(err, &fatal) {
			return fmt.Errorf("waiting for %s: %w", what, err)
		}
		last = err
		select {
		case <-ctx.Done():
			if last == nil {
				last = ctx.Err()
			}
			return fmt.Errorf("waiting for %s: %w", what, errors.Join(ctx.Err(), last))
		case <-tick.C:
		}
	}
}

// fatalError ends a poll at once (a process exited).
type fatalError struct{ msg string }

func (e fatalError) Error() string { return e.msg }

// logPath is where process name writes its output under dir.
func logPath(dir, name string) string { return filepath.Join(dir, name+".log") }
