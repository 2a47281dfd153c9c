package commp

import (
	"bytes"
	"encoding/hex"
	"math/rand/v2"
	"slices"
	"testing"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"
)

func pieceOf(t *testing.T, comm Node, padded abi.PaddedPieceSize) abi.PieceInfo {
	t.Helper()
	c, err := commcid.DataCommitmentV1ToCID(comm[:])
	if err != nil {
		t.Fatal(err)
	}
	return abi.PieceInfo{Size: padded, PieceCID: c}
}

func commOf(t *testing.T, c cid.Cid) Node {
	t.Helper()
	n, err := pieceComm(c)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// TestComputeCommDEmpty: rust-fil-proofs filecoin-proofs/src/pieces.rs test_compute_comm_d_empty.
func TestComputeCommDEmpty(t *testing.T) {
	tests := []struct {
		sector abi.SectorSize
		want   string
	}{
		{2048, "fc7e928296e516faade986b28f92d44a4f24b935485223376a799027bc18f833"},
		{128, "3731bb99ac689f66eef5973e4a94da188f4ddcae580724fc6f3fd60dfd488333"},
	}
	for _, tc := range tests {
		c, err := ComputeCommD(tc.sector, nil)
		if err != nil {
			t.Fatal(err)
		}
		if got := commOf(t, c); hex.EncodeToString(got[:]) != tc.want {
			t.Errorf("sector %d: got %x want %s", tc.sector, got, tc.want)
		}
	}
}

// TestComputeCommDSimplePieces follows rust-fil-proofs pieces.rs test_verify_simple_pieces: every way of
// covering a 4-leaf sector with a, b, c, d and their parents e = H(a,b), f = H(c,d), g = H(e,f) gives g.
func TestComputeCommDSimplePieces(t *testing.T) {
	h := newHasher()
	var a, b, c, d Node
	for i := range a {
		a[i], b[i], c[i], d[i] = byte(i), byte(i*3), byte(i*7), byte(i*11)
	}
	for _, n := range []*Node{&a, &b, &c, &d} {
		n[31] &= 0x3f
	}
	e, f := h.join(&a, &b), h.join(&c, &d)
	g := h.join(&e, &f)
	pa, pb, pc, pd := pieceOf(t, a, 128), pieceOf(t, b, 128), pieceOf(t, c, 128), pieceOf(t, d, 128)
	pe, pf, pg := pieceOf(t, e, 256), pieceOf(t, f, 256), pieceOf(t, g, 512)
	for name, pieces := range map[string][]abi.PieceInfo{
		"a,b,c,d": {pa, pb, pc, pd}, "e,c,d": {pe, pc, pd}, "e,f": {pe, pf}, "a,b,f": {pa, pb, pf}, "g": {pg},
	} {
		t.Run(name, func(t *testing.T) {
			got, err := ComputeCommD(512, pieces)
			if err != nil {
				t.Fatal(err)
			}
			if commOf(t, got) != g {
				t.Fatalf("got %x want %x", commOf(t, got), g)
			}
		})
	}
}

// TestComputeCommDPaddedPieces follows rust-fil-proofs pieces.rs test_verify_padded_pieces: pieces of 1, 4, 2 and
// 8 leaves-of-128-bytes in a 32×128-byte sector, aligned with zero pieces, against a tree built by hand.
func TestComputeCommDPaddedPieces(t *testing.T) {
	h := newHasher()
	fill := func(b byte) (n Node) {
		for i := range n {
			n[i] = b
		}
		return n
	}
	p1, p2, p3, p4 := fill(1), fill(2), fill(3), fill(4)
	pad := ZeroComm(2) // zero piece of 128 bytes
	hash := func(l, r Node) Node { return h.join(&l, &r) }
	// Unit: one 128-byte piece. Layout: A P P P B(4) C(2) P×6 D(8) P×8.
	l1 := []Node{hash(p1, pad), hash(pad, pad), p2, p3, hash(pad, pad), hash(pad, pad), hash(pad, pad), p4,
		hash(pad, pad), hash(pad, pad), hash(pad, pad), hash(pad, pad)}
	// Sizes in units after l1: 2,2,4,2,2,2,2,8,2,2,2,2.
	l2 := []Node{hash(l1[0], l1[1]), l1[2], hash(l1[3], l1[4]), hash(l1[5], l1[6]), l1[7], hash(l1[8], l1[9]), hash(l1[10], l1[11])}
	l3 := []Node{hash(l2[0], l2[1]), hash(l2[2], l2[3]), l2[4], hash(l2[5], l2[6])}
	want := hash(hash(l3[0], l3[1]), hash(l3[2], l3[3]))

	pieces := []abi.PieceInfo{pieceOf(t, p1, 128), pieceOf(t, p2, 4*128), pieceOf(t, p3, 2*128), pieceOf(t, p4, 8*128)}
	got, err := ComputeCommD(32*128, pieces)
	if err != nil {
		t.Fatal(err)
	}
	if commOf(t, got) != want {
		t.Fatalf("got %x want %x", commOf(t, got), want)
	}
	// Filling first changes nothing here: the reference already pads to the sector.
	got2, err := UnsealedCID(32*128, pieces)
	if err != nil || got2 != got {
		t.Fatalf("UnsealedCID %s, %v; want %s", got2, err, got)
	}
}

// TestUnsealedCIDMatchesSectorData lays random pieces into a sector buffer at aligned offsets and checks that the
// CommP of the whole sector equals UnsealedCID of the pieces.
func TestUnsealedCIDMatchesSectorData(t *testing.T) {
	r := rand.New(rand.NewPCG(11, 12))
	const sector = 64 << 10
	for trial := range 8 {
		unpadded := make([]byte, abi.PaddedPieceSize(sector).Unpadded())
		var pieces []abi.PieceInfo
		var off abi.PaddedPieceSize
		for {
			size := abi.PaddedPieceSize(128) << r.IntN(7)
			_, pad := RequiredPadding(off, size)
			if off+pad+size > sector || (len(pieces) > 0 && r.IntN(5) == 0) {
				break
			}
			off += pad
			data := unpadded[off.Unpadded() : off.Unpadded()+size.Unpadded()]
			for i := range data {
				data[i] = byte(r.Uint32())
			}
			pi, err := GeneratePieceCID(bytes.NewReader(data), size.Unpadded())
			if err != nil {
				t.Fatal(err)
			}
			pieces = append(pieces, pi)
			off += size
		}
		whole, err := PieceCID(bytes.NewReader(unpadded), uint64(len(unpadded)))
		if err != nil {
			t.Fatal(err)
		}
		got, err := UnsealedCID(sector, pieces)
		if err != nil {
			t.Fatal(err)
		}
		if got != whole.PieceCID {
			t.Fatalf("trial %d (%d pieces): UnsealedCID %s, sector data %s", trial, len(pieces), got, whole.PieceCID)
		}
	}
	// A CC sector.
	cc, err := UnsealedCID(32<<30, nil)
	if err != nil || cc.String() != "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq" { // PROOFS.md
		t.Fatalf("32GiB CC: %s %v", cc, err)
	}
}

func TestComputeCommDErrors(t *testing.T) {
	z128, _ := ZeroPiece(128)
	z1k, _ := ZeroPiece(1024)
	bad := abi.PieceInfo{Size: 256, PieceCID: cid.NewCidV1(cid.Raw, z128.PieceCID.Hash())}
	tests := []struct {
		name   string
		sector abi.SectorSize
		pieces []abi.PieceInfo
	}{
		{"sector not power of two", 3000, []abi.PieceInfo{z128}},
		{"piece not power of two", 2048, []abi.PieceInfo{{Size: 384, PieceCID: z128.PieceCID}}},
		{"piece too small", 2048, []abi.PieceInfo{{Size: 64, PieceCID: z128.PieceCID}}},
		{"pieces larger than sector", 2048, []abi.PieceInfo{z1k, z1k, z128}},
		{"too many pieces", 512, slices.Repeat([]abi.PieceInfo{z128}, 5)},
		{"not a piece CID", 2048, []abi.PieceInfo{bad}},
		{"undefined CID", 2048, []abi.PieceInfo{{Size: 128}}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			if _, err := ComputeCommD(tc.sector, tc.pieces); err == nil {
				t.Fatal("want error")
			}
		})
	}
	if _, err := FillPieces(2048, []abi.PieceInfo{z1k, z128, z1k}); err == nil {
		t.Fatal("FillPieces past the sector: want error")
	}
}

func TestRequiredPadding(t *testing.T) {
	tests := []struct {
		old, next abi.PaddedPieceSize
		want      []abi.PaddedPieceSize
	}{
		{0, 1024, []abi.PaddedPieceSize{}},
		{128, 128, []abi.PaddedPieceSize{}},
		{128, 256, []abi.PaddedPieceSize{128}},
		{128, 1024, []abi.PaddedPieceSize{128, 256, 512}},
		{384, 2048, []abi.PaddedPieceSize{128, 512, 1024}},
	}
	for _, tc := range tests {
		got, sum := RequiredPadding(tc.old, tc.next)
		var wantSum abi.PaddedPieceSize
		for _, p := range tc.want {
			wantSum += p
		}
		if !slices.Equal(got, tc.want) || sum != wantSum {
			t.Errorf("RequiredPadding(%d, %d) = %v, %d; want %v", tc.old, tc.next, got, sum, tc.want)
		}
	}
}
