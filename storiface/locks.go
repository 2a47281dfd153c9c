package storiface

import "github.com/filecoin-project/go-state-types/abi"

// SectorLock is the lock state of one sector: per file type, how many readers hold it and whether a writer does.
type SectorLock struct {
	Sector abi.SectorID
	Write  [6]uint // one per PathTypes entry; 0 or 1
	Read   [6]uint
}

// SectorLocks lists every sector that has a lock held.
type SectorLocks struct {
	Locks []SectorLock
}
