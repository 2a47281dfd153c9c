package worker_test

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/seal/partialfile"
	"sealfleet/stores"
	"sealfleet/storiface"
	"sealfleet/worker"
	"sealfleet/worker/workertest"
)

// TestDaemonRemoteAllocatedRanges checks that a worker daemon started without DaemonDeps.Allocated answers
// /remote allocated-range requests from the unsealed file's allocation trailer.
func TestDaemonRemoteAllocatedRanges(t *testing.T) {
	ctx := context.Background()
	secret := bytes.Repeat([]byte{7}, api.SecretSize)
	mdb, err := db.OpenSQLite(t.TempDir() + "/manager.db")
	if err != nil {
		t.Fatal(err)
	}
	defer mdb.Close()
	mp := startManager(t, "127.0.0.1:0", mdb, secret)
	defer mp.stop()

	// The worker's default path exists before it starts, holding a partly allocated unsealed file, so that
	// attaching the path declares the file.
	repo := t.TempDir()
	root := filepath.Join(repo, "local")
	if _, err := stores.InitPath(root, stores.LocalStorageMeta{Weight: 10, CanSeal: true}); err != nil {
		t.Fatal(err)
	}
	sector := abi.SectorID{Miner: 1000, Number: 9}
	path := storiface.SectorPathIn(root, storiface.FTUnsealed, sector)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	pf, err := partialfile.Create(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if err := pf.MarkAllocated(0, 1024); err != nil { // unpadded [0, 1016)
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}

	tok, _ := api.NewToken(secret, api.AllPermissions)
	clock := workertest.NewClock()
	d, err := worker.StartDaemon(ctx, worker.DaemonConfig{
		Manager: api.Info{Token: tok, URL: "http://" + mp.addr}, Listen: "127.0.0.1:0", Repo: repo, Logger: quiet,
		Worker: worker.Config{Name: "alloc", TaskTypes: storiface.AllTaskTypes(), IgnoreResources: true, Clock: clock},
	}, worker.DaemonDeps{Backend: workertest.NewBackend()})
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	clock.WaitAfter() // connected

	tests := []struct {
		name      string
		off, size uint64
		want      int
	}{
		{"allocated", 0, 1016, http.StatusOK},
		{"part of allocated", 127, 127, http.StatusOK},
		{"hole", 1016, 1016, http.StatusRequestedRangeNotSatisfiable},
		{"whole sector", 0, 2032, http.StatusRequestedRangeNotSatisfiable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := fmt.Sprintf("%s/remote/unsealed/%s/%d/allocated/%d/%d", d.URL(), storiface.SectorName(sector),
				abi.RegisteredSealProof_StackedDrg2KiBV1_1, tc.off, tc.size)
			req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Authorization", "Bearer "+tok)
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}
