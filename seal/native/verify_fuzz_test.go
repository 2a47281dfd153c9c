package native

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/porep"
	"sealfleet/storiface"
)

// sealCCForFuzz seals one 2KiB CC sector (a single zero piece) in tb's temp dir and returns its vanilla proof
// and public inputs.
func sealCCForFuzz(tb testing.TB) (storiface.Proof, PublicInputs) {
	tb.Helper()
	ctx := context.Background()
	b := New(Config{ParentsCacheDir: tb.TempDir()})
	tb.Cleanup(func() { b.Close() })
	sector := testSector(9)
	root := tb.TempDir()
	var paths storiface.SectorPaths
	paths.ID = sector.ID
	for _, ft := range []storiface.SectorFileType{storiface.FTUnsealed, storiface.FTSealed, storiface.FTCache} {
		p := storiface.SectorPathIn(root, ft, sector.ID)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			tb.Fatal(err)
		}
		paths.SetPathByType(ft, p)
	}
	pi, err := b.AddPiece(ctx, sector, paths, nil, abi.PaddedPieceSize(2048).Unpadded(), nil)
	if err != nil {
		tb.Fatal(err)
	}
	pieces := []abi.PieceInfo{pi}
	pc1o, err := b.SealPreCommit1(ctx, sector, paths, testTicket, pieces)
	if err != nil {
		tb.Fatal(err)
	}
	cids, err := b.SealPreCommit2(ctx, sector, paths, pc1o)
	if err != nil {
		tb.Fatal(err)
	}
	c1o, err := b.SealCommit1(ctx, sector, paths, testTicket, testSeed, pieces, cids)
	if err != nil {
		tb.Fatal(err)
	}
	proof, err := b.SealCommit2(ctx, sector, c1o)
	if err != nil {
		tb.Fatal(err)
	}
	commD, commR, err := Commitments(cids)
	if err != nil {
		tb.Fatal(err)
	}
	pub := PublicInputs{Sector: sector, CommD: commD, CommR: commR}
	copy(pub.Ticket[:], testTicket)
	copy(pub.Seed[:], testSeed)
	return proof, pub
}

// FuzzVerifyVanillaProof hands arbitrary artifacts to the verifier a chain-less deployment trusts: it must never
// panic, and nothing but the sector's genuine proof (possibly spelled differently as JSON) may verify. With wrap
// set, the input is the artifact's commit1 content and the envelope (format, sector, digest) is made valid around
// it, so the fuzzer reaches the C1 decoder and the per-challenge checks instead of stopping at the digest.
func FuzzVerifyVanillaProof(f *testing.F) {
	proof, pub := sealCCForFuzz(f)
	if err := VerifyVanillaProof(proof, pub); err != nil {
		f.Fatalf("the genuine proof does not verify: %v", err)
	}
	var genuine VanillaArtifact
	if err := json.Unmarshal(proof, &genuine); err != nil {
		f.Fatal(err)
	}
	canon := func(c1 []byte) string {
		o, err := porep.ReadCommit1JSON(bytes.NewReader(c1))
		if err != nil {
			return ""
		}
		var buf bytes.Buffer
		if err := o.WriteJSON(&buf); err != nil {
			return ""
		}
		return buf.String()
	}
	want := canon(genuine.Commit1)
	f.Add([]byte(proof), false)
	f.Add([]byte(genuine.Commit1), true)
	for _, c1 := range []string{`{}`, `{"version":1,"proofs":[{}]}`, `{"version":1,"proofs":null}`, `[]`, `"x"`} {
		f.Add([]byte(c1), true)
	}
	f.Add([]byte(`{"format":"`+VanillaFormat+`"}`), false)
	f.Add([]byte(`null`), false)
	f.Fuzz(func(t *testing.T, b []byte, wrap bool) {
		art := b
		if wrap {
			var compact bytes.Buffer
			if json.Compact(&compact, b) != nil {
				return // not JSON: cannot be embedded
			}
			a := genuine
			a.Commit1 = compact.Bytes()
			sum := sha256.Sum256(compact.Bytes())
			a.Digest = hex.EncodeToString(sum[:])
			enc, err := json.Marshal(a)
			if err != nil {
				t.Fatal(err)
			}
			art = enc
		}
		if VerifyVanillaProof(art, pub) != nil {
			return
		}
		var got VanillaArtifact
		if err := json.Unmarshal(art, &got); err != nil || canon(got.Commit1) != want {
			t.Fatalf("a different artifact verified: %q", art)
		}
	})
}
