package main

import (
	"bytes"
	"context"
	"io"
	"log/slog"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/manager"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

// removeRig is a real manager with one in-process worker, serving its API at a repo the CLI reads.
type removeRig struct {
	m    *manager.Manager
	repo string
	id   storiface.WorkerID
}

func newRemoveRig(t *testing.T) *removeRig {
	t.Helper()
	ctx := context.Background()
	quiet := slog.New(slog.NewTextHandler(io.Discard, nil))
	d, err := db.OpenSQLite(t.TempDir() + "/m.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	idx := workertest.NewIndex()
	st, err := workertest.NewStore(ctx, t.TempDir(), idx)
	if err != nil {
		t.Fatal(err)
	}
	s, err := sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	sctx, stop := context.WithCancel(ctx)
	t.Cleanup(stop)
	go s.Run(sctx)
	secret := bytes.Repeat([]byte{5}, api.SecretSize)
	m, err := manager.New(ctx, manager.Config{Logger: quiet}, manager.Deps{Index: idx, Store: st, Sched: s, DB: d, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { m.Close() })
	wdb, err := db.OpenSQLite(t.TempDir() + "/w.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wdb.Close() })
	w, err := worker.New(ctx, worker.Config{Name: "gone", TaskTypes: storiface.AllTaskTypes(), IgnoreResources: true,
		Clock: workertest.NewClock(), Logger: quiet},
		worker.Deps{Backend: workertest.NewBackend(), Store: st, Index: idx, Local: st, Return: m, DB: wdb})
	if err != nil {
		t.Fatal(err)
	}
	id, err := m.AddWorker(ctx, w)
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(nil, nil))
	t.Cleanup(srv.Close)
	repo := t.TempDir()
	if err := api.WriteEndpoint(repo, srv.URL, secret); err != nil {
		t.Fatal(err)
	}
	return &removeRig{m: m, repo: repo, id: id}
}

func TestSealingRemoveWorker(t *testing.T) {
	r := newRemoveRig(t)
	tests := []struct {
		name    string
		args    []string
		wantErr string
		wantOut string
		workers int
	}{
		{"no argument", nil, "want exactly one worker ID", "", 1},
		{"not a uuid", []string{"box-a"}, `worker ID "box-a": want a UUID`, "", 1},
		{"unknown worker", []string{storiface.NewWorkerID().String()}, "unknown worker", "", 1},
		{"removes the worker", []string{r.id.String()}, "", "removed worker " + r.id.String(), 0},
		{"already removed", []string{r.id.String()}, "unknown worker", "", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			app := &cli.App{Name: "t", Writer: &out, ErrWriter: io.Discard, Commands: []*cli.Command{sealingCmd},
				ExitErrHandler: func(*cli.Context, error) {}}
			args := append([]string{"t", "sealing", "--repo", r.repo, "remove-worker"}, tc.args...)
			err := app.Run(args)
			if tc.wantErr == "" && err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" && (err == nil || !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
			}
			if !strings.Contains(out.String(), tc.wantOut) {
				t.Fatalf("output %q, want %q", out.String(), tc.wantOut)
			}
			if stats, _ := r.m.WorkerStats(context.Background()); len(stats) != tc.workers {
				t.Fatalf("%d workers, want %d", len(stats), tc.workers)
			}
		})
	}
}
