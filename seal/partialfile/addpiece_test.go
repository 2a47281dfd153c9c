package partialfile

import (
	"bytes"
	"context"
	"errors"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"testing/iotest"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/commp"
)

func randData(r *rand.Rand, n int) []byte {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(r.Uint32())
	}
	return b
}

func TestPieceOffset(t *testing.T) {
	tests := []struct {
		existing []abi.UnpaddedPieceSize
		size     abi.UnpaddedPieceSize
		offset   uint64
		pads     []abi.PaddedPieceSize
	}{
		{nil, 127, 0, nil},
		{[]abi.UnpaddedPieceSize{127}, 127, 128, nil},
		{[]abi.UnpaddedPieceSize{127}, 508, 512, []abi.PaddedPieceSize{128, 256}},
		// Same layout whether the fillers are listed or implied.
		{[]abi.UnpaddedPieceSize{127, 508}, 127, 1024, nil},
		{[]abi.UnpaddedPieceSize{127, 127, 254, 508}, 127, 1024, nil},
		{[]abi.UnpaddedPieceSize{254, 127}, 1016, 1024, []abi.PaddedPieceSize{128, 512}},
	}
	for _, tc := range tests {
		off, pads, err := PieceOffset(tc.existing, tc.size)
		if err != nil || uint64(off) != tc.offset || len(pads) != len(tc.pads) {
			t.Errorf("PieceOffset(%v, %d) = %d, %v, %v; want %d, %v", tc.existing, tc.size, off, pads, err, tc.offset, tc.pads)
			continue
		}
		for i := range pads {
			if pads[i] != tc.pads[i] {
				t.Errorf("PieceOffset(%v, %d) pads %v; want %v", tc.existing, tc.size, pads, tc.pads)
			}
		}
	}
	if _, _, err := PieceOffset(nil, 100); err == nil {
		t.Error("invalid size: want error")
	}
	if _, _, err := PieceOffset([]abi.UnpaddedPieceSize{100}, 127); err == nil {
		t.Error("invalid existing size: want error")
	}
}

// TestAddReadPieces fills an 8KiB sector with mixed pieces and checks CommPs, read-back, the allocation map and
// that the CommD from the piece list equals the CommP of the whole file's content.
func TestAddReadPieces(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(2, 3))
	const sector = abi.SectorSize(8 << 10)
	path := filepath.Join(t.TempDir(), "unsealed")
	var existing []abi.UnpaddedPieceSize
	var infos []abi.PieceInfo
	type placed struct {
		off  uint64
		data []byte
	}
	var all []placed
	for _, size := range []abi.UnpaddedPieceSize{127, 508, 254, 2032, 127} {
		data := randData(r, int(size))
		pi, err := AddPiece(ctx, path, sector, existing, size, bytes.NewReader(data))
		if err != nil {
			t.Fatal(err)
		}
		want, _ := commp.GeneratePieceCID(bytes.NewReader(data), size)
		if pi != want {
			t.Fatalf("piece %d: PieceInfo %v, want %v", size, pi, want)
		}
		off, _, _ := PieceOffset(existing, size)
		all = append(all, placed{uint64(off.Unpadded()), data})
		existing = append(existing, size)
		infos = append(infos, pi)
	}
	for _, p := range all {
		var buf bytes.Buffer
		if err := ReadPiece(ctx, &buf, path, sector, UnpaddedIndex(p.off), UnpaddedSize(uint64(len(p.data)))); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), p.data) {
			t.Fatalf("piece at %d reads back differently", p.off)
		}
		// An odd sub-range.
		buf.Reset()
		if err := ReadPiece(ctx, &buf, path, sector, UnpaddedIndex(p.off+3), UnpaddedSize(uint64(len(p.data)-5))); err != nil {
			t.Fatal(err)
		}
		if !bytes.Equal(buf.Bytes(), p.data[3:len(p.data)-2]) {
			t.Fatalf("sub-range of piece at %d reads back differently", p.off)
		}
	}
	// Pieces: 127@0, pads 128+256, 508@512, 254@1024 (no pad), pad 512+1024? 2032 needs 2048 alignment:
	// end 1280 → pads 256, 512 → 2048..4096; 127@4096.
	pf, err := Open(path, abi.PaddedPieceSize(sector))
	if err != nil {
		t.Fatal(err)
	}
	if got := pf.Allocated(); len(got) != 1 || got[0] != (Span{0, 4224}) {
		t.Fatalf("allocation %v, want [0, 4224)", got)
	}
	pf.Close()
	// Fill the rest with zero pieces (no data written) and compare CommD with the file content.
	fill, _ := commp.RequiredPadding(4224, abi.PaddedPieceSize(sector))
	for _, p := range fill {
		pi, err := AddPiece(ctx, path, sector, existing, p.Unpadded(), nil)
		if err != nil {
			t.Fatal(err)
		}
		infos = append(infos, pi)
		existing = append(existing, p.Unpadded())
	}
	var whole bytes.Buffer
	if err := ReadPiece(ctx, &whole, path, sector, 0, abi.PaddedPieceSize(sector).Unpadded()); err != nil {
		t.Fatal(err)
	}
	fromFile, err := commp.PieceCID(&whole, uint64(abi.PaddedPieceSize(sector).Unpadded()))
	if err != nil {
		t.Fatal(err)
	}
	commD, err := commp.UnsealedCID(sector, infos)
	if err != nil {
		t.Fatal(err)
	}
	if commD != fromFile.PieceCID {
		t.Fatalf("CommD %s, CommP of file content %s", commD, fromFile.PieceCID)
	}
}

func fileBytes(t *testing.T, path string) []byte {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return b
}

// TestAddPieceBadInput checks that every rejected call leaves the file byte-for-byte unchanged.
func TestAddPieceBadInput(t *testing.T) {
	ctx := context.Background()
	r := rand.New(rand.NewPCG(4, 5))
	const sector = abi.SectorSize(2048)
	path := filepath.Join(t.TempDir(), "unsealed")
	if _, err := AddPiece(ctx, path, sector, nil, 254, bytes.NewReader(randData(r, 254))); err != nil {
		t.Fatal(err)
	}
	existing := []abi.UnpaddedPieceSize{254}
	cancelled, cancel := context.WithCancel(ctx)
	cancel()
	big := randData(r, 1016)
	tests := []struct {
		name     string
		ctx      context.Context
		sector   abi.SectorSize
		existing []abi.UnpaddedPieceSize
		size     abi.UnpaddedPieceSize
		data     io.Reader
	}{
		{"short reader", ctx, sector, existing, 1016, bytes.NewReader(big[:1000])},
		{"failing reader", ctx, sector, existing, 1016, iotest.TimeoutReader(iotest.HalfReader(bytes.NewReader(big)))},
		{"size not a piece size", ctx, sector, existing, 1000, bytes.NewReader(big)},
		{"does not fit", ctx, sector, []abi.UnpaddedPieceSize{254, 1016}, 1016, bytes.NewReader(big)},
		{"range already allocated", ctx, sector, nil, 127, bytes.NewReader(big)},
		{"sector size", ctx, 3000, existing, 127, bytes.NewReader(big)},
		{"cancelled", cancelled, sector, existing, 1016, bytes.NewReader(big)},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			before := fileBytes(t, path)
			if _, err := AddPiece(tc.ctx, path, tc.sector, tc.existing, tc.size, tc.data); err == nil {
				t.Fatal("want error")
			}
			if !bytes.Equal(fileBytes(t, path), before) {
				t.Fatal("file changed")
			}
		})
	}
	// A failed first piece leaves no file behind.
	fresh := filepath.Join(t.TempDir(), "fresh")
	if _, err := AddPiece(ctx, fresh, sector, nil, 1016, bytes.NewReader(big[:10])); err == nil {
		t.Fatal("short reader: want error")
	}
	if _, err := os.Stat(fresh); !errors.Is(err, os.ErrNotExist) {
		t.Fatalf("failed first AddPiece left a file: %v", err)
	}
	if _, err := AddPiece(ctx, fresh, sector, existing, 127, bytes.NewReader(big)); err == nil {
		t.Fatal("existing pieces without a file: want error")
	}
	// Reading holes is an error.
	var sink bytes.Buffer
	if err := ReadPiece(ctx, &sink, path, sector, 254, 127); !errors.Is(err, ErrNotAllocated) || sink.Len() != 0 {
		t.Fatalf("read of unallocated range: %v, wrote %d bytes", err, sink.Len())
	}
	if err := ReadPiece(ctx, &sink, path, sector, 2000, 100); err == nil {
		t.Fatal("read past the sector: want error")
	}
}

// TestZeroPiecesAreSparse: a CC-style zero piece, given as nil or as zero bytes, writes no data blocks.
func TestZeroPiecesAreSparse(t *testing.T) {
	const sector = abi.SectorSize(8 << 20)
	usize := abi.PaddedPieceSize(sector).Unpadded()
	for name, data := range map[string]io.Reader{"nil": nil, "zeros": bytes.NewReader(make([]byte, usize))} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cc")
			pi, err := AddPiece(context.Background(), path, sector, nil, usize, data)
			if err != nil {
				t.Fatal(err)
			}
			want, _ := commp.ZeroPieceCommitment(abi.PaddedPieceSize(sector))
			if pi.PieceCID != want {
				t.Fatalf("CommP %s, want %s", pi.PieceCID, want)
			}
			st, err := os.Stat(path)
			if err != nil {
				t.Fatal(err)
			}
			if sys, ok := st.Sys().(*syscall.Stat_t); ok && sys.Blocks*512 > 1<<20 {
				t.Fatalf("zero piece used %d bytes of disk", sys.Blocks*512)
			}
		})
	}
}

// TestLeftoversAreCleared: bytes left in an unallocated range (say by a crash before the trailer was written) do
// not leak into a later zero piece or all-zero data.
func TestLeftoversAreCleared(t *testing.T) {
	ctx := context.Background()
	const sector = abi.SectorSize(2048)
	for name, data := range map[string]func() io.Reader{
		"nil":   func() io.Reader { return nil },
		"zeros": func() io.Reader { return bytes.NewReader(make([]byte, 2032)) },
	} {
		t.Run(name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "u")
			pf, err := Create(path, 2048)
			if err != nil {
				t.Fatal(err)
			}
			w, _ := pf.Writer(0, 2048)
			w.Write(bytes.Repeat([]byte{0xaa}, 2048)) // written, never marked allocated
			pf.Close()
			if _, err := AddPiece(ctx, path, sector, nil, 2032, data()); err != nil {
				t.Fatal(err)
			}
			var buf bytes.Buffer
			if err := ReadPiece(ctx, &buf, path, sector, 0, 2032); err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(buf.Bytes(), make([]byte, 2032)) {
				t.Fatal("leftover bytes leaked into a zero piece")
			}
		})
	}
}
