package manager

import (
	"context"
	"errors"
	"net/http/httptest"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/worker"
)

// TestSchedDiagRequestOverRPC queues AddPieces no worker takes (the one worker accepts only Fetch) and asks the
// manager over the RPC client with a read-only token: SchedDiag groups them, SchedDiagRequest explains one with
// the worker's own answer, and an ID that is not waiting is refused with a bad-input error naming it.
func TestSchedDiagRequestOverRPC(t *testing.T) {
	r := newRig(t)
	n := r.startManager(false)
	d, err := db.OpenSQLite(t.TempDir() + "/w.db")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { d.Close() })
	w, err := worker.New(r.ctx, worker.Config{Name: "fetcher", TaskTypes: []storiface.TaskType{storiface.TTFetch},
		Clock: r.clock, Logger: quiet},
		worker.Deps{Backend: r.backend, Store: r.store, Index: r.idx, Local: r.store, Return: r.ret, DB: d})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	n.addWorker(t, w)
	srv := httptest.NewServer(n.m.Handler(nil, nil))
	t.Cleanup(srv.Close)
	tok, err := api.NewToken(testSecret, []auth.Permission{api.PermRead})
	if err != nil {
		t.Fatal(err)
	}
	client, closer, err := api.NewManagerClient(r.ctx, api.Info{URL: srv.URL, Token: tok}, api.ClientOptions{Scheme: "http"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(closer)

	const queued = 3
	ctx, cancel := context.WithCancel(r.ctx)
	done := make(chan struct{}, queued)
	t.Cleanup(func() {
		cancel()
		for range queued {
			<-done
		}
	})
	for i := range queued {
		go func() {
			defer func() { done <- struct{}{} }()
			s := storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(i)},
				ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
			_, _ = n.m.AddPiece(ctx, s, nil, abi.PaddedPieceSize(2048).Unpadded(), storiface.PieceData{})
		}()
	}
	hosts := waitWaiting(t, n.s, queued)

	diag, err := client.SchedDiag(r.ctx)
	if err != nil {
		t.Fatal(err)
	}
	if diag.Waiting != queued || len(diag.Requests) != 1 || diag.Requests[0].Count != queued ||
		len(diag.Requests[0].IDs) != queued {
		t.Fatalf("SchedDiag: waiting %d, groups %+v; want one group of %d", diag.Waiting, diag.Requests, queued)
	}
	for _, tc := range []struct {
		name    string
		id      uuid.UUID
		wantErr string // "" for success
	}{
		{"first of the group", diag.Requests[0].ID, ""},
		{"last of the group", diag.Requests[0].IDs[queued-1], ""},
		{"unknown ID", uuid.New(), "unknown, started or finished"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dr, err := client.SchedDiagRequest(r.ctx, tc.id)
			if tc.wantErr != "" {
				if err == nil || storiface.CodeOf(err) != storiface.ErrBadInput || !strings.Contains(err.Error(), tc.id.String()) ||
					!strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v (code %s), want a bad-input error naming %s and %q", err, storiface.CodeOf(err), tc.id,
						tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if dr.ID != tc.id || dr.Count != 1 || dr.Task != storiface.TTAddPiece || len(dr.Rejections) != 1 ||
				dr.Rejections[0].Hostname != hosts[0] || dr.Rejections[0].Reason != sched.ReasonTaskUnsupported {
				t.Fatalf("SchedDiagRequest(%s) = %+v", tc.id, dr)
			}
		})
	}
	if _, err := n.m.SchedDiagRequest(r.ctx, uuid.New()); !errors.Is(err, sched.ErrUnknownRequest) {
		t.Fatalf("in process: %v, want an error matching sched.ErrUnknownRequest", err)
	}
}

// waitWaiting returns once the scheduler lists want waiting requests (the AddPiece goroutines have queued them),
// with the hostnames of the workers it knows.
func waitWaiting(t *testing.T, s *sched.Scheduler, want int) (hosts []string) {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		info, err := s.Info(context.Background())
		if err != nil {
			t.Fatal(err)
		}
		if info.Waiting == want {
			for _, st := range s.WorkerStats(context.Background()) {
				hosts = append(hosts, st.Info.Hostname)
			}
			return hosts
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d requests waiting after 30 s, want %d", info.Waiting, want)
		}
		runtime.Gosched() // the AddPiece goroutines are about to queue: no timer needed
	}
}
