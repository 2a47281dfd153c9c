package porep

import (
	"encoding/json"
	"fmt"
	"io"

	"sealfleet/seal/merkle"
)

// Commit1FormatVersion is the version of the Commit1Output JSON format.
const Commit1FormatVersion = 1

// maxCommit1Bytes bounds the JSON a decoder accepts (a 32GiB C1 output
// with 180 challenges is about 15 MB).
const maxCommit1Bytes = 256 << 20

// Commit1Output is the result of Commit1: the public inputs and one
// vanilla proof per interactive challenge, in challenge order (partition
// k's challenges are Proofs[k·PerPartition : (k+1)·PerPartition]). It
// serialises to the JSON documented in docs/cli/proofs-porep.md; nodes are
// 64 hex digits (little-endian field element bytes).
type Commit1Output struct {
	Version      int         `json:"version"`
	PoRepID      merkle.Node `json:"porepId"`
	Nodes        uint64      `json:"nodes"`
	Layers       int         `json:"layers"`
	Partitions   int         `json:"partitions"`
	PerPartition int         `json:"challengesPerPartition"`
	ReplicaID    merkle.Node `json:"replicaId"`
	Seed         merkle.Node `json:"seed"`
	CommD        merkle.Node `json:"commD"`
	CommR        merkle.Node `json:"commR"`
	CommC        merkle.Node `json:"commC"`
	CommRLast    merkle.Node `json:"commRLast"`
	// Ticket is the ticket the replica id was derived from, which the filecoin-ffi form needs (FFIJSON); outputs
	// written before sealfleet recorded it have none.
	Ticket *merkle.Node     `json:"ticket,omitempty"`
	Proofs []ChallengeProof `json:"proofs"`
}

// ChallengeProof is the vanilla proof of one challenged node c
// (rust-fil-proofs stacked/vanilla `Proof`): tree_d inclusion of data[c],
// tree_r_last inclusion of sealed[c], and the column openings of c and of
// its 6 DRG and 8 expander parents against tree_c.
type ChallengeProof struct {
	Challenge  uint64        `json:"challenge"`
	CommDProof merkle.Proof  `json:"commDProof"`
	CommRLast  merkle.Proof  `json:"commRLastProof"`
	Column     ColumnProof   `json:"column"`
	DRGParents []ColumnProof `json:"drgParents"`
	ExpParents []ColumnProof `json:"expParents"`
}

// ColumnProof opens column Index: the labels of every layer at that node
// (Rows[0] is layer 1) and the tree_c inclusion proof of the column hash.
type ColumnProof struct {
	Index uint64        `json:"index"`
	Rows  []merkle.Node `json:"rows"`
	Proof merkle.Proof  `json:"proof"`
}

// WriteJSON encodes o as JSON to w.
func (o *Commit1Output) WriteJSON(w io.Writer) error {
	enc := json.NewEncoder(w)
	if err := enc.Encode(o); err != nil {
		return fmt.Errorf("encoding commit1 output: %w", err)
	}
	return nil
}

// ReadCommit1JSON decodes a Commit1Output, rejecting unknown fields, an
// unknown format version and outputs larger than 256 MiB. Decoding checks
// only the syntax; VerifyCommit1 checks the content.
func ReadCommit1JSON(r io.Reader) (*Commit1Output, error) {
	dec := json.NewDecoder(io.LimitReader(r, maxCommit1Bytes))
	dec.DisallowUnknownFields()
	var o Commit1Output
	if err := dec.Decode(&o); err != nil {
		return nil, fmt.Errorf("decoding commit1 output: %w", err)
	}
	if o.Version != Commit1FormatVersion {
		return nil, fmt.Errorf("commit1 output: version %d, accepted %d", o.Version, Commit1FormatVersion)
	}
	return &o, nil
}
