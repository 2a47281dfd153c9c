package native

import (
	"bytes"
	"context"
	"encoding/json"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

var (
	testTicket = bytes.Repeat([]byte{7}, 32)
	testSeed   = bytes.Repeat([]byte{9}, 32)
)

func testSector(n abi.SectorNumber) storiface.SectorRef {
	return storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: n}, ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1}
}

func testPaths(t *testing.T, id abi.SectorID) storiface.SectorPaths {
	root := t.TempDir()
	var p storiface.SectorPaths
	p.ID = id
	for _, ft := range []storiface.SectorFileType{storiface.FTUnsealed, storiface.FTSealed, storiface.FTCache} {
		path := storiface.SectorPathIn(root, ft, id)
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		p.SetPathByType(ft, path)
	}
	return p
}

// sealed holds what a full seal of a test sector produced.
type sealed struct {
	sector storiface.SectorRef
	paths  storiface.SectorPaths
	pieces []abi.PieceInfo
	cids   storiface.SectorCids
	proof  storiface.Proof
}

// sealSector runs AP (the given pieces; nil data means a zero piece), PC1, PC2, C1 and C2 on a 2KiB sector.
func sealSector(t *testing.T, b *Backend, n abi.SectorNumber, data [][]byte) sealed {
	t.Helper()
	ctx := context.Background()
	s := sealed{sector: testSector(n)}
	s.paths = testPaths(t, s.sector.ID)
	var existing []abi.UnpaddedPieceSize
	for _, d := range data {
		size := abi.UnpaddedPieceSize(1016)
		var r *bytes.Reader
		if d != nil {
			size = abi.UnpaddedPieceSize(len(d))
			r = bytes.NewReader(d)
		}
		var pi abi.PieceInfo
		var err error
		if r == nil {
			pi, err = b.AddPiece(ctx, s.sector, s.paths, existing, size, nil)
		} else {
			pi, err = b.AddPiece(ctx, s.sector, s.paths, existing, size, r)
		}
		if err != nil {
			t.Fatalf("AddPiece: %v", err)
		}
		existing = append(existing, size)
		s.pieces = append(s.pieces, pi)
	}
	pc1o, err := b.SealPreCommit1(ctx, s.sector, s.paths, testTicket, s.pieces)
	if err != nil {
		t.Fatalf("PC1: %v", err)
	}
	if s.cids, err = b.SealPreCommit2(ctx, s.sector, s.paths, pc1o); err != nil {
		t.Fatalf("PC2: %v", err)
	}
	c1o, err := b.SealCommit1(ctx, s.sector, s.paths, testTicket, testSeed, s.pieces, s.cids)
	if err != nil {
		t.Fatalf("C1: %v", err)
	}
	if s.proof, err = b.SealCommit2(ctx, s.sector, c1o); err != nil {
		t.Fatalf("C2: %v", err)
	}
	return s
}

func (s sealed) public(t *testing.T) PublicInputs {
	commD, commR, err := Commitments(s.cids)
	if err != nil {
		t.Fatal(err)
	}
	pub := PublicInputs{Sector: s.sector, CommD: commD, CommR: commR}
	copy(pub.Ticket[:], testTicket)
	copy(pub.Seed[:], testSeed)
	return pub
}

func newTestBackend(t *testing.T) *Backend {
	b := New(Config{ParentsCacheDir: t.TempDir()})
	t.Cleanup(func() { b.Close() })
	return b
}

func TestSealCCSectorMatchesReferenceCommD(t *testing.T) {
	b := newTestBackend(t)
	s := sealSector(t, b, 1, [][]byte{nil, nil})
	// CommD of an all-zero 2KiB sector: ../shared/PROOFS.md, from go-commp-utils zerocomm / rust-fil-proofs.
	if got := s.cids.Unsealed.String(); got != "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy" {
		t.Fatalf("CC CommD = %s", got)
	}
	if err := VerifyVanillaProof(s.proof, s.public(t)); err != nil {
		t.Fatalf("verify: %v", err)
	}
}

func TestSealDataSectorVerifyUnsealRoundTrip(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t)
	rng := rand.New(rand.NewSource(42))
	p1, p2 := make([]byte, 1016), make([]byte, 1016)
	rng.Read(p1)
	rng.Read(p2)
	s := sealSector(t, b, 2, [][]byte{p1, p2})
	pub := s.public(t)
	if err := VerifyVanillaProof(s.proof, pub); err != nil {
		t.Fatalf("verify: %v", err)
	}

	// A wrong public input or a tampered proof fails.
	bad := pub
	bad.Seed[0] ^= 1
	if err := VerifyVanillaProof(s.proof, bad); err == nil {
		t.Fatal("proof verified against another seed")
	}
	tampered := bytes.Replace(s.proof, []byte(`"digest":"`), []byte(`"digest":"0`), 1)
	if err := VerifyVanillaProof(tampered, pub); err == nil {
		t.Fatal("tampered proof verified")
	}

	// Finalize drops layers, tree_c and tree_d, keeps tree_r_last and p_aux.
	if err := b.FinalizeSector(ctx, s.sector, s.paths); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(s.paths.Cache, sdr.LayerFileName(1))); !os.IsNotExist(err) {
		t.Fatal("layer 1 kept after finalize")
	}
	if _, err := porep.ReadPAux(s.paths.Cache); err != nil {
		t.Fatalf("p_aux gone after finalize: %v", err)
	}

	// Drop the unsealed copy, unseal the second piece from the replica (labels regenerated), read it back.
	if err := os.Remove(s.paths.Unsealed); err != nil {
		t.Fatal(err)
	}
	if err := b.UnsealPiece(ctx, s.sector, s.paths, 1016, 1016, testTicket, s.cids.Unsealed); err != nil {
		t.Fatalf("unseal: %v", err)
	}
	var got bytes.Buffer
	if err := b.ReadPiece(ctx, &got, s.sector, s.paths, 1016, 1016); err != nil {
		t.Fatalf("read piece: %v", err)
	}
	if !bytes.Equal(got.Bytes(), p2) {
		t.Fatal("unsealed piece differs from the original")
	}
	// The first piece was not unsealed: reading it is refused, not answered with zeros.
	if err := b.ReadPiece(ctx, &got, s.sector, s.paths, 0, 1016); err == nil {
		t.Fatal("read of a range never unsealed succeeded")
	}
	// No relabel directory is left behind.
	if left, _ := filepath.Glob(filepath.Join(filepath.Dir(s.paths.Cache), ".unseal-*")); len(left) != 0 {
		t.Fatalf("relabel dirs left: %v", left)
	}
}

func TestPreCommit2IsIdempotent(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t)
	s := sealSector(t, b, 3, [][]byte{nil, nil})
	pc1o, err := b.SealPreCommit1(ctx, s.sector, s.paths, testTicket, s.pieces)
	if err != nil {
		t.Fatal(err)
	}
	// A PC2 that finished (replica in place, p_aux written) re-runs to the same CIDs without re-encoding.
	again, err := b.SealPreCommit2(ctx, s.sector, s.paths, pc1o)
	if err != nil || again != s.cids {
		t.Fatalf("second PC2 = %v, %v; want %v", again, err, s.cids)
	}
	again, err = b.SealPreCommit2(ctx, s.sector, s.paths, pc1o)
	if err != nil || again != s.cids {
		t.Fatalf("third PC2 = %v, %v; want %v", again, err, s.cids)
	}
}

func TestBadInput(t *testing.T) {
	ctx := context.Background()
	b := newTestBackend(t)
	s := sealSector(t, b, 4, [][]byte{nil, nil})
	other := testSector(99)
	pc1o, err := b.SealPreCommit1(ctx, s.sector, s.paths, testTicket, s.pieces)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		run  func() error
		want string
	}{
		{"short ticket", func() error {
			_, err := b.SealPreCommit1(ctx, s.sector, s.paths, testTicket[:31], s.pieces)
			return err
		}, "ticket: want 32 bytes"},
		{"short seed", func() error {
			_, err := b.SealCommit1(ctx, s.sector, s.paths, testTicket, testSeed[:5], s.pieces, s.cids)
			return err
		}, "seed: want 32 bytes"},
		{"pc1 output of another sector", func() error {
			_, err := b.SealPreCommit2(ctx, other, s.paths, pc1o)
			return err
		}, "is for sector"},
		{"garbage pc1 output", func() error {
			_, err := b.SealPreCommit2(ctx, s.sector, s.paths, []byte("{"))
			return err
		}, "decoding PC1 output"},
		{"finalize before PC2", func() error {
			return b.FinalizeSector(ctx, other, testPaths(t, other.ID))
		}, "not sealed"},
		{"unseal misaligned", func() error {
			return b.UnsealPiece(ctx, s.sector, s.paths, 5, 1016, testTicket, s.cids.Unsealed)
		}, "multiple of 127"},
		{"unseal past the end", func() error {
			return b.UnsealPiece(ctx, s.sector, s.paths, 1016, 2032, testTicket, s.cids.Unsealed)
		}, "past the sector end"},
		{"vanilla prover on garbage", func() error {
			_, err := VanillaProver{}.Prove(ctx, s.sector, []byte("not json"))
			return err
		}, "bad-input"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := tc.run()
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("err = %v, want it to mention %q", err, tc.want)
			}
		})
	}
}

func TestExternalProver(t *testing.T) {
	ctx := context.Background()
	sector := testSector(5)
	tests := []struct {
		name    string
		prover  ExternalProver
		want    string
		wantErr string
	}{
		{"proof on stdout", ExternalProver{Command: []string{"sh", "-c", `grep -q '"commit1":{"x":1}' && printf snark`}}, "snark", ""},
		{"exit status and stderr surface", ExternalProver{Command: []string{"sh", "-c", "echo no params >&2; exit 3"}}, "", "exit status 3; stderr: no params"},
		{"empty output", ExternalProver{Command: []string{"true"}}, "", "wrote no proof"},
		{"timeout", ExternalProver{Command: []string{"sleep", "10"}, Timeout: 50 * time.Millisecond}, "", "timed out"},
		{"no command", ExternalProver{}, "", "no command"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			proof, err := tc.prover.Prove(ctx, sector, []byte(`{"x":1}`))
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err = %v, want %q", err, tc.wantErr)
				}
				return
			}
			if err != nil || string(proof) != tc.want {
				t.Fatalf("proof = %q, %v; want %q", proof, err, tc.want)
			}
		})
	}
}

func TestExternalProverGetsFFICommit1(t *testing.T) {
	// The request on the prover's stdin carries the C1 output twice: as sealfleet writes it, and in the form
	// filecoin-ffi's SealCommitPhase2 takes, with the sector's ticket and public inputs.
	ctx := context.Background()
	b := newTestBackend(t)
	s := sealSector(t, b, 9, [][]byte{nil})
	c1o, err := b.SealCommit1(ctx, s.sector, s.paths, testTicket, testSeed, s.pieces, s.cids)
	if err != nil {
		t.Fatal(err)
	}
	reqPath := filepath.Join(t.TempDir(), "request.json")
	p := ExternalProver{Command: []string{"sh", "-c", `cat > "$0" && printf snark`, reqPath}}
	if _, err := p.Prove(ctx, s.sector, c1o); err != nil {
		t.Fatal(err)
	}
	raw, err := os.ReadFile(reqPath)
	if err != nil {
		t.Fatal(err)
	}
	var req ExternalRequest
	if err := json.Unmarshal(raw, &req); err != nil {
		t.Fatal(err)
	}
	var ffi porep.FFICommit1
	if err := json.Unmarshal(req.Commit1FFI, &ffi); err != nil {
		t.Fatalf("commit1Ffi: %v", err)
	}
	out, err := porep.ReadCommit1JSON(bytes.NewReader(c1o))
	if err != nil {
		t.Fatal(err)
	}
	pub := s.public(t)
	if ffi.RegisteredProof != "StackedDrg2KiBV1_1" || ffi.Ticket != pub.Ticket || ffi.Seed != pub.Seed ||
		ffi.CommR != pub.CommR || ffi.CommD != pub.CommD || ffi.ReplicaID != porep.FFIBytes(out.ReplicaID) ||
		len(ffi.VanillaProofs["StackedDrg2KiBV1"]) != out.Partitions {
		t.Fatalf("commit1Ffi public inputs or proofs differ: %s %x %x", ffi.RegisteredProof, ffi.Ticket, ffi.ReplicaID)
	}
	if FFICommit1(abi.RegisteredSealProof_StackedDrg2KiBV1_1_Feat_SyntheticPoRep, c1o) != nil || FFICommit1(s.sector.ProofType, []byte("{}")) != nil {
		t.Fatal("a filecoin-ffi form for a synthetic proof or a non-C1 input")
	}
}
