package main

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"log/slog"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/manager"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

// newSchedDiagRig starts a real manager whose one worker accepts only Fetch, queues n AddPieces that therefore
// stay waiting, and returns the repo the CLI reads and the scheduler.
func newSchedDiagRig(t *testing.T, n int) (repo string, s *sched.Scheduler) {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
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
	s, err = sched.New(sched.Config{Clock: sched.NewFakeClock(time.Unix(0, 0)), SessionInterval: time.Hour})
	if err != nil {
		t.Fatal(err)
	}
	go s.Run(ctx)
	secret := bytes.Repeat([]byte{7}, api.SecretSize)
	m, err := manager.New(ctx, manager.Config{Logger: quiet}, manager.Deps{Index: idx, Store: st, Sched: s, DB: d, Secret: secret})
	if err != nil {
		t.Fatal(err)
	}
	wdb, err := db.OpenSQLite(t.TempDir() + "/w.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { wdb.Close() })
	w, err := worker.New(ctx, worker.Config{Name: "fetch-only", TaskTypes: []storiface.TaskType{storiface.TTFetch},
		Clock: workertest.NewClock(), Logger: quiet},
		worker.Deps{Backend: workertest.NewBackend(), Store: st, Index: idx, Local: st, Return: m, DB: wdb})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := m.AddWorker(ctx, w); err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(m.Handler(nil, nil))
	repo = t.TempDir()
	if err := api.WriteEndpoint(repo, srv.URL, secret); err != nil {
		t.Fatal(err)
	}
	done := make(chan struct{}, n)
	t.Cleanup(func() {
		cancel()
		for range n {
			<-done
		}
		srv.Close()
		m.Close()
	})
	for i := range n {
		go func() {
			defer func() { done <- struct{}{} }()
			sec := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(10 + i)},
				ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
			_, _ = m.AddPiece(ctx, sec, nil, abi.PaddedPieceSize(2048).Unpadded(), storiface.PieceData{})
		}()
	}
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := s.Info(ctx)
		if err != nil {
			t.Fatal(err)
		}
		if info.Waiting == n {
			return repo, s
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests waiting after 30 s, want %d", info.Waiting, n)
		}
		runtime.Gosched() // the AddPiece goroutines are about to queue: no timer needed
	}
}

func TestSealingSchedDiag(t *testing.T) {
	repo, s := newSchedDiagRig(t, 3)
	info, err := s.Info(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	first := info.Requests[0].ID.String()
	for _, tc := range []struct {
		name    string
		args    []string
		wantErr string
		wantOut []string
	}{
		{"groups", nil, "", []string{"Waiting requests: 3 in 1 group(s)", first + " AP sector",
			"(×3; also sectors", "task-unsupported     1 worker(s): "}},
		{"one request", []string{"--request", first}, "", []string{first + " AP sector",
			"task-unsupported"}},
		{"one request as JSON", []string{"--json", "--request", first}, "", []string{`"Count": 1`,
			`"Rejections": [`}},
		{"not a UUID", []string{"--request", "PC1"}, `--request "PC1": want a request UUID`, nil},
		{"not waiting", []string{"--request", uuid.Nil.String()}, "unknown, started or finished", nil},
		{"stray argument", []string{first}, "takes no arguments", nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var out bytes.Buffer
			app := &cli.App{Name: "t", Writer: &out, ErrWriter: io.Discard, Commands: []*cli.Command{sealingCmd},
				ExitErrHandler: func(*cli.Context, error) {}}
			err := app.Run(append([]string{"t", "sealing", "--repo", repo, "sched-diag"}, tc.args...))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for _, want := range tc.wantOut {
				if !strings.Contains(out.String(), want) {
					t.Errorf("missing %q in:\n%s", want, out.String())
				}
			}
			if strings.HasPrefix(out.String(), "{") && !json.Valid(out.Bytes()) {
				t.Errorf("invalid JSON:\n%s", out.String())
			}
		})
	}
}
