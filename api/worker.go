package api

import (
	"context"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"sealfleet/storiface"
)

// Worker is the API a worker serves to its manager at /rpc/v0. The sealing calls return a CallID at once; the
// result reaches the manager later through its WorkerReturn methods.
type Worker interface {
	Common

	// DataCid starts computing a piece commitment.
	// perm:admin
	DataCid(ctx context.Context, pieceSize abi.UnpaddedPieceSize, data storiface.PieceData) (storiface.CallID, error)
	// AddPiece starts writing a piece into the sector's unsealed file.
	// perm:admin
	AddPiece(ctx context.Context, sector storiface.SectorRef, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data storiface.PieceData) (storiface.CallID, error)
	// SealPreCommit1 starts PreCommit1.
	// perm:admin
	SealPreCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.CallID, error)
	// SealPreCommit2 starts PreCommit2.
	// perm:admin
	SealPreCommit2(ctx context.Context, sector storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.CallID, error)
	// SealCommit1 starts Commit1.
	// perm:admin
	SealCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.CallID, error)
	// SealCommit2 starts Commit2.
	// perm:admin
	SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.CallID, error)
	// FinalizeSector starts removing what proving does not need from the cache.
	// perm:admin
	FinalizeSector(ctx context.Context, sector storiface.SectorRef) (storiface.CallID, error)
	// FinalizeUnsealed starts dropping the unsealed file except keepUnsealed.
	// perm:admin
	FinalizeUnsealed(ctx context.Context, sector storiface.SectorRef, keepUnsealed []storiface.Range) (storiface.CallID, error)
	// ReleaseUnsealed starts removing the unsealed file; with keep ranges it frees everything outside them instead.
	// perm:admin
	ReleaseUnsealed(ctx context.Context, sector storiface.SectorRef, keepUnsealed []storiface.Range) (storiface.CallID, error)
	// MoveStorage starts moving the types to long-term storage.
	// perm:admin
	MoveStorage(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType) (storiface.CallID, error)
	// UnsealPiece starts decoding a range of the sealed file into the unsealed file.
	// perm:admin
	UnsealPiece(ctx context.Context, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) (storiface.CallID, error)
	// Fetch starts bringing the types to a local path of kind ptype.
	// perm:admin
	Fetch(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType, ptype storiface.PathType, am storiface.AcquireMode) (storiface.CallID, error)

	// TaskTypes lists the task types the worker accepts now.
	// perm:admin
	TaskTypes(ctx context.Context) (map[storiface.TaskType]struct{}, error)
	// Paths lists the worker's local storage paths.
	// perm:admin
	Paths(ctx context.Context) ([]storiface.StoragePath, error)
	// Info describes the worker and its resources.
	// perm:admin
	Info(ctx context.Context) (storiface.WorkerInfo, error)
	// Session returns the worker's session ID, which changes when the process restarts and when its task types
	// or paths change (the scheduler then re-reads them); uuid.Nil while the worker is disabled (the scheduler
	// then gives it no new work).
	// perm:admin
	Session(ctx context.Context) (uuid.UUID, error)
	// Enabled reports whether the worker takes new work.
	// perm:admin
	Enabled(ctx context.Context) (bool, error)
	// SetEnabled enables or disables the worker for new work; running calls continue.
	// perm:admin
	SetEnabled(ctx context.Context, enabled bool) error
	// TaskEnable lets the worker accept tt.
	// perm:admin
	TaskEnable(ctx context.Context, tt storiface.TaskType) error
	// TaskDisable stops the worker accepting tt.
	// perm:admin
	TaskDisable(ctx context.Context, tt storiface.TaskType) error
	// WaitQuiet returns when the worker has no running calls and no unreturned results.
	// perm:admin
	WaitQuiet(ctx context.Context) error
	// Jobs lists the calls the worker is running or has finished but not yet returned.
	// perm:admin
	Jobs(ctx context.Context) ([]storiface.WorkerJob, error)
	// AbortCall cancels a running call; its result is returned to the manager as aborted.
	// perm:admin
	AbortCall(ctx context.Context, call storiface.CallID) error
	// StorageAddLocal opens (initialising if needed) a local storage path and declares it.
	// perm:admin
	StorageAddLocal(ctx context.Context, path string) error
	// StorageDetachLocal stops using a local path and removes it from the index.
	// perm:admin
	StorageDetachLocal(ctx context.Context, path string) error
	// StorageRedeclareLocal re-declares the sector files found in a local path (every path if id is nil);
	// with dropMissing, declarations of files no longer present are dropped.
	// perm:admin
	StorageRedeclareLocal(ctx context.Context, id *storiface.ID, dropMissing bool) error
	// Shutdown stops the worker process.
	// perm:admin
	Shutdown(ctx context.Context) error
}
