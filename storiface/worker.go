package storiface

import (
	"context"
	"fmt"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/ipfs/go-cid"
)

// CallID identifies one asynchronous call made to a worker. The worker returns it at once and later reports
// the result to the manager under the same ID.
type CallID struct {
	Sector abi.SectorID
	ID     uuid.UUID
}

// String formats the ID as "<miner>-<number>-<uuid>".
func (c CallID) String() string {
	return fmt.Sprintf("%d-%d-%s", c.Sector.Miner, c.Sector.Number, c.ID)
}

// UndefCall is the zero CallID, returned alongside errors.
var UndefCall CallID

// NewCallID returns a fresh call ID for a sector.
func NewCallID(sector abi.SectorID) CallID { return CallID{Sector: sector, ID: uuid.New()} }

// SectorCids are the commitments PreCommit2 produces.
type SectorCids struct {
	Unsealed cid.Cid
	Sealed   cid.Cid
}

// PreCommit1Out is the opaque output of PreCommit1, handed to PreCommit2.
type PreCommit1Out []byte

// Commit1Out is the opaque output of Commit1 (the vanilla proofs), handed to Commit2.
type Commit1Out []byte

// Proof is a seal proof as Commit2 produces it.
type Proof []byte

// PieceData says where a worker reads the bytes of a piece to add: an empty URL means a zero (pledge) piece;
// otherwise the worker GETs the URL, sending Headers.
type PieceData struct {
	URL     string            `json:",omitempty"`
	Headers map[string]string `json:",omitempty"`
}

// IsZero reports whether the piece is all zeros (a pledge / CC piece).
func (d PieceData) IsZero() bool { return d.URL == "" }

// Range is a range of a sector's unpadded space.
type Range struct {
	Offset abi.UnpaddedPieceSize
	Size   abi.UnpaddedPieceSize
}

// Resources is one (task type, proof type) row of a resource table: what one task needs from a worker.
type Resources struct {
	MinMemory         uint64  // bytes that must be available to start the task
	MaxMemory         uint64  // bytes the task may use at its peak (physical + swap)
	GPUUtilization    float64 // fraction of one GPU; 0 means a CPU task
	MaxParallelism    int     // threads the task uses; -1 means all the worker's CPUs
	MaxParallelismGPU int     // threads when a GPU is used; 0 means same as MaxParallelism
	BaseMinMemory     uint64  // memory the first task of this type needs beyond MinMemory (shared buffers)
	MaxConcurrent     int     // most tasks of this type at once on a worker; 0 means no limit
}

// WorkerResources is what a worker has, as it reports it.
type WorkerResources struct {
	MemPhysical uint64
	MemUsed     uint64 // used by other processes (reserved)
	MemSwap     uint64
	MemSwapUsed uint64
	CPUs        uint64   // logical cores
	GPUs        []string // GPU names

	// Resources overrides the default resource table for this worker (nil: defaults).
	Resources map[TaskType]map[abi.RegisteredSealProof]Resources `json:",omitempty"`
}

// WorkerInfo describes a worker to the scheduler.
type WorkerInfo struct {
	Hostname string
	Name     string
	// IgnoreResources lets the worker take any task its selectors accept, whatever its resources.
	IgnoreResources bool
	Resources       WorkerResources
}

// WorkerID identifies a worker connection within the manager.
type WorkerID uuid.UUID

// String formats the ID.
func (w WorkerID) String() string { return uuid.UUID(w).String() }

// NewWorkerID returns a fresh worker ID.
func NewWorkerID() WorkerID { return WorkerID(uuid.New()) }

// The RunWait values of a WorkerJob.
const (
	RWRunning  = 0  // running on the worker
	RWRetWait  = -1 // finished, waiting for the manager to take the result
	RWReturned = -2 // result returned to the manager
	RWRetDone  = -3 // result taken by the waiting operation
	RWPrepared = -4 // prepare step (fetch) running
)

// WorkerJob is one job as `sealing jobs` shows it. RunWait > 0 means assigned and waiting in window RunWait-1.
type WorkerJob struct {
	ID       CallID
	Sector   abi.SectorID
	Task     TaskType
	RunWait  int
	Start    time.Time
	Hostname string `json:",omitempty"`
}

// WorkerCalls are the asynchronous sealing calls a worker serves. Each returns a CallID at once; the result
// arrives later through the manager's Return methods.
type WorkerCalls interface {
	DataCid(ctx context.Context, pieceSize abi.UnpaddedPieceSize, data PieceData) (CallID, error)
	AddPiece(ctx context.Context, sector SectorRef, existing []abi.UnpaddedPieceSize, size abi.UnpaddedPieceSize, data PieceData) (CallID, error)
	SealPreCommit1(ctx context.Context, sector SectorRef, ticket abi.SealRandomness, pieces []abi.PieceInfo) (CallID, error)
	SealPreCommit2(ctx context.Context, sector SectorRef, pc1o PreCommit1Out) (CallID, error)
	SealCommit1(ctx context.Context, sector SectorRef, ticket abi.SealRandomness, seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids SectorCids) (CallID, error)
	SealCommit2(ctx context.Context, sector SectorRef, c1o Commit1Out) (CallID, error)
	FinalizeSector(ctx context.Context, sector SectorRef) (CallID, error)
	FinalizeUnsealed(ctx context.Context, sector SectorRef, keepUnsealed []Range) (CallID, error)
	ReleaseUnsealed(ctx context.Context, sector SectorRef, keepUnsealed []Range) (CallID, error)
	MoveStorage(ctx context.Context, sector SectorRef, types SectorFileType) (CallID, error)
	UnsealPiece(ctx context.Context, sector SectorRef, offset UnpaddedByteIndex, size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) (CallID, error)
	Fetch(ctx context.Context, sector SectorRef, types SectorFileType, ptype PathType, am AcquireMode) (CallID, error)
}
