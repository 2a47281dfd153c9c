package native

import (
	"bytes"
	"context"
	"fmt"

	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/seal/merkle"
	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

// Commitments returns CommD and CommR as 32-byte values from their CIDs.
func Commitments(cids storiface.SectorCids) (commD, commR [32]byte, err error) {
	if commD, err = commitment("unsealed CID", cids.Unsealed, commcid.CIDToDataCommitmentV1); err != nil {
		return
	}
	commR, err = commitment("sealed CID", cids.Sealed, commcid.CIDToReplicaCommitmentV1)
	return
}

func commitment(field string, c cid.Cid, decode func(cid.Cid) ([]byte, error)) ([32]byte, error) {
	var v [32]byte
	if !c.Defined() {
		return v, fmt.Errorf("%s is undefined", field)
	}
	b, err := decode(c)
	if err != nil {
		return v, fmt.Errorf("%s %s: %w", field, c, err)
	}
	copy(v[:], b)
	return v, nil
}

// SealCommit1 draws the interactive challenges from the seed and produces their vanilla proofs (self-verified)
// as JSON. The replica ID is derived again from the ticket and CommD, never taken on trust.
func (b *Backend) SealCommit1(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error) {
	t, err := ticket32("ticket", ticket)
	if err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	s, err := ticket32("seed", seed)
	if err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	commD, commR, err := Commitments(cids)
	if err != nil {
		return nil, storiface.Err(storiface.ErrBadInput, err)
	}
	cfg, err := sdr.ConfigFor(sector.ProofType)
	if err != nil {
		return nil, err
	}
	replicaID, err := ReplicaIDFor(sector, t, commD)
	if err != nil {
		return nil, err
	}
	out, err := porep.Commit1(ctx, cfg, paths.Cache, paths.Sealed, replicaID, s, commD, commR)
	if err != nil {
		return nil, fmt.Errorf("C1 of %s: %w", sector, err)
	}
	out.Ticket = (*merkle.Node)(&t)
	var buf bytes.Buffer
	if err := out.WriteJSON(&buf); err != nil {
		return nil, err
	}
	return buf.Bytes(), nil
}

// SealCommit2 hands the C1 output to the configured prover.
func (b *Backend) SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error) {
	proof, err := b.prover.Prove(ctx, sector, c1o)
	if err != nil {
		return nil, fmt.Errorf("C2 of %s (%s prover): %w", sector, b.prover.Name(), err)
	}
	return proof, nil
}
