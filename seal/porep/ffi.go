package porep

import (
	"encoding/json"
	"errors"
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// The C1 output as filecoin-ffi takes it: rust-filecoin-proofs-api's SealCommitPhase1Output (src/seal.rs), whose
// vanilla proofs are rust-fil-proofs' stacked::Proof (storage-proofs-porep stacked/vanilla/params.rs) with
// storage-proofs-core's MerkleProof (merkle/proof.rs), as serde_json writes them. Field names, nesting and the
// enum tags below follow those sources; every 32-byte value ([u8; 32] and its newtypes: Commitment, Ticket,
// PoseidonDomain, Sha256Domain) is an array of 32 numbers, as serde writes a byte array.

// FFIBytes is a 32-byte value as serde writes [u8; 32]: encoding/json writes a Go byte array the same way.
type FFIBytes [32]byte

// FFICommit1 is SealCommitPhase1Output.
type FFICommit1 struct {
	RegisteredProof string `json:"registered_proof"`
	// VanillaProofs is the VanillaSealProof enum: one variant, named for the sector size and V1 (the API names
	// the variants V1 for V1_1 proofs too), holding the proofs by partition, then by challenge.
	VanillaProofs map[string][][]FFIProof `json:"vanilla_proofs"`
	CommR         FFIBytes                `json:"comm_r"`
	CommD         FFIBytes                `json:"comm_d"`
	ReplicaID     FFIBytes                `json:"replica_id"`
	Seed          FFIBytes                `json:"seed"`
	Ticket        FFIBytes                `json:"ticket"`
}

// FFIProof is stacked::Proof: one challenge's vanilla proof.
type FFIProof struct {
	CommDProofs         FFIMerkleProof        `json:"comm_d_proofs"`
	CommRLastProof      FFIMerkleProof        `json:"comm_r_last_proof"`
	ReplicaColumnProofs FFIReplicaColumnProof `json:"replica_column_proofs"`
	// LabelingProofs holds one proof per layer, layer 1 first.
	LabelingProofs []FFILabelingProof `json:"labeling_proofs"`
	EncodingProof  FFILabelingProof   `json:"encoding_proof"`
}

// FFIReplicaColumnProof is ReplicaColumnProof: the challenged node's column and its parents'.
type FFIReplicaColumnProof struct {
	CX         FFIColumnProof   `json:"c_x"`
	DRGParents []FFIColumnProof `json:"drg_parents"`
	ExpParents []FFIColumnProof `json:"exp_parents"`
}

// FFIColumnProof is ColumnProof.
type FFIColumnProof struct {
	Column         FFIColumn      `json:"column"`
	InclusionProof FFIMerkleProof `json:"inclusion_proof"`
}

// FFIColumn is Column: a node's label in every layer. Its PhantomData field is written, as null.
type FFIColumn struct {
	Index uint32     `json:"index"`
	Rows  []FFIBytes `json:"rows"`
	H     *struct{}  `json:"_h"`
}

// FFILabelingProof is LabelingProof and EncodingProof (same fields): the labels a node's label is hashed from,
// all 37 message positions (position j holds parent slot j mod the layer's degree).
type FFILabelingProof struct {
	Parents    []FFIBytes `json:"parents"`
	LayerIndex uint32     `json:"layer_index"`
	Node       uint64     `json:"node"`
}

// FFIMerkleProof is MerkleProof: data is the ProofData enum, one of Single (one tree), Sub (base trees under
// one sub level: 32GiB) or Top (and a top level: 64GiB).
type FFIMerkleProof struct {
	Data FFIProofData `json:"data"`
}

// FFIProofData is the ProofData enum; exactly one field is set.
type FFIProofData struct {
	Single *FFISingleProof `json:"Single,omitempty"`
	Sub    *FFISubProof    `json:"Sub,omitempty"`
	Top    *FFITopProof    `json:"Top,omitempty"`
}

// FFISingleProof is SingleProof.
type FFISingleProof struct {
	Root FFIBytes         `json:"root"`
	Leaf FFIBytes         `json:"leaf"`
	Path FFIInclusionPath `json:"path"`
}

// FFISubProof is SubProof.
type FFISubProof struct {
	BaseProof FFIInclusionPath `json:"base_proof"`
	SubProof  FFIInclusionPath `json:"sub_proof"`
	Root      FFIBytes         `json:"root"`
	Leaf      FFIBytes         `json:"leaf"`
}

// FFITopProof is TopProof.
type FFITopProof struct {
	BaseProof FFIInclusionPath `json:"base_proof"`
	SubProof  FFIInclusionPath `json:"sub_proof"`
	TopProof  FFIInclusionPath `json:"top_proof"`
	Root      FFIBytes         `json:"root"`
	Leaf      FFIBytes         `json:"leaf"`
}

// FFIInclusionPath is InclusionPath: one element per level, from the leaf up.
type FFIInclusionPath struct {
	Path []FFIPathElement `json:"path"`
}

// FFIPathElement is PathElement: the arity−1 siblings in order, and the node's position among them.
type FFIPathElement struct {
	Hashes []FFIBytes `json:"hashes"`
	Index  uint64     `json:"index"`
}

// ErrNoTicket reports a C1 output without its ticket (written before sealfleet recorded it), which the
// filecoin-ffi form needs.
var ErrNoTicket = errors.New("the C1 output has no ticket (run C1 again with this version)")

// FFIProofName returns the name filecoin-ffi's JSON gives proof (RegisteredSealProof's variant) and the
// VanillaSealProof variant for its sector size, for the V1 and V1_1 proofs; other proofs (synthetic,
// non-interactive) have different C1 outputs and are refused.
func FFIProofName(proof abi.RegisteredSealProof) (registered, vanilla string, err error) {
	size, err := proof.SectorSize()
	if err != nil {
		return "", "", err
	}
	name := map[abi.SectorSize]string{2 << 10: "2KiB", 8 << 20: "8MiB", 512 << 20: "512MiB", 32 << 30: "32GiB",
		64 << 30: "64GiB"}[size]
	vanilla = "StackedDrg" + name + "V1"
	switch proof {
	case abi.RegisteredSealProof_StackedDrg2KiBV1, abi.RegisteredSealProof_StackedDrg8MiBV1,
		abi.RegisteredSealProof_StackedDrg512MiBV1, abi.RegisteredSealProof_StackedDrg32GiBV1,
		abi.RegisteredSealProof_StackedDrg64GiBV1:
		return vanilla, vanilla, nil
	case abi.RegisteredSealProof_StackedDrg2KiBV1_1, abi.RegisteredSealProof_StackedDrg8MiBV1_1,
		abi.RegisteredSealProof_StackedDrg512MiBV1_1, abi.RegisteredSealProof_StackedDrg32GiBV1_1,
		abi.RegisteredSealProof_StackedDrg64GiBV1_1:
		return vanilla + "_1", vanilla, nil
	}
	return "", "", fmt.Errorf("proof type %d: the filecoin-ffi C1 form is written for the V1 and V1_1 proofs only", proof)
}

// FFIJSON returns o in the form filecoin-ffi's SealCommitPhase2 takes (FFICommit1), for a sector of proof. The
// output must carry its ticket (ErrNoTicket) and match proof's graph; o's proofs are converted, not verified
// (Commit1 verified them when it made them, VerifyCommit1 checks them again).
func (o *Commit1Output) FFIJSON(proof abi.RegisteredSealProof) ([]byte, error) {
	registered, vanilla, err := FFIProofName(proof)
	if err != nil {
		return nil, err
	}
	cfg, err := sdr.ConfigFor(proof)
	if err != nil {
		return nil, err
	}
	f, err := o.ffi(registered, vanilla, cfg)
	if err != nil {
		return nil, err
	}
	return json.Marshal(f)
}

// ffi converts o for the graph of cfg, the proof named registered (its vanilla proofs in the variant vanilla).
func (o *Commit1Output) ffi(registered, vanilla string, cfg sdr.Config) (*FFICommit1, error) {
	if o.Ticket == nil {
		return nil, ErrNoTicket
	}
	if o.Nodes != cfg.Nodes || o.Layers != cfg.Layers || o.PoRepID != merkle.Node(cfg.PoRepID) {
		return nil, fmt.Errorf("C1 output for %d nodes, %d layers, porep id %x: not %s (%d nodes, %d layers, %x)",
			o.Nodes, o.Layers, o.PoRepID[:], registered, cfg.Nodes, cfg.Layers, cfg.PoRepID[:])
	}
	if o.Partitions < 1 || o.PerPartition < 1 || len(o.Proofs) != o.Partitions*o.PerPartition {
		return nil, fmt.Errorf("C1 output: %d proofs for %d partitions of %d challenges", len(o.Proofs), o.Partitions,
			o.PerPartition)
	}
	shapeD, shapeR, err := Shapes(cfg)
	if err != nil {
		return nil, err
	}
	parts := make([][]FFIProof, o.Partitions)
	for k := range parts {
		parts[k] = make([]FFIProof, o.PerPartition)
		for i := range parts[k] {
			j := k*o.PerPartition + i
			if parts[k][i], err = ffiChallenge(&o.Proofs[j], cfg, shapeD, shapeR); err != nil {
				return nil, fmt.Errorf("C1 output: challenge %d (node %d): %w", j, o.Proofs[j].Challenge, err)
			}
		}
	}
	return &FFICommit1{RegisteredProof: registered, VanillaProofs: map[string][][]FFIProof{vanilla: parts},
		CommR: FFIBytes(o.CommR), CommD: FFIBytes(o.CommD), ReplicaID: FFIBytes(o.ReplicaID), Seed: FFIBytes(o.Seed),
		Ticket: FFIBytes(*o.Ticket)}, nil
}

// ffiChallenge converts one challenge's proof. The labeling and encoding proofs are not stored in a
// ChallengeProof: they are the parents' labels in each layer, which the parents' columns hold (base parents in
// the same layer, expander parents in the one before), repeated over the 37 message positions as the reference
// prover repeats them.
func ffiChallenge(p *ChallengeProof, cfg sdr.Config, shapeD, shapeR merkle.Shape) (FFIProof, error) {
	var out FFIProof
	var err error
	if len(p.DRGParents) != sdr.BaseDegree || len(p.ExpParents) != sdr.ExpDegree {
		return out, fmt.Errorf("%d DRG and %d expander parent columns, want %d and %d", len(p.DRGParents),
			len(p.ExpParents), sdr.BaseDegree, sdr.ExpDegree)
	}
	if out.CommDProofs, err = ffiMerkleProof(p.CommDProof, shapeD); err != nil {
		return out, fmt.Errorf("comm_d proof: %w", err)
	}
	if out.CommRLastProof, err = ffiMerkleProof(p.CommRLast, shapeR); err != nil {
		return out, fmt.Errorf("comm_r_last proof: %w", err)
	}
	col := func(c ColumnProof) (FFIColumnProof, error) {
		if len(c.Rows) != cfg.Layers {
			return FFIColumnProof{}, fmt.Errorf("column %d has %d rows, want %d", c.Index, len(c.Rows), cfg.Layers)
		}
		proof, err := ffiMerkleProof(c.Proof, shapeR)
		if err != nil {
			return FFIColumnProof{}, fmt.Errorf("column %d: %w", c.Index, err)
		}
		return FFIColumnProof{Column: FFIColumn{Index: uint32(c.Index), Rows: ffiNodes(c.Rows)}, InclusionProof: proof}, nil
	}
	cols := func(cs []ColumnProof) ([]FFIColumnProof, error) {
		out := make([]FFIColumnProof, len(cs))
		for i, c := range cs {
			var err error
			if out[i], err = col(c); err != nil {
				return nil, err
			}
		}
		return out, nil
	}
	rc := &out.ReplicaColumnProofs
	if rc.CX, err = col(p.Column); err != nil {
		return out, err
	}
	if rc.DRGParents, err = cols(p.DRGParents); err != nil {
		return out, err
	}
	if rc.ExpParents, err = cols(p.ExpParents); err != nil {
		return out, err
	}
	for layer := 1; layer <= cfg.Layers; layer++ {
		parents := make([]FFIBytes, 0, sdr.TotalParents)
		for _, c := range p.DRGParents {
			parents = append(parents, FFIBytes(c.Rows[layer-1]))
		}
		if layer > 1 {
			for _, c := range p.ExpParents {
				parents = append(parents, FFIBytes(c.Rows[layer-2]))
			}
		}
		full := make([]FFIBytes, labelPositions)
		for j := range full {
			full[j] = parents[j%len(parents)]
		}
		out.LabelingProofs = append(out.LabelingProofs, FFILabelingProof{Parents: full, LayerIndex: uint32(layer),
			Node: p.Challenge})
	}
	out.EncodingProof = out.LabelingProofs[cfg.Layers-1]
	return out, nil
}

// labelPositions is the number of parent positions in a label's message (rust-fil-proofs TOTAL_PARENTS).
const labelPositions = 37

// ffiMerkleProof splits p's levels the way MerkleProof does for shape: one path (Single), or the base tree's
// levels and the sub level (Sub), and the top level (Top).
func ffiMerkleProof(p merkle.Proof, shape merkle.Shape) (FFIMerkleProof, error) {
	arities := shape.LevelArities()
	if len(p.Path) != len(arities) {
		return FFIMerkleProof{}, fmt.Errorf("proof has %d levels, the tree has %d", len(p.Path), len(arities))
	}
	elems := make([]FFIPathElement, len(arities))
	idx := p.Index
	for l, a := range arities {
		if len(p.Path[l]) != a-1 {
			return FFIMerkleProof{}, fmt.Errorf("proof level %d: %d siblings, want %d", l, len(p.Path[l]), a-1)
		}
		elems[l] = FFIPathElement{Hashes: ffiNodes(p.Path[l]), Index: idx % uint64(a)}
		idx /= uint64(a)
	}
	base := len(elems)
	if shape.SubArity > 0 {
		base--
	}
	if shape.TopArity > 0 {
		base--
	}
	root, leaf := FFIBytes(p.Root), FFIBytes(p.Leaf)
	path := func(e []FFIPathElement) FFIInclusionPath { return FFIInclusionPath{Path: e} }
	switch {
	case shape.SubArity == 0:
		return FFIMerkleProof{Data: FFIProofData{Single: &FFISingleProof{Root: root, Leaf: leaf, Path: path(elems)}}}, nil
	case shape.TopArity == 0:
		return FFIMerkleProof{Data: FFIProofData{Sub: &FFISubProof{BaseProof: path(elems[:base]),
			SubProof: path(elems[base:]), Root: root, Leaf: leaf}}}, nil
	}
	return FFIMerkleProof{Data: FFIProofData{Top: &FFITopProof{BaseProof: path(elems[:base]),
		SubProof: path(elems[base : base+1]), TopProof: path(elems[base+1:]), Root: root, Leaf: leaf}}}, nil
}

// ffiNodes converts nodes to serde's byte arrays.
func ffiNodes(ns []merkle.Node) []FFIBytes {
	out := make([]FFIBytes, len(ns))
	for i, n := range ns {
		out[i] = FFIBytes(n)
	}
	return out
}
