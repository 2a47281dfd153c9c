package main

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
)

// cancelOn is a writer that cancels a context once what it has received contains marker.
type cancelOn struct {
	mu     sync.Mutex
	buf    bytes.Buffer
	marker string
	cancel context.CancelFunc
}

func (w *cancelOn) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf.Write(p)
	if strings.Contains(w.buf.String(), w.marker) {
		w.cancel()
	}
	return len(p), nil
}

func (w *cancelOn) String() string {
	w.mu.Lock()
	defer w.mu.Unlock()
	return w.buf.String()
}

// TestRunPledge runs `sealfleet run --pledge 2` on a fresh repo and stops it once it reports both sectors
// Proving; the banner names the API and the dashboard, and the repo holds what the other commands need.
func TestRunPledge(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	if err := os.MkdirAll(repo, 0o700); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(repo, "config.toml"), []byte("[Sealing]\nWaitSeedDelay = \"0s\"\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Setenv("SEALFLEET_PARENT_CACHE", t.TempDir())
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var out bytes.Buffer
	progress := &cancelOn{marker: "2 sector(s) Proving", cancel: cancel}
	app := newApp()
	app.Writer, app.ErrWriter = &out, progress
	err := app.RunContext(ctx, []string{"sealfleet", "run", "--repo", repo, "--listen", "127.0.0.1:0", "--pledge", "2"})
	if err != nil {
		t.Fatalf("run: %v\n%s", err, progress)
	}
	for _, want := range []string{"/rpc/v0", "dashboard:", "auth create-token --perm read"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("banner lacks %q:\n%s", want, out.String())
		}
	}
	for _, want := range []string{"sector 0  Proving", "sector 1  Proving", "2 sector(s) Proving after"} {
		if !strings.Contains(progress.String(), want) {
			t.Fatalf("progress lacks %q:\n%s", want, progress)
		}
	}
	for _, f := range []string{"api", "token", "jwt-secret", "sealfleet.db", "storage/sectorstore.json"} {
		if _, err := os.Stat(filepath.Join(repo, f)); err != nil {
			t.Errorf("repo lacks %s: %v", f, err)
		}
	}
}

func TestRunBadFlags(t *testing.T) {
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--sector-size", "3KiB"}, "Sealing.SectorSize"},
		{[]string{"--listen", "nowhere"}, "API.ListenAddress"},
		{[]string{"--pledge", "-1"}, "--pledge"},
	} {
		t.Run(strings.Join(tc.args, " "), func(t *testing.T) {
			repo := filepath.Join(t.TempDir(), "repo")
			app := newApp()
			app.Writer, app.ErrWriter = &bytes.Buffer{}, &bytes.Buffer{}
			err := app.Run(append([]string{"sealfleet", "run", "--repo", repo}, tc.args...))
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one naming %s", err, tc.want)
			}
			if _, err := os.Stat(repo); !os.IsNotExist(err) {
				t.Fatalf("repo created despite bad flags")
			}
		})
	}
}

func TestConfigDefault(t *testing.T) {
	var out bytes.Buffer
	app := newApp()
	app.Writer = &out
	if err := app.Run([]string{"sealfleet", "config", "default"}); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"[API]", "ListenAddress = \"127.0.0.1:2345\"", "SectorSize = \"2KiB\"", "[Scheduler]"} {
		if !strings.Contains(out.String(), want) {
			t.Fatalf("config default lacks %q", want)
		}
	}
}
