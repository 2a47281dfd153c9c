package storiface

import (
	"fmt"
	"path/filepath"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
)

// ID identifies a storage path across the cluster (a UUID string kept in the path's sectorstore.json).
type ID string

// PathType says whether a path is wanted for sealing scratch work or for long-term storage.
type PathType string

// The path types.
const (
	PathSealing PathType = "sealing"
	PathStorage PathType = "storage"
)

// AcquireMode says whether a file fetched from another path is moved (the source deleted) or copied.
type AcquireMode string

// The acquire modes.
const (
	AcquireMove AcquireMode = "move"
	AcquireCopy AcquireMode = "copy"
)

// SectorPaths holds the local path of each of a sector's files; an empty string means "not acquired".
type SectorPaths struct {
	ID          abi.SectorID
	Unsealed    string
	Sealed      string
	Cache       string
	Update      string
	UpdateCache string
	Piece       string
}

// PathByType returns the path of one file type.
func (sp SectorPaths) PathByType(t SectorFileType) string {
	switch t {
	case FTUnsealed:
		return sp.Unsealed
	case FTSealed:
		return sp.Sealed
	case FTCache:
		return sp.Cache
	case FTUpdate:
		return sp.Update
	case FTUpdateCache:
		return sp.UpdateCache
	case FTPiece:
		return sp.Piece
	}
	panic(fmt.Sprintf("PathByType: %s is not a single file type", t))
}

// SetPathByType sets the path of one file type.
func (sp *SectorPaths) SetPathByType(t SectorFileType, p string) {
	switch t {
	case FTUnsealed:
		sp.Unsealed = p
	case FTSealed:
		sp.Sealed = p
	case FTCache:
		sp.Cache = p
	case FTUpdate:
		sp.Update = p
	case FTUpdateCache:
		sp.UpdateCache = p
	case FTPiece:
		sp.Piece = p
	default:
		panic(fmt.Sprintf("SetPathByType: %s is not a single file type", t))
	}
}

// SectorPathIn returns where a file of type t for sector id lives under a storage path root:
// <root>/<type>/s-t0<miner>-<number>.
func SectorPathIn(root string, t SectorFileType, id abi.SectorID) string {
	return filepath.Join(root, t.String(), SectorName(id))
}

// StorageInfo describes a storage path as the index knows it.
type StorageInfo struct {
	ID         ID
	URLs       []string // where other nodes fetch from: http://host:port/remote
	Weight     uint64
	MaxStorage uint64

	CanSeal  bool
	CanStore bool

	Groups  []string
	AllowTo []string

	AllowTypes  []string
	DenyTypes   []string
	AllowMiners []string
	DenyMiners  []string
}

// FsStat is a path's capacity as the filesystem and reservations see it, in bytes.
type FsStat struct {
	Capacity    int64
	Available   int64 // what the filesystem has free
	FSAvailable int64 // free for sectors after reservations
	Reserved    int64
	Max         int64 // MaxStorage, 0 if unlimited
	Used        int64 // bytes of sector files in the path
}

// HealthReport is a heartbeat from the node that owns a path.
type HealthReport struct {
	Stat FsStat
	Err  string
}

// SectorStorageInfo is one place that holds (or could hold) a sector's file, as FindSector returns it.
type SectorStorageInfo struct {
	ID       ID
	URLs     []string
	BaseURLs []string
	Weight   uint64

	CanSeal  bool
	CanStore bool

	Primary bool
	Fresh   time.Time // last heartbeat
}

// Decl is a sector file declared in a path.
type Decl struct {
	abi.SectorID
	SectorFileType
}

// StoragePath is a local path of a worker, as it reports it to the scheduler.
type StoragePath struct {
	ID        ID
	Weight    uint64
	LocalPath string
	CanSeal   bool
	CanStore  bool
}
