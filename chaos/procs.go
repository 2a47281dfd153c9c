package chaos

import (
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

// logPath is where process name writes its output under dir.
func logPath(dir, name string) string { return filepath.Join(dir, name+".log") }
