package api

import (
	"context"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/ipfs/go-cid"

	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// WorkerReturn is how a worker hands the result of a call to the manager. A nil error from a Return method is
// the manager's acknowledgement: the result is persisted and the worker may forget it. Returning the same call
// twice is harmless.
type WorkerReturn interface {
	// ReturnDataCid delivers the result of DataCid.
	// perm:admin
	ReturnDataCid(ctx context.Context, callID storiface.CallID, pi abi.PieceInfo, err *storiface.CallError) error
	// ReturnAddPiece delivers the result of AddPiece.
	// perm:admin
	ReturnAddPiece(ctx context.Context, callID storiface.CallID, pi abi.PieceInfo, err *storiface.CallError) error
	// ReturnSealPreCommit1 delivers the result of SealPreCommit1.
	// perm:admin
	ReturnSealPreCommit1(ctx context.Context, callID storiface.CallID, p1o storiface.PreCommit1Out, err *storiface.CallError) error
	// ReturnSealPreCommit2 delivers the result of SealPreCommit2.
	// perm:admin
	ReturnSealPreCommit2(ctx context.Context, callID storiface.CallID, sealed storiface.SectorCids, err *storiface.CallError) error
	// ReturnSealCommit1 delivers the result of SealCommit1.
	// perm:admin
	ReturnSealCommit1(ctx context.Context, callID storiface.CallID, out storiface.Commit1Out, err *storiface.CallError) error
	// ReturnSealCommit2 delivers the result of SealCommit2.
	// perm:admin
	ReturnSealCommit2(ctx context.Context, callID storiface.CallID, proof storiface.Proof, err *storiface.CallError) error
	// ReturnFinalizeSector delivers the result of FinalizeSector.
	// perm:admin
	ReturnFinalizeSector(ctx context.Context, callID storiface.CallID, err *storiface.CallError) error
	// ReturnFinalizeUnsealed delivers the result of FinalizeUnsealed.
	// perm:admin
	ReturnFinalizeUnsealed(ctx context.Context, callID storiface.CallID, err *storiface.CallError) error
	// ReturnReleaseUnsealed delivers the result of ReleaseUnsealed.
	// perm:admin
	ReturnReleaseUnsealed(ctx context.Context, callID storiface.CallID, err *storiface.CallError) error
	// ReturnMoveStorage delivers the result of MoveStorage.
	// perm:admin
	ReturnMoveStorage(ctx context.Context, callID storiface.CallID, err *storiface.CallError) error
	// ReturnUnsealPiece delivers the result of UnsealPiece.
	// perm:admin
	ReturnUnsealPiece(ctx context.Context, callID storiface.CallID, err *storiface.CallError) error
	// ReturnFetch delivers the result of Fetch.
	// perm:admin
	ReturnFetch(ctx context.Context, callID storiface.CallID, err *storiface.CallError) error
}

// SectorIndex is stores.SectorIndex as the manager serves it to workers; see that interface for the contracts.
type SectorIndex interface {
	// perm:admin
	StorageAttach(ctx context.Context, si storiface.StorageInfo, st storiface.FsStat) error
	// perm:admin
	StorageDetach(ctx context.Context, id storiface.ID, url string) error
	// perm:admin
	StorageInfo(ctx context.Context, id storiface.ID) (storiface.StorageInfo, error)
	// perm:admin
	StorageReportHealth(ctx context.Context, id storiface.ID, report storiface.HealthReport) error
	// perm:admin
	StorageDeclareSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType, primary bool) error
	// perm:admin
	StorageDropSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType) error
	// perm:admin
	StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error)
	// perm:admin
	StorageBestAlloc(ctx context.Context, allocate storiface.SectorFileType, ssize abi.SectorSize, pathType storiface.PathType, miner abi.ActorID) ([]storiface.StorageInfo, error)
	// perm:admin
	StorageLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) error
	// perm:admin
	StorageTryLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) (bool, error)
	// perm:read
	StorageGetLocks(ctx context.Context) (storiface.SectorLocks, error)
	// perm:read
	StorageList(ctx context.Context) (map[storiface.ID][]storiface.Decl, error)
}

// Sealing is the manager's sealing operations. Each runs as a tracked scheduler request: re-issuing an identical
// call while it runs (even after a manager restart) joins it instead of running it again.
type Sealing interface {
	// AddPiece writes a piece into the sector after the existing ones.
	// perm:admin
	AddPiece(ctx context.Context, sector storiface.SectorRef, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data storiface.PieceData) (abi.PieceInfo, error)
	// SealPreCommit1 runs PreCommit1.
	// perm:admin
	SealPreCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error)
	// SealPreCommit2 runs PreCommit2.
	// perm:admin
	SealPreCommit2(ctx context.Context, sector storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error)
	// SealCommit1 runs Commit1.
	// perm:admin
	SealCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error)
	// SealCommit2 runs Commit2.
	// perm:admin
	SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error)
	// FinalizeSector trims the sector's cache where it is; MoveStorage then moves the files to a storage path.
	// perm:admin
	FinalizeSector(ctx context.Context, sector storiface.SectorRef) error
	// ReleaseUnsealed removes the unsealed file everywhere, or with keep ranges frees (punches holes in)
	// everything outside them in the copy of a worker holding the file.
	// perm:admin
	ReleaseUnsealed(ctx context.Context, sector storiface.SectorRef, keep []storiface.Range) error
	// MoveStorage moves the sector's types to a storage path.
	// perm:admin
	MoveStorage(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType) error
	// UnsealPiece makes a range of the sector available unsealed.
	// perm:admin
	UnsealPiece(ctx context.Context, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error
	// Remove deletes every file of the sector everywhere.
	// perm:admin
	Remove(ctx context.Context, sector storiface.SectorRef) error
}

// Manager is the API the manager serves at /rpc/v0 to workers and the CLI.
type Manager interface {
	Common
	WorkerReturn
	SectorIndex
	Sealing

	// Session returns the manager process's session ID; a new value means the manager restarted (workers then
	// connect and declare their storage again at once).
	// perm:read
	Session(ctx context.Context) (uuid.UUID, error)
	// WorkerConnect makes the manager dial back the worker API at url and add the worker to the scheduler.
	// perm:admin
	WorkerConnect(ctx context.Context, url string) error
	// SchedDiag explains the scheduler's state: the waiting requests with the workers' reasons for not taking
	// them grouped by reason (a count and a few example workers per reason), the windows holding waiting tasks
	// and the started requests. Requests that every worker answers alike (same task, proof type, priority, state and selector
	// outcome) are one entry with Count and their first sched.DiagIDs IDs, so the answer grows with the kinds of
	// waiting work, not with requests × workers; Waiting is the total. SchedDiagRequest gives one request's
	// answer per worker.
	// perm:read
	SchedDiag(ctx context.Context) (sched.DiagInfo, error)
	// SchedDiagRequest explains one queued or waiting request (an ID from SchedDiag's IDs): every worker's
	// reason for not taking it (Rejections, sorted by hostname) and the same grouped by reason. An ID that is not
	// waiting (unknown, started or finished) is an error wrapping sched.ErrUnknownRequest.
	// perm:read
	SchedDiagRequest(ctx context.Context, id uuid.UUID) (sched.DiagRequest, error)
	// WorkerStats returns each worker's description and resource use, by worker ID.
	// perm:read
	WorkerStats(ctx context.Context) (map[uuid.UUID]sched.WorkerStats, error)
	// WorkerJobs lists, per worker, the jobs it runs, has prepared, is assigned or waits to return.
	// perm:admin
	WorkerJobs(ctx context.Context) (map[uuid.UUID][]storiface.WorkerJob, error)
	// WorkerRemove takes a worker out of the scheduler and closes the connection to it: its waiting tasks go
	// back to the queue and ops waiting for calls it was running are scheduled again elsewhere. Use it for a
	// worker that vanished and will not come back. An unknown ID is an error.
	// perm:admin
	WorkerRemove(ctx context.Context, id storiface.WorkerID) error
	// Abort cancels a tracked call: its waiting operation fails with an aborted error and the worker is asked to
	// cancel it.
	// perm:admin
	Abort(ctx context.Context, call storiface.CallID) error

	// StorageAddLocal opens a path on the manager's node and declares it.
	// perm:admin
	StorageAddLocal(ctx context.Context, path string) error
	// StorageDetachLocal stops using a path on the manager's node.
	// perm:admin
	StorageDetachLocal(ctx context.Context, path string) error
	// StorageLocal lists the manager node's local paths, by ID.
	// perm:admin
	StorageLocal(ctx context.Context) (map[storiface.ID]string, error)
	// StorageStat returns the capacity and use of one of the manager node's local paths.
	// perm:admin
	StorageStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error)
	// StorageRedeclareLocal re-declares in the index the sector files found in one of the manager node's local
	// paths (every local path when id is nil). With dropMissing, declarations of files no longer on disk are
	// dropped.
	// perm:admin
	StorageRedeclareLocal(ctx context.Context, id *storiface.ID, dropMissing bool) error
	// StoragePaths lists every path the index knows (the manager's and the workers'), with capacity, heartbeat
	// health and the number of files declared in it.
	// perm:read
	StoragePaths(ctx context.Context) ([]stores.PathStatus, error)
}
