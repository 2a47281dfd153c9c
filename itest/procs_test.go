package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/pipeline"
	"sealfleet/stores"
)

var (
	buildOnce sync.Once
	binPath   string
	buildErr  error
	binDir    string
)

// TestMain removes the binary built for the tests.
func TestMain(m *testing.M) {
	code := m.Run()
	if binDir != "" {
		os.RemoveAll(binDir)
	}
	os.Exit(code)
}

// sealfleetBin builds cmd/sealfleet once per test run and returns its path.
func sealfleetBin(t *testing.T) string {
	t.Helper()
	buildOnce.Do(func() {
		binDir, buildErr = os.MkdirTemp("", "sealfleet-itest-")
		if buildErr != nil {
			return
		}
		binPath = filepath.Join(binDir, "sealfleet")
		cmd := exec.Command("go", "build", "-o", binPath, "sealfleet/cmd/sealfleet")
		cmd.Dir = ".."
		out, err := cmd.CombinedOutput()
		if err != nil {
			buildErr = fmt.Errorf("go build: %v\n%s", err, out)
		}
	})
	if buildErr != nil {
		t.Fatal(buildErr)
	}
	return binPath
}

// proc is a sealfleet process started by a test; its output goes to a log file shown when the test fails.
type proc struct {
	name string
	args []string
	env  []string
	log  string
	cmd  *exec.Cmd
	done chan struct{}
}

// startProc starts sealfleet with args and stops it (SIGTERM, then SIGKILL) when the test ends.
func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{name: name, args: args, env: env, log: filepath.Join(t.TempDir(), name+".log")}
	p.start(t)
	t.Cleanup(func() {
		p.stop()
		if t.Failed() {
			b, _ := os.ReadFile(p.log)
			if len(b) > 6000 {
				b = b[len(b)-6000:]
			}
			t.Logf("--- %s log (tail) ---\n%s", p.name, b)
		}
	})
	return p
}

func (p *proc) start(t *testing.T) {
	t.Helper()
	f, err := os.OpenFile(p.log, os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		t.Fatal(err)
	}
	p.cmd = exec.Command(sealfleetBin(t), p.args...)
	p.cmd.Env = append(os.Environ(), p.env...)
	p.cmd.Stdout, p.cmd.Stderr = f, f
	if err := p.cmd.Start(); err != nil {
		f.Close()
		t.Fatalf("starting %s: %v", p.name, err)
	}
	p.done = make(chan struct{})
	go func() { _ = p.cmd.Wait(); f.Close(); close(p.done) }()
}

// kill9 kills the process at once, as a crash does, and waits for it to be gone.
func (p *proc) kill9() {
	_ = p.cmd.Process.Signal(syscall.SIGKILL)
	<-p.done
}

// stop asks the process to stop and kills it if it has not within 10 s.
func (p *proc) stop() {
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
	case <-time.After(10 * time.Second):
		p.kill9()
	}
}

// eventually calls check every interval until it reports true, failing the test when timeout passes first or
// check returns an error.
func eventually(t *testing.T, what string, timeout, interval time.Duration, check func() (bool, error)) {
	t.Helper()
	deadline := time.After(timeout)
	tick := time.NewTicker(interval)
	defer tick.Stop()
	var last error
	for {
		ok, err := check()
		if ok {
			return
		}
		last = err
		select {
		case <-deadline:
			t.Fatalf("%s: not done after %s (last error: %v)", what, timeout, last)
		case <-tick.C:
		}
	}
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().String()
}

// storeRepo prepares a worker repo whose storage.json lists one path for both sealing and long-term storage, so
// that the worker can take MoveStorage when the manager runs no local worker.
func storeRepo(t *testing.T) string {
	t.Helper()
	repo := t.TempDir()
	root := filepath.Join(repo, "store")
	if _, err := stores.InitPath(root, stores.LocalStorageMeta{Weight: 10, CanSeal: true, CanStore: true}); err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(stores.StorageConfig{StoragePaths: []stores.LocalPath{{Path: root}}})
	if err := os.WriteFile(filepath.Join(repo, "storage.json"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	return repo
}

// sectorsClient is the part of the manager's JSON-RPC API the tests call.
type sectorsClient struct {
	SectorsPledge func(context.Context) (abi.SectorNumber, error)
	SectorsList   func(context.Context) ([]pipeline.SectorInfo, error)
	SectorsStatus func(context.Context, abi.SectorNumber) (pipeline.SectorInfo, error)
}

// dialSectors connects to the manager of repo (its api and token files, written once it serves).
func dialSectors(t *testing.T, info api.Info) *sectorsClient {
	t.Helper()
	var c sectorsClient
	addr, err := info.RPCAddr("http")
	if err != nil {
		t.Fatal(err)
	}
	closer, err := jsonrpc.NewMergeClient(context.Background(), addr, api.Namespace, []any{&c}, info.Header())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closer)
	return &c
}

// describe summarises sectors for a failure message.
func describe(list []pipeline.SectorInfo) string {
	var b bytes.Buffer
	for _, s := range list {
		fmt.Fprintf(&b, "%d:%s", s.Number, s.State)
		if s.LastError != "" {
			fmt.Fprintf(&b, "(%s)", strings.TrimSpace(s.LastError))
		}
		b.WriteString(" ")
	}
	return b.String()
}
