// Package stores keeps track of where every sector file in the cluster lives: local storage paths, the SQL
// sector index, space reservations, sector locks, fetching files from other nodes and the /remote file server.
package stores

import (
	"context"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// SectorIndex is the cluster-wide index of storage paths and the sector files they hold. The manager serves it;
// workers reach it over RPC. All methods are safe for concurrent use.
type SectorIndex interface {
	// StorageAttach registers a path (or adds a URL to a known one) with its current filesystem stats.
	StorageAttach(ctx context.Context, si storiface.StorageInfo, st storiface.FsStat) error
	// StorageDetach removes one URL of a path; the path is forgotten, with its declarations, when it has none left.
	StorageDetach(ctx context.Context, id storiface.ID, url string) error
	// StorageInfo returns what the index knows of a path.
	StorageInfo(ctx context.Context, id storiface.ID) (storiface.StorageInfo, error)
	// StorageReportHealth records a heartbeat; paths without a fresh one are not offered for allocation or fetch.
	StorageReportHealth(ctx context.Context, id storiface.ID, report storiface.HealthReport) error

	// StorageDeclareSector records that a fully written file of type ft of sector s is in path id.
	StorageDeclareSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType, primary bool) error
	// StorageDropSector forgets the declaration.
	StorageDropSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType) error
	// StorageFindSector lists the paths holding file type ft of sector s, best first (primary, then weight). With
	// allowFetch it also lists healthy paths that could receive the file (sealing/storage paths with room).
	StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error)
	// StorageBestAlloc lists healthy paths that can hold new files of the types in allocate, best first.
	StorageBestAlloc(ctx context.Context, allocate storiface.SectorFileType, ssize abi.SectorSize, pathType storiface.PathType, miner abi.ActorID) ([]storiface.StorageInfo, error)

	// StorageLock takes read locks on the types in read and write locks on those in write, atomically, waiting
	// until it can or ctx ends. The locks are released when ctx is done.
	StorageLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) error
	// StorageTryLock is StorageLock without waiting; it reports whether the locks were taken.
	StorageTryLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) (bool, error)
	// StorageGetLocks lists the locks held.
	StorageGetLocks(ctx context.Context) (storiface.SectorLocks, error)

	// StorageList lists every path with the sector files declared in it.
	StorageList(ctx context.Context) (map[storiface.ID][]storiface.Decl, error)
}

// Store gives a node's workers the sector files they need, locally.
type Store interface {
	// AcquireSector returns local paths for the existing file types (fetching them from other nodes if needed,
	// in mode op) and new paths for the allocate types in a path of kind sealing. The second SectorPaths holds the
	// storage IDs of each path. Allocated files are not declared: the caller declares them once fully written.
	AcquireSector(ctx context.Context, s storiface.SectorRef, existing, allocate storiface.SectorFileType, sealing storiface.PathType, op storiface.AcquireMode) (paths, ids storiface.SectorPaths, err error)
	// Reserve reserves the space the types in ft need in the paths of ids; the release func is idempotent.
	Reserve(ctx context.Context, s storiface.SectorRef, ft storiface.SectorFileType, ids storiface.SectorPaths, sealing storiface.PathType) (release func(), err error)
	// Remove deletes the files of the given types everywhere (or only where not in keepIn) and drops their declarations.
	Remove(ctx context.Context, s abi.SectorID, types storiface.SectorFileType, force bool, keepIn []storiface.ID) error
	// RemoveCopies deletes the non-primary copies of the types.
	RemoveCopies(ctx context.Context, s abi.SectorID, types storiface.SectorFileType) error
	// MoveStorage moves the files of the given types to the best storage (long-term) path.
	MoveStorage(ctx context.Context, s storiface.SectorRef, types storiface.SectorFileType) error
	// FsStat returns the capacity and use of a local path.
	FsStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error)
}
