package pipeline

import (
	"context"
	"io"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
)

// Sealer runs the sealing steps, typically by scheduling them on workers (the manager implements it). Calls are
// synchronous from the pipeline's view and must honour ctx: cancelling ctx (sector removed, state changed by an
// operator, pipeline stopped) makes the call return. Re-issuing a call with the same parameters after a restart
// must join work already running rather than start it again; the pipeline relies on that and re-issues the
// current state's call with the parameters it persisted.
type Sealer interface {
	AddPiece(ctx context.Context, sector storiface.SectorRef, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data storiface.PieceData) (abi.PieceInfo, error)
	SealPreCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error)
	SealPreCommit2(ctx context.Context, sector storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error)
	SealCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error)
	SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error)
	FinalizeSector(ctx context.Context, sector storiface.SectorRef) error
	MoveStorage(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType) error
	Remove(ctx context.Context, sector storiface.SectorRef) error
}

// PieceStore keeps the bytes of deal pieces where workers can fetch them until AddPiece has copied them into
// the sector.
type PieceStore interface {
	// Put stores exactly size bytes read from r and returns where a worker reads them, and a cleanup func that
	// deletes them. Fewer than size bytes is an error and leaves nothing behind.
	Put(ctx context.Context, r io.Reader, size abi.UnpaddedPieceSize) (storiface.PieceData, func(), error)
	// Release deletes the bytes behind data (what cleanup does, for use after a restart lost the func). Unknown
	// or already released data is not an error.
	Release(ctx context.Context, data storiface.PieceData) error
}

// Reader unseals sectors and reads their unsealed bytes (the manager implements it by scheduling UnsealPiece
// and reading the unsealed file where it lives).
type Reader interface {
	// UnsealPiece makes sure an unsealed copy of the range exists, unsealing from the sealed replica if needed.
	UnsealPiece(ctx context.Context, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error
	// ReadPiece writes the unsealed bytes of the range to w, unsealing first if needed.
	ReadPiece(ctx context.Context, w io.Writer, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error
}
