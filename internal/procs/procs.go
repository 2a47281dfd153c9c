// Package procs supervises the sealfleet processes that the chaos tool and the integration tests start: each
// runs a binary with its output appended to a log file (across restarts), can be killed at once as a crash
// does, or stopped politely with a deadline.
package procs

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"syscall"
	"time"
)

// Proc is one process. Set Name, Bin, Args, Env and Log, then Start it; Start may be called again after the
// process has exited or been killed.
type Proc struct {
	Name string
	Bin  string
	Args []string
	// Env is added to this process's environment.
	Env []string
	// Log is the file the process's stdout and stderr are appended to.
	Log string

	cmd  *exec.Cmd
	done chan struct{}
}

// Start runs the process (again).
func (p *Proc) Start() error {
	f, err := os.OpenFile(p.Log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the log of %s: %w", p.Name, err)
	}
	cmd := exec.Command(p.Bin, p.Args...)
	cmd.Env = append(os.Environ(), p.Env...)
	cmd.Stdout, cmd.Stderr = f, f
	if err := cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting %s: %w", p.Name, err)
	}
	done := make(chan struct{})
	p.cmd, p.done = cmd, done
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	return nil
}

// Done is closed when the process last started has exited.
func (p *Proc) Done() <-chan struct{} { return p.done }

// Kill9 kills the process at once (SIGKILL), as a crash does, and waits for it to be gone.
func (p *Proc) Kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// Stop asks the process to stop (SIGTERM) and kills it if it has not exited after grace. It does nothing if the
// process never started or has exited.
func (p *Proc) Stop(grace time.Duration) {
	if p.cmd == nil || p.cmd.Process == nil {
		return
	}
	select {
	case <-p.done:
		return
	default:
	}
	_ = p.cmd.Process.Signal(syscall.SIGTERM)
	select {
	case <-p.done:
	case <-time.After(grace):
		p.Kill9()
	}
}

// Tail returns the last n bytes of the process's log (or the error reading it), for error messages.
func (p *Proc) Tail(n int) string {
	b, err := os.ReadFile(p.Log)
	if err != nil {
		return err.Error()
	}
	if len(b) > n {
		b = b[len(b)-n:]
	}
	return string(b)
}

// FreeAddr returns a loopback address whose port was free at the time of the call.
func FreeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
}

// Poll calls check every interval until it reports true. It returns an error naming what it waited for, with
// check's last error, when ctx ends or timeout passes first, and at once when check returns a Fatal error
// (a process it depends on exited).
func Poll(ctx context.Context, what string, timeout, interval time.Duration, check func() (bool, error)) error {
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
		var fatal Fatal
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

// Fatal is an error from a Poll check that ends the wait at once.
type Fatal struct{ Msg string }

func (e Fatal) Error() string { return e.Msg }
