package manager

import (
	"context"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/seal/partialfile"
	"sealfleet/storiface"
)

// TestRemoteAllocatedRanges checks that the manager's /remote answers allocated-range requests from the unsealed
// file's allocation trailer (partialfile.Allocated, the default) rather than treating the file as full.
func TestRemoteAllocatedRanges(t *testing.T) {
	ctx := context.Background()
	n := newStorageNode(t)
	admin := n.client(t, api.AllPermissions)
	root := newPath(t, "p1")
	if err := admin.StorageAddLocal(ctx, root); err != nil {
		t.Fatal(err)
	}
	path := storiface.SectorPathIn(root, storiface.FTUnsealed, testSector.ID)
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	pf, err := partialfile.Create(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	// Only the second padded 512 bytes hold data: unpadded [508, 1016).
	if err := pf.MarkAllocated(512, 512); err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	if err := admin.StorageRedeclareLocal(ctx, nil, false); err != nil {
		t.Fatal(err)
	}
	tok, err := api.NewToken(testSecret, api.AllPermissions)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		off, size uint64
		want      int
	}{
		{"allocated range", 508, 508, http.StatusOK},
		{"inside allocated range", 635, 254, http.StatusOK},
		{"hole", 0, 508, http.StatusRequestedRangeNotSatisfiable},
		{"straddles hole", 0, 1016, http.StatusRequestedRangeNotSatisfiable},
		{"after allocated range", 1016, 1016, http.StatusRequestedRangeNotSatisfiable},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			u := fmt.Sprintf("%s/remote/unsealed/%s/%d/allocated/%d/%d", n.url, storiface.SectorName(testSector.ID),
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
