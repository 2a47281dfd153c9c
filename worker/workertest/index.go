package workertest

import (
	"context"
	"fmt"
	"sort"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/stores"
	"sealfleet/storiface"
)

// Index is an in-memory stores.SectorIndex: paths, declarations and sector locks. Paths are always healthy and
// have room.
type Index struct {
	mu    sync.Mutex
	paths map[storiface.ID]storiface.StorageInfo
	decls map[abi.SectorID]map[storiface.SectorFileType]map[storiface.ID]bool // → primary
	locks map[abi.SectorID]*sectorLock
	wake  chan struct{} // closed and replaced when a lock is released
}

type sectorLock struct {
	read  [6]uint
	write [6]uint
}

var _ stores.SectorIndex = (*Index)(nil)

// NewIndex returns an empty index.
func NewIndex() *Index {
	return &Index{paths: map[storiface.ID]storiface.StorageInfo{},
		decls: map[abi.SectorID]map[storiface.SectorFileType]map[storiface.ID]bool{},
		locks: map[abi.SectorID]*sectorLock{}, wake: make(chan struct{})}
}

// StorageAttach records a path.
func (x *Index) StorageAttach(_ context.Context, si storiface.StorageInfo, _ storiface.FsStat) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	x.paths[si.ID] = si
	return nil
}

// StorageDetach forgets a path and its declarations.
func (x *Index) StorageDetach(_ context.Context, id storiface.ID, _ string) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	delete(x.paths, id)
	for _, byType := range x.decls {
		for _, ids := range byType {
			delete(ids, id)
		}
	}
	return nil
}

// StorageInfo returns a path.
func (x *Index) StorageInfo(_ context.Context, id storiface.ID) (storiface.StorageInfo, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	si, ok := x.paths[id]
	if !ok {
		return si, fmt.Errorf("storage %s not found", id)
	}
	return si, nil
}

// StorageReportHealth does nothing: fake paths are always healthy.
func (x *Index) StorageReportHealth(context.Context, storiface.ID, storiface.HealthReport) error {
	return nil
}

// StorageDeclareSector records a file.
func (x *Index) StorageDeclareSector(_ context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType, primary bool) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, t := range ft.All() {
		if x.decls[s] == nil {
			x.decls[s] = map[storiface.SectorFileType]map[storiface.ID]bool{}
		}
		if x.decls[s][t] == nil {
			x.decls[s][t] = map[storiface.ID]bool{}
		}
		x.decls[s][t][id] = primary
	}
	return nil
}

// StorageDropSector forgets a file.
func (x *Index) StorageDropSector(_ context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType) error {
	x.mu.Lock()
	defer x.mu.Unlock()
	for _, t := range ft.All() {
		delete(x.decls[s][t], id)
	}
	return nil
}

// StorageFindSector lists the paths holding any of the types in ft.
func (x *Index) StorageFindSector(_ context.Context, s abi.SectorID, ft storiface.SectorFileType, _ abi.SectorSize, _ bool) ([]storiface.SectorStorageInfo, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	seen := map[storiface.ID]bool{}
	var out []storiface.SectorStorageInfo
	for _, t := range ft.All() {
		for id, primary := range x.decls[s][t] {
			if seen[id] {
				continue
			}
			seen[id] = true
			si := x.paths[id]
			out = append(out, storiface.SectorStorageInfo{ID: id, URLs: si.URLs, Weight: si.Weight,
				CanSeal: si.CanSeal, CanStore: si.CanStore, Primary: primary})
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StorageBestAlloc lists the paths of the wanted kind.
func (x *Index) StorageBestAlloc(_ context.Context, _ storiface.SectorFileType, _ abi.SectorSize, pt storiface.PathType, _ abi.ActorID) ([]storiface.StorageInfo, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out []storiface.StorageInfo
	for _, si := range x.paths {
		if (pt == storiface.PathSealing && si.CanSeal) || (pt == storiface.PathStorage && si.CanStore) {
			out = append(out, si)
		}
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// StorageLock waits until it can take the locks; they are released when ctx ends.
func (x *Index) StorageLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) error {
	for {
		x.mu.Lock()
		if x.tryLocked(ctx, s, read, write) {
			x.mu.Unlock()
			return nil
		}
		wake := x.wake
		x.mu.Unlock()
		select {
		case <-wake:
		case <-ctx.Done():
			return fmt.Errorf("locking sector %v: %w", s, ctx.Err())
		}
	}
}

// StorageTryLock takes the locks if it can at once.
func (x *Index) StorageTryLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) (bool, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	return x.tryLocked(ctx, s, read, write), nil
}

func (x *Index) tryLocked(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) bool {
	l := x.locks[s]
	if l == nil {
		l = &sectorLock{}
		x.locks[s] = l
	}
	for i, t := range storiface.PathTypes {
		if (read.Has(t) && l.write[i] > 0) || (write.Has(t) && (l.write[i] > 0 || l.read[i] > 0)) {
			return false
		}
	}
	for i, t := range storiface.PathTypes {
		if read.Has(t) {
			l.read[i]++
		}
		if write.Has(t) {
			l.write[i]++
		}
	}
	go func() {
		<-ctx.Done()
		x.mu.Lock()
		defer x.mu.Unlock()
		for i, t := range storiface.PathTypes {
			if read.Has(t) {
				l.read[i]--
			}
			if write.Has(t) {
				l.write[i]--
			}
		}
		close(x.wake)
		x.wake = make(chan struct{})
	}()
	return true
}

// StorageGetLocks lists held locks.
func (x *Index) StorageGetLocks(context.Context) (storiface.SectorLocks, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	var out storiface.SectorLocks
	for s, l := range x.locks {
		if l.read != [6]uint{} || l.write != [6]uint{} {
			out.Locks = append(out.Locks, storiface.SectorLock{Sector: s, Read: l.read, Write: l.write})
		}
	}
	return out, nil
}

// StorageList lists the declarations per path.
func (x *Index) StorageList(context.Context) (map[storiface.ID][]storiface.Decl, error) {
	x.mu.Lock()
	defer x.mu.Unlock()
	out := map[storiface.ID][]storiface.Decl{}
	for id := range x.paths {
		out[id] = nil
	}
	for s, byType := range x.decls {
		for t, ids := range byType {
			for id := range ids {
				out[id] = append(out[id], storiface.Decl{SectorID: s, SectorFileType: t})
			}
		}
	}
	return out, nil
}

// Declared reports whether a file of type t of sector s is declared anywhere.
func (x *Index) Declared(s abi.SectorID, t storiface.SectorFileType) bool {
	x.mu.Lock()
	defer x.mu.Unlock()
	return len(x.decls[s][t]) > 0
}
