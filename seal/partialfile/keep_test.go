package partialfile_test

import (
	"bytes"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/partialfile"
	"sealfleet/storiface"
)

const keepSector = abi.SectorSize(8192)

// fullFile writes a fully allocated unsealed file of keepSector filled with seeded random bytes and returns the
// data.
func fullFile(t *testing.T, path string) []byte {
	t.Helper()
	data := make([]byte, keepSector)
	rng := rand.New(rand.NewPCG(1, 2))
	for i := range data {
		data[i] = byte(rng.Uint32())
	}
	pf, err := partialfile.Create(path, abi.PaddedPieceSize(keepSector))
	if err != nil {
		t.Fatal(err)
	}
	w, err := pf.Writer(0, abi.PaddedPieceSize(keepSector))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if err := pf.MarkAllocated(0, abi.PaddedPieceSize(keepSector)); err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}
	return data
}

func rng(off, size uint64) storiface.Range {
	return storiface.Range{Offset: abi.UnpaddedPieceSize(off), Size: abi.UnpaddedPieceSize(size)}
}

func TestKeepOnly(t *testing.T) {
	tests := []struct {
		name    string
		keep    []storiface.Range
		kept    []partialfile.Span // padded spans expected allocated afterwards
		wantErr bool
	}{
		{"first piece", []storiface.Range{rng(0, 1016)}, []partialfile.Span{sp(0, 1024)}, false},
		{"two pieces out of order", []storiface.Range{rng(4064, 2032), rng(1016, 1016)},
			[]partialfile.Span{sp(1024, 1024), sp(4096, 2048)}, false},
		{"overlapping ranges", []storiface.Range{rng(0, 508), rng(254, 508)}, []partialfile.Span{sp(0, 768)}, false},
		{"unaligned range keeps its blocks", []storiface.Range{rng(200, 10)}, []partialfile.Span{sp(128, 128)}, false},
		{"range across a block edge", []storiface.Range{rng(120, 10)}, []partialfile.Span{sp(0, 256)}, false},
		{"whole sector", []storiface.Range{rng(0, 8128)}, []partialfile.Span{sp(0, 8192)}, false},
		{"no keep ranges frees everything", nil, nil, false},
		{"empty range", []storiface.Range{rng(0, 1016), rng(0, 0)}, []partialfile.Span{sp(0, 8192)}, true},
		{"range past the sector", []storiface.Range{rng(8000, 254)}, []partialfile.Span{sp(0, 8192)}, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "s-t01000-1")
			data := fullFile(t, path)
			err := partialfile.KeepOnly(path, keepSector, tc.keep)
			if (err != nil) != tc.wantErr {
				t.Fatalf("KeepOnly: err %v, want error %v", err, tc.wantErr)
			}
			checkKept(t, path, data, tc.kept)
		})
	}
}

// checkKept reopens the file and checks, block by block, that the kept spans are allocated and read back the
// original bytes, and that every other block is not allocated and holds zeros on disk.
func checkKept(t *testing.T, path string, data []byte, kept []partialfile.Span) {
	t.Helper()
	pf, err := partialfile.Open(path, abi.PaddedPieceSize(keepSector))
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if got := pf.Allocated(); !equalSpans(got, kept) {
		t.Fatalf("allocated %v, want %v", got, kept)
	}
	raw, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	zero := make([]byte, 128)
	for off := uint64(0); off < uint64(keepSector); off += 128 {
		in := false
		for _, s := range kept {
			in = in || (off >= s.Offset && off < s.End())
		}
		has, err := pf.HasAllocated(storiface.UnpaddedByteIndex(off/128*127), 127)
		if err != nil {
			t.Fatal(err)
		}
		if has != in {
			t.Fatalf("block at %d: allocated %v, want %v", off, has, in)
		}
		if !in {
			if !bytes.Equal(raw[off:off+128], zero) {
				t.Fatalf("freed block at %d still holds data", off)
			}
			continue
		}
		r, err := pf.Reader(storiface.PaddedByteIndex(off), 128)
		if err != nil {
			t.Fatal(err)
		}
		got, err := io.ReadAll(r)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(got, data[off:off+128]) {
			t.Fatalf("kept block at %d differs from what was written", off)
		}
	}
}

func equalSpans(a, b []partialfile.Span) bool {
	if len(a) != len(b) {
		return false
	}
	for i := range a {
		if a[i] != b[i] {
			return false
		}
	}
	return true
}

// sp builds a padded span for test tables.
func sp(off, size uint64) partialfile.Span { return partialfile.Span{Offset: off, Size: size} }
