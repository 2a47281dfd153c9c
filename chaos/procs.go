package chaos

import (
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"time"
)

// proc is one sealfleet process of the cluster. Its output is appended to a log file across restarts, with a
// marker line after each kill.
type proc struct {
	name string
	bin  string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// killMarker is appended to a process's log after it was killed, splitting the log into lifetimes; the kill's
// time (RFC 3339, nanoseconds) follows it on the same line.
const killMarker = "=== chaos: SIGKILL ==="

// start runs the process (again).
func (p *proc) start() error {
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return fmt.Errorf("opening the log of %s: %w", p.name, err)
	}
	p.cmd = exec.Command(p.bin, p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		return fmt.Errorf("starting %s: %w", p.name, err)
	}
	done := make(chan struct{})
	p.done = done
	cmd := p.cmd
	go func() { _ = cmd.Wait(); f.Close(); close(done) }()
	return nil
}

// kill9 kills the process at once, as a crash does, waits for it to be gone and marks its log.
func (p *proc) kill9() error {
	at := time.Now()
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
	f, err := os.OpenFile(p.log, os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	_, err = f.WriteString("\n" + killMarker + " " + at.Format(time.RFC3339Nano) + "\n")
	return err
}

// stop asks the process to stop (SIGTERM) and kills it if it has not after grace.
func (p *proc) stop(grace time.Duration) {
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
		_ = p.cmd.Process.Signal(syscall.SIGKILL)
		<-p.done
	}
}

// freeAddr returns a loopback address whose port was free at the time of the call.
func freeAddr() (string, error) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return "", fmt.Errorf("finding a free port: %w", err)
	}
	defer l.Close()
	return l.Addr().String(), nil
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

// tail returns the end of the process's log, for error messages.
func (p *proc) tail() string {
	b, err := os.ReadFile(p.log)
	if err != nil {
		return err.Error()
	}
	if len(b) > 2000 {
		b = b[len(b)-2000:]
	}
	return string(b)
}
