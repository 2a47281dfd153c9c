package worker

import (
	"bytes"
	"io"
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/partialfile"
	"sealfleet/storiface"
	"sealfleet/worker/workertest"
)

// writeUnsealed puts a fully allocated 2KiB unsealed file with a byte pattern in the fake store's sealing path and
// declares it; it returns the path and the padded data.
func writeUnsealed(t *testing.T, r *rig) (string, []byte) {
	t.Helper()
	path := filepath.Join(r.store.Root, string(workertest.SealPathID), storiface.FTUnsealed.String(),
		storiface.SectorName(testSector.ID))
	if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 2048)
	for i := range data {
		data[i] = byte(i*7 + 3)
	}
	pf, err := partialfile.Create(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	w, err := pf.Writer(0, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write(data); err != nil {
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
	return path, data
}

func TestReleaseUnsealedKeepRanges(t *testing.T) {
	type call func(w *LocalWorker, keep []storiface.Range) (storiface.CallID, error)
	release := func(w *LocalWorker, keep []storiface.Range) (storiface.CallID, error) {
		return w.ReleaseUnsealed(t.Context(), testSector, keep)
	}
	finalize := func(w *LocalWorker, keep []storiface.Range) (storiface.CallID, error) {
		return w.FinalizeUnsealed(t.Context(), testSector, keep)
	}
	tests := []struct {
		name    string
		call    call
		keep    []storiface.Range
		kept    []partialfile.Span // padded spans allocated afterwards; nil with removed
		removed bool
		wantErr bool
	}{
		{"release keeps one piece", release, []storiface.Range{{Offset: 0, Size: 508}}, []partialfile.Span{sp(0, 512)}, false, false},
		{"finalize keeps two pieces", finalize, []storiface.Range{{Offset: 1524, Size: 508}, {Offset: 508, Size: 254}},
			[]partialfile.Span{sp(512, 256), sp(1536, 512)}, false, false},
		{"release without keep removes the file", release, nil, nil, true, false},
		{"finalize without keep removes the file", finalize, nil, nil, true, false},
		{"bad keep range frees nothing", release, []storiface.Range{{Offset: 2000, Size: 127}},
			[]partialfile.Span{sp(0, 2048)}, false, true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := newRig(t)
			w := r.worker(t, r.ret)
			path, data := writeUnsealed(t, r)
			id, err := tc.call(w, tc.keep)
			if err != nil {
				t.Fatal(err)
			}
			got := waitAcked(t, r.ret, id)
			if (got.Err != nil) != tc.wantErr {
				t.Fatalf("returned err %v, want error %v", got.Err, tc.wantErr)
			}
			if tc.removed {
				if _, err := os.Stat(path); !os.IsNotExist(err) {
					t.Fatalf("unsealed file still there: %v", err)
				}
				if r.idx.Declared(testSector.ID, storiface.FTUnsealed) {
					t.Fatal("unsealed still declared")
				}
				return
			}
			if !r.idx.Declared(testSector.ID, storiface.FTUnsealed) {
				t.Fatal("kept unsealed file no longer declared")
			}
			checkKeptFile(t, path, data, tc.kept)
		})
	}
}

// checkKeptFile checks per 128-byte block that the kept spans are allocated and read back byte for byte and
// that the others report not allocated.
func checkKeptFile(t *testing.T, path string, data []byte, kept []partialfile.Span) {
	t.Helper()
	pf, err := partialfile.Open(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	for off := uint64(0); off < 2048; off += 128 {
		in := false
		for _, s := range kept {
			in = in || (off >= s.Offset && off < s.End())
		}
		has, err := pf.HasAllocated(storiface.UnpaddedByteIndex(off/128*127), abi.UnpaddedPieceSize(127))
		if err != nil {
			t.Fatal(err)
		}
		if has != in {
			t.Fatalf("block at %d: allocated %v, want %v", off, has, in)
		}
		if !in {
			continue
		}
		rd, err := pf.Reader(storiface.PaddedByteIndex(off), 128)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(rd)
		if err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(b, data[off:off+128]) {
			t.Fatalf("kept block at %d differs", off)
		}
	}
}

// sp builds a padded span for test tables.
func sp(off, size uint64) partialfile.Span { return partialfile.Span{Offset: off, Size: size} }
