package itest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/internal/procs"
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
type proc struct{ procs.Proc }

// startProc starts sealfleet with args and stops it (SIGTERM, then SIGKILL after 10 s) when the test ends.
func startProc(t *testing.T, name string, env []string, args ...string) *proc {
	t.Helper()
	p := &proc{procs.Proc{Name: name, Bin: sealfleetBin(t), Args: args, Env: env,
		Log: filepath.Join(t.TempDir(), name+".log")}}
	p.start(t)
	t.Cleanup(func() {
		p.Stop(10 * time.Second)
		if t.Failed() {
			t.Logf("--- %s log (tail) ---\n%s", p.Name, p.Tail(6000))
		}
	})
	return p
}

// start starts the process (again), failing the test if it cannot.
func (p *proc) start(t *testing.T) {
	t.Helper()
	if err := p.Start(); err != nil {
		t.Fatal(err)
	}
}

// kill9 kills the process at once, as a crash does, and waits for it to be gone.
func (p *proc) kill9() { p.Kill9() }

// eventually calls check every interval until it reports true, failing the test when timeout passes first.
func eventually(t *testing.T, what string, timeout, interval time.Duration, check func() (bool, error)) {
	t.Helper()
	if err := procs.Poll(context.Background(), what, timeout, interval, check); err != nil {
		t.Fatal(err)
	}
}

// freeAddr returns a loopback address with a port free at the time of the call.
func freeAddr(t *testing.T) string {
	t.Helper()
	addr, err := procs.FreeAddr()
	if err != nil {
		t.Fatal(err)
	}
	return addr
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
