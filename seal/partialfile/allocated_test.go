package partialfile_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/partialfile"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// Allocated must stay usable as the /remote handler's AllocatedFunc.
var _ stores.AllocatedFunc = partialfile.Allocated

func TestAllocated(t *testing.T) {
	const ssize = abi.SectorSize(2048)
	dir := t.TempDir()
	partial := filepath.Join(dir, "partial")
	pf, err := partialfile.Create(partial, abi.PaddedPieceSize(ssize))
	if err != nil {
		t.Fatal(err)
	}
	// Padded [256, 512) and [1024, 2048) hold data: unpadded [254, 508) and [1016, 2032).
	for _, s := range []struct{ off, size uint64 }{{256, 256}, {1024, 1024}} {
		if err := pf.MarkAllocated(storiface.PaddedByteIndex(s.off), abi.PaddedPieceSize(s.size)); err != nil {
			t.Fatal(err)
		}
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	plain := filepath.Join(dir, "plain")
	if err := os.WriteFile(plain, make([]byte, ssize), 0o644); err != nil {
		t.Fatal(err)
	}
	short := filepath.Join(dir, "short")
	if err := os.WriteFile(short, make([]byte, 100), 0o644); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name      string
		path      string
		ssize     abi.SectorSize
		off, size uint64
		want      bool
		wantErr   bool
	}{
		{"allocated piece", partial, ssize, 254, 254, true, false},
		{"inside allocated piece", partial, ssize, 300, 10, true, false},
		{"second piece", partial, ssize, 1016, 1016, true, false},
		{"hole at start", partial, ssize, 0, 127, false, false},
		{"straddles a hole", partial, ssize, 254, 508, false, false},
		{"whole sector", partial, ssize, 0, 2032, false, false},
		{"plain file without trailer", plain, ssize, 0, 2032, true, false},
		{"range beyond sector", partial, ssize, 2000, 127, false, true},
		{"empty range", partial, ssize, 0, 0, false, true},
		{"bad sector size", partial, 1000, 0, 127, false, true},
		{"wrong sector size for file", partial, 4096, 0, 127, false, true},
		{"malformed file", short, ssize, 0, 127, false, true},
		{"missing file", filepath.Join(dir, "none"), ssize, 0, 127, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := partialfile.Allocated(tc.path, tc.ssize, storiface.UnpaddedByteIndex(tc.off), abi.UnpaddedPieceSize(tc.size))
			if (err != nil) != tc.wantErr {
				t.Fatalf("err %v, want error %v", err, tc.wantErr)
			}
			if got != tc.want {
				t.Fatalf("allocated %v, want %v", got, tc.want)
			}
		})
	}
}
