// Package seal defines the sealing backend interface that workers run calls against. Implementations live in
// sub-packages: native (pure Go) and the algorithm packages it is built from (fr32, commp, sdr, poseidon, merkle,
// porep).
package seal

import (
	"context"
	"io"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
)

// Backend performs the sealing computations on files the caller has already acquired. Paths name the sector's
// files; a call writes only the files of its stage and leaves declaring them to the caller. Implementations are
// safe for concurrent use on different sectors.
type Backend interface {
	// DataCid computes the piece commitment of size bytes read from data.
	DataCid(ctx context.Context, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error)
	// AddPiece writes a piece after the existing ones into paths.Unsealed (creating it for the first piece).
	AddPiece(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data io.Reader) (abi.PieceInfo, error)
	// SealPreCommit1 labels the SDR layers into paths.Cache and copies the unsealed data to paths.Sealed.
	SealPreCommit1(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error)
	// SealPreCommit2 builds the trees, encodes the replica and returns the commitments.
	SealPreCommit2(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error)
	// SealCommit1 produces the vanilla proofs for the seed's challenges.
	SealCommit1(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error)
	// SealCommit2 turns vanilla proofs into the final proof through the configured prover.
	SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error)
	// FinalizeSector removes what proving does not need from paths.Cache (layers, tree_c, tree_d).
	FinalizeSector(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths) error
	// UnsealPiece decodes a range of paths.Sealed back into paths.Unsealed.
	UnsealPiece(ctx context.Context, sector storiface.SectorRef, paths storiface.SectorPaths, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error
	// ReadPiece writes the original bytes of an unpadded range of paths.Unsealed to w.
	ReadPiece(ctx context.Context, w io.Writer, sector storiface.SectorRef, paths storiface.SectorPaths, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) error
}
