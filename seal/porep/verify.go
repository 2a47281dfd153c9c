package porep

import (
	"errors"
	"fmt"

	"sealfleet/seal/merkle"
	"sealfleet/seal/poseidon"
	"sealfleet/seal/sdr"
)

// ErrInvalidProof wraps every content failure VerifyCommit1 reports.
var ErrInvalidProof = errors.New("invalid commit1 proof")

// VerifyCommit1 checks a Commit1 output against the public inputs: its
// header matches cfg, commR, commD, replicaID and seed; comm_r =
// Poseidon_2(comm_c, comm_r_last); it holds exactly the challenges derived
// from replicaID and seed; and for every challenge the tree_d and
// tree_r_last inclusion proofs hold against comm_d and comm_r_last, the
// columns of the node and of its 14 graph parents hash to leaves of tree_c
// under comm_c, every layer's label of the node follows from its parents'
// labels (sdr.NodeLabel), and sealed = data + label_L mod r. The error
// (wrapping ErrInvalidProof) names the challenge and the check that failed.
func VerifyCommit1(out *Commit1Output, commR, commD, replicaID, seed [32]byte, cfg sdr.Config) error {
	if out == nil {
		return fmt.Errorf("%w: no output", ErrInvalidProof)
	}
	if err := cfg.Validate(); err != nil {
		return err
	}
	layout, err := LayoutFor(cfg)
	if err != nil {
		return err
	}
	if err := checkHeader(out, commR, commD, replicaID, seed, cfg, layout); err != nil {
		return fmt.Errorf("%w: %v", ErrInvalidProof, err)
	}
	graph, err := sdr.NewGraph(cfg)
	if err != nil {
		return err
	}
	_, shapeR, err := Shapes(cfg)
	if err != nil {
		return err
	}
	v := &verifier{cfg: cfg, graph: graph, shapeD: merkle.BinaryShape(cfg.Nodes), shapeR: shapeR, out: out}
	for j, c := range Challenges(cfg.Nodes, replicaID, seed, layout) {
		if err := v.challenge(&out.Proofs[j], c); err != nil {
			return fmt.Errorf("%w: challenge %d (node %d): %v", ErrInvalidProof, j, c, err)
		}
	}
	return nil
}

func checkHeader(out *Commit1Output, commR, commD, replicaID, seed [32]byte, cfg sdr.Config, layout ChallengeLayout) error {
	switch {
	case out.Version != Commit1FormatVersion:
		return fmt.Errorf("format version %d, want %d", out.Version, Commit1FormatVersion)
	case out.Nodes != cfg.Nodes || out.Layers != cfg.Layers || out.PoRepID != cfg.PoRepID:
		return fmt.Errorf("proof is for %d nodes, %d layers, porep id %x; want %d, %d, %x", out.Nodes, out.Layers, out.PoRepID, cfg.Nodes, cfg.Layers, cfg.PoRepID)
	case out.CommR != commR:
		return fmt.Errorf("comm_r %x, want %x", out.CommR, commR)
	case out.CommD != commD:
		return fmt.Errorf("comm_d %x, want %x", out.CommD, commD)
	case out.ReplicaID != replicaID:
		return fmt.Errorf("replica id %x, want %x", out.ReplicaID, replicaID)
	case out.Seed != seed:
		return fmt.Errorf("seed %x, want %x", out.Seed, seed)
	case out.Partitions != layout.Partitions || out.PerPartition != layout.PerPartition:
		return fmt.Errorf("%d partitions × %d challenges, want %d × %d", out.Partitions, out.PerPartition, layout.Partitions, layout.PerPartition)
	case len(out.Proofs) != layout.Total():
		return fmt.Errorf("%d challenge proofs, want %d", len(out.Proofs), layout.Total())
	}
	r, err := ComposeCommR(out.CommC, out.CommRLast)
	if err != nil {
		return fmt.Errorf("comm_c/comm_r_last: %v", err)
	}
	if r != commR {
		return fmt.Errorf("comm_r %x is not Poseidon_2(comm_c, comm_r_last) = %x", commR, r)
	}
	return nil
}

type verifier struct {
	cfg            sdr.Config
	graph          *sdr.Graph
	shapeD, shapeR merkle.Shape
	out            *Commit1Output
}

// challenge verifies the vanilla proof of node c.
func (v *verifier) challenge(p *ChallengeProof, c uint64) error {
	if p.Challenge != c {
		return fmt.Errorf("proof is for node %d", p.Challenge)
	}
	if err := p.CommDProof.Verify(merkle.SHA254, v.shapeD, c, v.out.CommD); err != nil {
		return fmt.Errorf("tree_d inclusion of the data node: %v", err)
	}
	if err := p.CommRLast.Verify(merkle.Poseidon, v.shapeR, c, v.out.CommRLast); err != nil {
		return fmt.Errorf("tree_r_last inclusion of the sealed node: %v", err)
	}
	if err := v.column(&p.Column, c); err != nil {
		return fmt.Errorf("column of the node: %v", err)
	}
	if len(p.DRGParents) != sdr.BaseDegree || len(p.ExpParents) != sdr.ExpDegree {
		return fmt.Errorf("%d DRG and %d expander parent columns, want %d and %d", len(p.DRGParents), len(p.ExpParents), sdr.BaseDegree, sdr.ExpDegree)
	}
	var parents [sdr.TotalParents]uint32
	v.graph.Parents(c, &parents)
	cols := append(append([]ColumnProof(nil), p.DRGParents...), p.ExpParents...)
	for i := range cols {
		if err := v.column(&cols[i], uint64(parents[i])); err != nil {
			return fmt.Errorf("column of parent %d (node %d): %v", i, parents[i], err)
		}
	}
	if err := v.labels(p, cols, c); err != nil {
		return err
	}
	var want merkle.Node
	if err := EncodeNode(want[:], p.CommDProof.Leaf[:], p.Column.Rows[v.cfg.Layers-1][:]); err != nil {
		return fmt.Errorf("encoding: %v", err)
	}
	if want != p.CommRLast.Leaf {
		return fmt.Errorf("encoding: sealed node %x is not data + label_%d = %x", p.CommRLast.Leaf, v.cfg.Layers, want)
	}
	return nil
}

// column checks that cp opens column idx of tree_c under comm_c.
func (v *verifier) column(cp *ColumnProof, idx uint64) error {
	if cp.Index != idx {
		return fmt.Errorf("opens column %d", cp.Index)
	}
	if len(cp.Rows) != v.cfg.Layers {
		return fmt.Errorf("%d labels, want %d", len(cp.Rows), v.cfg.Layers)
	}
	rows := make([][32]byte, len(cp.Rows))
	for i := range cp.Rows {
		rows[i] = cp.Rows[i]
	}
	h, err := poseidon.HashBytes(rows)
	if err != nil {
		return fmt.Errorf("column hash: %v", err)
	}
	if merkle.Node(h) != cp.Proof.Leaf {
		return fmt.Errorf("labels hash to %x, not to the tree_c leaf %x", h, cp.Proof.Leaf)
	}
	if err := cp.Proof.Verify(merkle.Poseidon, v.shapeR, idx, v.out.CommC); err != nil {
		return fmt.Errorf("tree_c inclusion: %v", err)
	}
	return nil
}

// labels recomputes the node's label in every layer from its parents'.
func (v *verifier) labels(p *ChallengeProof, cols []ColumnProof, c uint64) error {
	parentLabels := make([][32]byte, 0, sdr.TotalParents)
	for l := 1; l <= v.cfg.Layers; l++ {
		parentLabels = parentLabels[:0]
		for i := 0; i < sdr.BaseDegree; i++ {
			parentLabels = append(parentLabels, cols[i].Rows[l-1])
		}
		if l > 1 {
			for i := sdr.BaseDegree; i < sdr.TotalParents; i++ {
				parentLabels = append(parentLabels, cols[i].Rows[l-2])
			}
		}
		want := sdr.NodeLabel(v.out.ReplicaID, l, c, parentLabels)
		if merkle.Node(want) != p.Column.Rows[l-1] {
			return fmt.Errorf("labeling: layer %d label %x does not follow from its parents (want %x)", l, p.Column.Rows[l-1], want)
		}
	}
	return nil
}
