package porep

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sort"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// ffiFields are the JSON keys of each object of filecoin-ffi's C1 output, as serde writes the reference's
// structs: rust-filecoin-proofs-api src/seal.rs (SealCommitPhase1Output), rust-fil-proofs
// storage-proofs-porep/src/stacked/vanilla/{params.rs (Proof, ReplicaColumnProof), column_proof.rs, column.rs
// (Column: its PhantomData `_h` is written), labeling_proof.rs, encoding_proof.rs (`_h` skipped)} and
// storage-proofs-core/src/merkle/proof.rs (MerkleProof, ProofData, SingleProof, SubProof, TopProof,
// InclusionPath, PathElement with `_arity` skipped).
var ffiFields = map[string][]string{
	"commit1":      {"comm_d", "comm_r", "registered_proof", "replica_id", "seed", "ticket", "vanilla_proofs"},
	"proof":        {"comm_d_proofs", "comm_r_last_proof", "encoding_proof", "labeling_proofs", "replica_column_proofs"},
	"columns":      {"c_x", "drg_parents", "exp_parents"},
	"column proof": {"column", "inclusion_proof"},
	"column":       {"_h", "index", "rows"},
	"labeling":     {"layer_index", "node", "parents"},
	"merkle":       {"data"},
	"Single":       {"leaf", "path", "root"},
	"Sub":          {"base_proof", "leaf", "root", "sub_proof"},
	"Top":          {"base_proof", "leaf", "root", "sub_proof", "top_proof"},
	"path":         {"path"},
	"element":      {"hashes", "index"},
}

func TestFFICommit1(t *testing.T) {
	// A sealed sector's C1 output in filecoin-ffi's form: the JSON has the reference's keys and byte arrays, and
	// what it says checks out — every Merkle proof hashes to its root with the reference's path semantics, every
	// labeling proof's parents give the label its column holds, the encoding proof's label encodes the data leaf
	// into the sealed leaf, and comm_r = Poseidon(comm_c, comm_r_last). Both proof versions at 2KiB (one tree), a
	// 16KiB-shaped sector (8 base trees under a sub level: the Sub form of 32GiB) and a 32KiB-shaped one (and a
	// top level: the Top form of 64GiB).
	porepID, _ := sdr.PoRepID(abi.RegisteredSealProof_StackedDrg32GiBV1_1)
	porepID64, _ := sdr.PoRepID(abi.RegisteredSealProof_StackedDrg64GiBV1_1)
	for _, tc := range []struct {
		name                string
		cfg                 func() sdr.Config
		registered, vanilla string
	}{
		{"2KiB V1", func() sdr.Config { c, _ := sdr.ConfigFor(abi.RegisteredSealProof_StackedDrg2KiBV1); return c },
			"StackedDrg2KiBV1", "StackedDrg2KiBV1"},
		{"2KiB V1_1", func() sdr.Config { c, _ := sdr.ConfigFor(abi.RegisteredSealProof_StackedDrg2KiBV1_1); return c },
			"StackedDrg2KiBV1_1", "StackedDrg2KiBV1"},
		{"16KiB-shaped, 11 layers", func() sdr.Config {
			return sdr.Config{Nodes: 512, Layers: 11, PoRepID: porepID, Version: sdr.V1_1}
		}, "StackedDrg32GiBV1_1", "StackedDrg32GiBV1"},
		{"32KiB-shaped, 11 layers", func() sdr.Config {
			return sdr.Config{Nodes: 1024, Layers: 11, PoRepID: porepID64, Version: sdr.V1_1}
		}, "StackedDrg64GiBV1_1", "StackedDrg64GiBV1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg()
			s := sealTestConfig(t, cfg, 11, nil)
			out, err := Commit1(context.Background(), cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR)
			if err != nil {
				t.Fatal(err)
			}
			ticket := merkle.Node{0xaa, 0xbb}
			out.Ticket = &ticket
			f, err := out.ffi(tc.registered, tc.vanilla, cfg)
			if err != nil {
				t.Fatal(err)
			}
			js, err := json.Marshal(f)
			if err != nil {
				t.Fatal(err)
			}
			var doc map[string]any
			if err := json.Unmarshal(js, &doc); err != nil {
				t.Fatal(err)
			}
			checkFFIKeys(t, doc, cfg)

			dec := json.NewDecoder(bytes.NewReader(js))
			dec.DisallowUnknownFields()
			var back FFICommit1
			if err := dec.Decode(&back); err != nil {
				t.Fatal(err)
			}
			if back.RegisteredProof != tc.registered || back.Ticket != FFIBytes(ticket) || back.Seed != FFIBytes(s.seed) ||
				back.ReplicaID != FFIBytes(s.replicaID) || back.CommD != FFIBytes(s.commD) || back.CommR != FFIBytes(s.commR) {
				t.Fatalf("public inputs differ: %+v", back)
			}
			parts := back.VanillaProofs[tc.vanilla]
			if len(back.VanillaProofs) != 1 || len(parts) != out.Partitions {
				t.Fatalf("vanilla_proofs: %d variants, %d partitions; want 1 variant %q, %d partitions",
					len(back.VanillaProofs), len(parts), tc.vanilla, out.Partitions)
			}
			_, shapeR, _ := Shapes(cfg)
			for k, part := range parts {
				for i := range part {
					c := out.Proofs[k*out.PerPartition+i].Challenge
					if err := checkFFIProof(&part[i], c, cfg, shapeR, s); err != nil {
						t.Fatalf("partition %d, challenge %d (node %d): %v", k, i, c, err)
					}
				}
			}
		})
	}
}

// checkFFIProof checks one challenge's proof in filecoin-ffi's form against the sector.
func checkFFIProof(p *FFIProof, c uint64, cfg sdr.Config, shapeR merkle.Shape, s *sector) error {
	d, err := fromFFI(p.CommDProofs, merkle.BinaryShape(cfg.Nodes))
	if err != nil || d.Index != c || d.Verify(merkle.SHA254, merkle.BinaryShape(cfg.Nodes), c, s.commD) != nil {
		return fmt.Errorf("comm_d proof (index %d): %v", d.Index, err)
	}
	r, err := fromFFI(p.CommRLastProof, shapeR)
	if err != nil || r.Index != c {
		return fmt.Errorf("comm_r_last proof (index %d): %v", r.Index, err)
	}
	if err := r.Verify(merkle.Poseidon, shapeR, c, r.Root); err != nil {
		return fmt.Errorf("comm_r_last proof: %w", err)
	}
	rc := &p.ReplicaColumnProofs
	var commC merkle.Node
	columns := append([]FFIColumnProof{rc.CX}, append(rc.DRGParents, rc.ExpParents...)...)
	for i, col := range columns {
		cp, err := fromFFI(col.InclusionProof, shapeR)
		if err != nil || cp.Index != uint64(col.Column.Index) {
			return fmt.Errorf("column %d proof (index %d): %v", col.Column.Index, cp.Index, err)
		}
		if i == 0 {
			commC = cp.Root
		}
		if err := cp.Verify(merkle.Poseidon, shapeR, cp.Index, commC); err != nil {
			return fmt.Errorf("column %d: %w", col.Column.Index, err)
		}
	}
	if commR, err := ComposeCommR(commC, r.Root); err != nil || commR != s.commR {
		return fmt.Errorf("Poseidon(comm_c, comm_r_last) = %x, comm_r %x (%v)", commR, s.commR, err)
	}
	if rc.CX.Column.Index != uint32(c) || len(p.LabelingProofs) != cfg.Layers {
		return fmt.Errorf("c_x is column %d, %d labeling proofs", rc.CX.Column.Index, len(p.LabelingProofs))
	}
	for l, lp := range p.LabelingProofs {
		layer := l + 1
		degree := sdr.BaseDegree
		if layer > 1 {
			degree = sdr.TotalParents
		}
		parents := make([][32]byte, degree)
		for i := range parents {
			parents[i] = lp.Parents[i]
		}
		for j, x := range lp.Parents {
			if x != lp.Parents[j%degree] {
				return fmt.Errorf("layer %d: parents position %d is not slot %d repeated", layer, j, j%degree)
			}
		}
		label := sdr.NodeLabel(s.replicaID, layer, c, parents)
		if len(lp.Parents) != labelPositions || lp.LayerIndex != uint32(layer) || lp.Node != c ||
			FFIBytes(label) != rc.CX.Column.Rows[l] {
			return fmt.Errorf("labeling proof of layer %d (%d parents, layer %d, node %d) does not give its column's label",
				layer, len(lp.Parents), lp.LayerIndex, lp.Node)
		}
	}
	enc := p.EncodingProof
	if enc.LayerIndex != uint32(cfg.Layers) || enc.Node != c || !slices.Equal(enc.Parents, p.LabelingProofs[cfg.Layers-1].Parents) {
		return errors.New("the encoding proof is not the last layer's labeling proof")
	}
	var sealed [32]byte
	if err := EncodeNode(sealed[:], d.Leaf[:], rc.CX.Column.Rows[cfg.Layers-1][:]); err != nil || merkle.Node(sealed) != r.Leaf {
		return fmt.Errorf("data leaf encoded with the last label is %x, the sealed leaf %x (%v)", sealed, r.Leaf, err)
	}
	return nil
}

// fromFFI turns a proof in filecoin-ffi's form back into a merkle.Proof of shape: its levels in order, and the
// leaf index the path elements' positions spell.
func fromFFI(p FFIMerkleProof, shape merkle.Shape) (merkle.Proof, error) {
	var root, leaf FFIBytes
	var paths []FFIInclusionPath
	switch d := p.Data; {
	case d.Single != nil && d.Sub == nil && d.Top == nil && shape.SubArity == 0:
		root, leaf, paths = d.Single.Root, d.Single.Leaf, []FFIInclusionPath{d.Single.Path}
	case d.Sub != nil && d.Single == nil && d.Top == nil && shape.SubArity > 0 && shape.TopArity == 0:
		root, leaf, paths = d.Sub.Root, d.Sub.Leaf, []FFIInclusionPath{d.Sub.BaseProof, d.Sub.SubProof}
	case d.Top != nil && d.Single == nil && d.Sub == nil && shape.TopArity > 0:
		root, leaf, paths = d.Top.Root, d.Top.Leaf, []FFIInclusionPath{d.Top.BaseProof, d.Top.SubProof, d.Top.TopProof}
	default:
		return merkle.Proof{}, fmt.Errorf("proof data %+v does not fit shape %+v", d, shape)
	}
	out := merkle.Proof{Root: merkle.Node(root), Leaf: merkle.Node(leaf)}
	mul := uint64(1)
	arities := shape.LevelArities()
	for _, ip := range paths {
		for _, e := range ip.Path {
			level := len(out.Path)
			if level >= len(arities) || e.Index >= uint64(arities[level]) {
				return merkle.Proof{}, fmt.Errorf("path element %d (index %d) past the shape's levels", level, e.Index)
			}
			sib := make([]merkle.Node, len(e.Hashes))
			for i, h := range e.Hashes {
				sib[i] = merkle.Node(h)
			}
			out.Path = append(out.Path, sib)
			out.Index += e.Index * mul
			mul *= uint64(arities[level])
		}
	}
	return out, nil
}

// checkFFIKeys walks the decoded JSON and checks every object's keys against ffiFields and every 32-byte value's
// form (an array of 32 numbers from 0 to 255).
func checkFFIKeys(t *testing.T, doc map[string]any, cfg sdr.Config) {
	t.Helper()
	keys := func(what string, v any) map[string]any {
		m, ok := v.(map[string]any)
		if !ok {
			t.Fatalf("%s: %T, want an object", what, v)
		}
		got := make([]string, 0, len(m))
		for k := range m {
			got = append(got, k)
		}
		sort.Strings(got)
		if want := ffiFields[what]; !slices.Equal(got, want) {
			t.Fatalf("%s keys %v, want %v", what, got, want)
		}
		return m
	}
	bytes32 := func(what string, v any) {
		a, ok := v.([]any)
		if !ok || len(a) != 32 {
			t.Fatalf("%s: %v, want an array of 32 numbers", what, v)
		}
		for _, x := range a {
			if n, ok := x.(float64); !ok || n < 0 || n > 255 || n != float64(int(n)) {
				t.Fatalf("%s: element %v is not a byte", what, x)
			}
		}
	}
	list := func(what string, v any) []any {
		a, ok := v.([]any)
		if !ok {
			t.Fatalf("%s: %T, want an array", what, v)
		}
		return a
	}
	var merkleProof func(what string, v any)
	path := func(what string, v any) {
		for _, e := range list(what, keys("path", v)["path"]) {
			for _, h := range list(what+" hashes", keys("element", e)["hashes"]) {
				bytes32(what+" hash", h)
			}
		}
	}
	merkleProof = func(what string, v any) {
		data := keys("merkle", v)["data"].(map[string]any)
		if len(data) != 1 {
			t.Fatalf("%s: ProofData with %d variants", what, len(data))
		}
		for variant, body := range data {
			m := keys(variant, body)
			bytes32(what+" root", m["root"])
			bytes32(what+" leaf", m["leaf"])
			for k, p := range m {
				if strings.HasSuffix(k, "path") || strings.HasSuffix(k, "_proof") {
					path(what+" "+k, p)
				}
			}
		}
	}
	top := keys("commit1", doc)
	for _, k := range []string{"comm_d", "comm_r", "replica_id", "seed", "ticket"} {
		bytes32(k, top[k])
	}
	for _, variant := range top["vanilla_proofs"].(map[string]any) {
		for _, part := range list("partitions", variant) {
			for _, pr := range list("challenges", part) {
				p := keys("proof", pr)
				merkleProof("comm_d_proofs", p["comm_d_proofs"])
				merkleProof("comm_r_last_proof", p["comm_r_last_proof"])
				rc := keys("columns", p["replica_column_proofs"])
				cols := append([]any{rc["c_x"]}, append(list("drg", rc["drg_parents"]), list("exp", rc["exp_parents"])...)...)
				for _, cv := range cols {
					cp := keys("column proof", cv)
					col := keys("column", cp["column"])
					if col["_h"] != nil || len(list("rows", col["rows"])) != cfg.Layers {
						t.Fatalf("column %v: _h %v, %d rows", col["index"], col["_h"], len(list("rows", col["rows"])))
					}
					merkleProof("inclusion_proof", cp["inclusion_proof"])
				}
				for _, lp := range append(list("labeling", p["labeling_proofs"]), p["encoding_proof"]) {
					for _, x := range list("parents", keys("labeling", lp)["parents"]) {
						bytes32("parent", x)
					}
				}
			}
		}
	}
}

func TestFFICommit1Refusals(t *testing.T) {
	// No ticket, a proof type without the V1/V1_1 form, or a proof type of another graph: clear errors.
	out := &Commit1Output{Nodes: 64, Layers: 2, Partitions: 1, PerPartition: 1, Proofs: make([]ChallengeProof, 1)}
	porepID, _ := sdr.PoRepID(abi.RegisteredSealProof_StackedDrg2KiBV1_1)
	out.PoRepID = merkle.Node(porepID)
	if _, err := out.FFIJSON(abi.RegisteredSealProof_StackedDrg2KiBV1_1); !errors.Is(err, ErrNoTicket) {
		t.Fatalf("no ticket: %v", err)
	}
	out.Ticket = &merkle.Node{1}
	if _, err := out.FFIJSON(abi.RegisteredSealProof_StackedDrg2KiBV1_1_Feat_SyntheticPoRep); err == nil ||
		!strings.Contains(err.Error(), "V1 and V1_1 proofs only") {
		t.Fatalf("synthetic: %v", err)
	}
	if _, err := out.FFIJSON(abi.RegisteredSealProof_StackedDrg8MiBV1_1); err == nil ||
		!strings.Contains(err.Error(), "not StackedDrg8MiBV1_1") {
		t.Fatalf("another size: %v", err)
	}
	if _, err := out.FFIJSON(abi.RegisteredSealProof_StackedDrg2KiBV1_1); err == nil ||
		!strings.Contains(err.Error(), "DRG and") {
		t.Fatalf("an empty challenge proof: %v", err)
	}
}
