package manager

import (
	"os"
	"path/filepath"
	"testing"

	"sealfleet/seal/partialfile"
	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

// TestReleaseUnsealedWithKeepRangesRunsOnWorker checks that the manager sends ReleaseUnsealed with keep ranges to
// the worker holding the unsealed file, which frees the rest and keeps the file declared.
func TestReleaseUnsealedWithKeepRangesRunsOnWorker(t *testing.T) {
	tests := []struct {
		name string
		keep []storiface.Range
		want []partialfile.Span
	}{
		{"keep first quarter", []storiface.Range{{Offset: 0, Size: 508}}, []partialfile.Span{sp(0, 512)}},
		{"keep last half", []storiface.Range{{Offset: 1016, Size: 1016}}, []partialfile.Span{sp(1024, 1024)}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			n := r.startManager(true)
			path := filepath.Join(r.store.Root, string(workertest.SealPathID), storiface.FTUnsealed.String(),
				storiface.SectorName(testSector.ID))
			if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
				t.Fatal(err)
			}
			pf, err := partialfile.Create(path, 2048)
			if err != nil {
				t.Fatal(err)
			}
			if err := pf.MarkAllocated(0, 2048); err != nil {
				t.Fatal(err)
			}
			if err := pf.Close(); err != nil {
				t.Fatal(err)
			}
			if err := r.idx.StorageDeclareSector(r.ctx, workertest.SealPathID, testSector.ID, storiface.FTUnsealed, true); err != nil {
				t.Fatal(err)
			}
			if err := n.m.ReleaseUnsealed(r.ctx, testSector, tc.keep); err != nil {
				t.Fatal(err)
			}
			if !r.idx.Declared(testSector.ID, storiface.FTUnsealed) {
				t.Fatal("unsealed no longer declared after a release with keep ranges")
			}
			pf, err = partialfile.Open(path, 2048)
			if err != nil {
				t.Fatal(err)
			}
			defer pf.Close()
			got := pf.Allocated()
			if len(got) != len(tc.want) || got[0] != tc.want[0] {
				t.Fatalf("allocated %v, want %v", got, tc.want)
			}
		})
	}
	t.Run("no unsealed file", func(t *testing.T) {
		r := newRig(t)
		n := r.startManager(true)
		if err := n.m.ReleaseUnsealed(r.ctx, testSector, []storiface.Range{{Offset: 0, Size: 508}}); err != nil {
			t.Fatal(err)
		}
	})
}

// sp builds a padded span for test tables.
func sp(off, size uint64) partialfile.Span { return partialfile.Span{Offset: off, Size: size} }
