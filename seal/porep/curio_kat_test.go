package porep

import (
	"bytes"
	"encoding/base64"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// Golden data of a real 32GiB sector: the roots of sc-02-data-tree-r-last-0..7.dat and its p_aux, as `hexdump`
// (16-bit little-endian words) printed them. Source: filecoin-project/curio `lib/proof/tree_r_last_comm_test.go`
// (commRLastGoldenCommRs, commRLastGoldenPaux; test TestCommRLastFromTreeRLastRoots/golden_8_matches_paux_commRLast).
const curioTreeRLastRoots = `0000000 4a92 c600 5816 2932 d995 49fc 8a3f 72ec
0000010 5b36 a530 9701 95e5 df37 6c24 9fa3 1bfd
0000020 95d7 6f8d 68f2 0977 9215 9bea de51 a35c
0000030 adb0 af57 fe34 10fd 9122 dba4 ec1a 3a54
0000040 fbfa 6411 076c 1cd0 63bf ccfa 6b26 dd46
0000050 b01a d30c 05e3 ef60 cf18 fd50 f340 732d
0000060 b8dc b4d1 3ebd 2a67 8cd9 e529 05cd 2edc
0000070 a709 f06e 8308 87a4 63e1 4efe 9f71 63e6
0000080 46d8 37e9 fe87 146c 6ff2 ee49 0f61 4d43
0000090 1c02 d1c0 a5ad 6962 085e 4daf f65a 5733
00000a0 ae5a e9f4 7d77 313b 4dd7 20ad dd75 84d5
00000b0 8c57 7993 efe7 1538 c92c fa19 d127 29c6
00000c0 6740 6828 7f4d 5ec8 0f05 db31 7599 552b
00000d0 2f2a 609d 0987 eaf0 d6a2 6ac6 96fc 6be4
00000e0 b09c 331c 137f bbb4 a4f4 02ae bd96 27d9
00000f0 b5db 7924 87e8 d35b 7413 e5c9 7367 2c5f`

const curioPAux = `0000000 4199 9de5 a224 58a0 5577 c58a 1afa 25ab
0000010 d16b 3e2a ef88 ee51 f579 8d8b ad80 4eb9
0000020 6bf5 7f7f 8d31 ac88 724d d9e5 fd4e e77d
0000030 dff1 1b50 b098 851a fa64 b44c 3b98 4b9e`

// hexdumpBytes decodes default `hexdump` output (offset, then 16-bit words printed little-endian).
func hexdumpBytes(t *testing.T, s string) []byte {
	t.Helper()
	var out []byte
	for _, line := range strings.Split(strings.TrimSpace(s), "\n") {
		for _, w := range strings.Fields(line)[1:] {
			v, err := strconv.ParseUint(w, 16, 16)
			if err != nil {
				t.Fatal(err)
			}
			out = append(out, byte(v), byte(v>>8))
		}
	}
	return out
}

// TestCurio32GiBCommRLast composes the eight tree_r_last base roots of a real 32GiB sector through the 32GiB
// shape (Poseidon arity 8 over the roots) and expects the comm_r_last stored in that sector's p_aux.
func TestCurio32GiBCommRLast(t *testing.T) {
	roots := hexdumpBytes(t, curioTreeRLastRoots)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, PAuxFile), hexdumpBytes(t, curioPAux), 0o644); err != nil {
		t.Fatal(err)
	}
	paux, err := ReadPAux(dir)
	if err != nil {
		t.Fatal(err)
	}
	shape, err := merkle.ShapeForNodes(32 << 30 / 32)
	if err != nil {
		t.Fatal(err)
	}
	base := make([]merkle.Node, 8)
	for i := range base {
		copy(base[i][:], roots[32*i:])
	}
	got, err := merkle.ComposeRoot(merkle.Poseidon, shape, base)
	if err != nil {
		t.Fatal(err)
	}
	if got != paux.CommRLast {
		t.Fatalf("comm_r_last %x, p_aux says %x", got, paux.CommRLast)
	}
	if _, err := ComposeCommR(paux.CommC, paux.CommRLast); err != nil {
		t.Fatalf("p_aux values are not field elements: %v", err)
	}
}

// curioTAux is the t_aux of a real 32GiB sector (cache dir /data/1/store/cache/s-t02620-2010, tree_r_last
// rows_to_discard 2), base64. Source: filecoin-project/curio `lib/proof/t_aux_test.go` (TAuxGolden,
// TestTAuxRoundtrip).
const curioTAux = `CwAAAAAAAAAhAAAAAAAAAC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAA
bGF5ZXItMQEAAABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAy
NjIwLTIwMTAHAAAAAAAAAGxheWVyLTIBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9z
dG9yZS9jYWNoZS9zLXQwMjYyMC0yMDEwBwAAAAAAAABsYXllci0zAQAAAEAAAAAAAAAAAAAAAAAh
AAAAAAAAAC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAAbGF5ZXItNAEA
AABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAH
AAAAAAAAAGxheWVyLTUBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNo
ZS9zLXQwMjYyMC0yMDEwBwAAAAAAAABsYXllci02AQAAAEAAAAAAAAAAAAAAAAAhAAAAAAAAAC9k
YXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAcAAAAAAAAAbGF5ZXItNwEAAABAAAAAAAAA
AAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAHAAAAAAAAAGxh
eWVyLTgBAAAAQAAAAAAAAAAAAAAAACEAAAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNoZS9zLXQwMjYy
MC0yMDEwBwAAAAAAAABsYXllci05AQAAAEAAAAAAAAAAAAAAAAAhAAAAAAAAAC9kYXRhLzEvc3Rv
cmUvY2FjaGUvcy10MDI2MjAtMjAxMAgAAAAAAAAAbGF5ZXItMTABAAAAQAAAAAAAAAAAAAAAACEA
AAAAAAAAL2RhdGEvMS9zdG9yZS9jYWNoZS9zLXQwMjYyMC0yMDEwCAAAAAAAAABsYXllci0xMQEA
AABAAAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hlL3MtdDAyNjIwLTIwMTAG
AAAAAAAAAHRyZWUtZAH///9/AAAAAAAAAAAAAAAAIQAAAAAAAAAvZGF0YS8xL3N0b3JlL2NhY2hl
L3MtdDAyNjIwLTIwMTALAAAAAAAAAHRyZWUtci1sYXN0AUmSJAkAAAAAAgAAAAAAAAAhAAAAAAAA
AC9kYXRhLzEvc3RvcmUvY2FjaGUvcy10MDI2MjAtMjAxMAYAAAAAAAAAdHJlZS1jAUmSJAkAAAAA
AAAAAAAAAAA=`

// TestCurio32GiBTAux encodes the t_aux PreCommit2 writes for a 32GiB sector (tree_r_last shape and
// rows_to_discard from TreeRLastShape) with the golden's cache path and expects the reference's bytes exactly.
func TestCurio32GiBTAux(t *testing.T) {
	want, err := base64.StdEncoding.DecodeString(strings.ReplaceAll(curioTAux, "\n", ""))
	if err != nil {
		t.Fatal(err)
	}
	cfg, err := sdr.ConfigFor(abi.RegisteredSealProof_StackedDrg32GiBV1_1)
	if err != nil {
		t.Fatal(err)
	}
	shapeRLast, err := TreeRLastShape(cfg)
	if err != nil {
		t.Fatal(err)
	}
	got := encodeTAux("/data/1/store/cache/s-t02620-2010", cfg, shapeRLast, uint64(shapeRLast.Discard))
	if !bytes.Equal(got, want) {
		t.Fatalf("t_aux differs from the reference:\n got %x\nwant %x", got, want)
	}
}
