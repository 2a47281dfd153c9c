package stores

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// path is one open storage path with its reservations.
type path struct {
	id   storiface.ID
	root string // absolute

	mu           sync.Mutex // guards everything below
	meta         LocalStorageMeta
	reservations map[uint64]reservation
	nextResv     uint64

	// The bytes under the path (for MaxStorage) are measured by walking it, which is slow on a full path, so the
	// walk is done at heartbeats (refresh) and after removals; in between, Used is the last walk plus the growth
	// of the files under reservation since (usedBase per file), as those are the files being written.
	usedValid bool
	usedTotal int64
	usedBase  map[reservation]int64 // per (sector, type), size zero: its bytes at the last walk
}

// reservation is space promised to one file of one sector before it is written.
type reservation struct {
	sector abi.SectorID
	ft     storiface.SectorFileType
	size   int64
}

func newPath(meta LocalStorageMeta, root string) *path {
	return &path{id: meta.ID, root: root, meta: meta, reservations: map[uint64]reservation{}}
}

func (p *path) getMeta() LocalStorageMeta {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.meta
}

func (p *path) setMeta(m LocalStorageMeta) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.meta = m
}

// sectorPath is where a sector file of type ft lives in the path.
func (p *path) sectorPath(s abi.SectorID, ft storiface.SectorFileType) string {
	return storiface.SectorPathIn(p.root, ft, s)
}

// fetchTempPath is where a file being fetched into the path is written before its rename.
func (p *path) fetchTempPath(s abi.SectorID, ft storiface.SectorFileType) string {
	return filepath.Join(p.root, ft.String(), FetchTempSubdir, storiface.SectorName(s))
}

// stat returns the path's figures with reservations applied; refresh re-walks the path for Used.
func (p *path) stat(ls LocalStorage, refresh bool) (storiface.FsStat, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if refresh {
		p.usedValid = false
	}
	st, _, err := p.statLocked(ls, abi.SectorID{}, storiface.FTNone)
	return st, err
}

// invalidateUsed makes the next stat walk the path (after files were removed outside reservations).
func (p *path) invalidateUsed() {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.usedValid = false
}

// statLocked computes the figures under p.mu. A reservation counts only for what is not yet on disk, so a file
// being written is never counted twice (once as used, once as reserved). If ft is set, it also returns how many
// bytes file ft of sector s already occupies (for a new reservation of a file that was partly written before).
//
// FsStat: Available is the filesystem's free space; FSAvailable what is left for new sector files after
// outstanding reservations and MaxStorage; Used (only with MaxStorage) the bytes under the path.
func (p *path) statLocked(ls LocalStorage, s abi.SectorID, ft storiface.SectorFileType) (storiface.FsStat, int64, error) {
	fs, err := ls.Stat(p.root)
	if err != nil {
		return storiface.FsStat{}, 0, fmt.Errorf("stat of %s: %w", p.root, err)
	}
	current := map[reservation]int64{} // per (sector, type), size zero: bytes on disk now
	left := map[reservation]int64{}    // what is left to credit to another reservation of the same file
	var outstanding int64
	for _, r := range p.reservations {
		key := reservation{sector: r.sector, ft: r.ft}
		if _, seen := current[key]; !seen {
			current[key] = p.fileUsage(ls, r.sector, r.ft)
			left[key] = current[key]
		}
		credit := min(left[key], r.size)
		outstanding += r.size - credit
		left[key] -= credit
	}
	var newOnDisk int64
	if ft != storiface.FTNone {
		newOnDisk = p.fileUsage(ls, s, ft)
	}

	st := storiface.FsStat{
		Capacity:  fs.Capacity,
		Available: fs.Available,
		Reserved:  outstanding,
		Max:       int64(p.meta.MaxStorage),
	}
	st.FSAvailable = max(fs.Available-outstanding, 0)
	if p.meta.MaxStorage > 0 {
		used, err := p.usedLocked(ls, current)
		if err != nil {
			return storiface.FsStat{}, 0, err
		}
		st.Used = used
		st.FSAvailable = min(st.FSAvailable, max(int64(p.meta.MaxStorage)-used-outstanding, 0))
	}
	return st, newOnDisk, nil
}

// usedLocked returns the bytes under the path: a walk if the last one is invalid, else the last walk plus the
// growth since of the reserved files (current holds their sizes now).
func (p *path) usedLocked(ls LocalStorage, current map[reservation]int64) (int64, error) {
	if !p.usedValid {
		total, err := ls.DiskUsage(p.root)
		if err != nil {
			return 0, fmt.Errorf("disk usage of %s: %w", p.root, err)
		}
		p.usedValid, p.usedTotal, p.usedBase = true, total, current
		return total, nil
	}
	used := p.usedTotal
	for key, now := range current {
		base, ok := p.usedBase[key]
		if !ok { // reserved after the walk: what it had then was counted by the walk
			p.usedBase[key], base = now, now
		}
		used += now - base
	}
	return used, nil
}

// fileUsage is the on-disk size of a sector file in the path: final, being written (TempSuffix) or being fetched
// (0 if absent).
func (p *path) fileUsage(ls LocalStorage, s abi.SectorID, ft storiface.SectorFileType) int64 {
	var total int64
	final := p.sectorPath(s, ft)
	for _, name := range []string{final, final + TempSuffix, p.fetchTempPath(s, ft)} {
		if n, err := ls.DiskUsage(name); err == nil {
			total += n
		}
	}
	return total
}

// reserve promises size bytes for file ft of sector s, or fails with ErrTempAllocateSpace if the path has not
// that much left. The check and the promise happen under one lock, so concurrent callers never over-commit.
func (p *path) reserve(ls LocalStorage, s abi.SectorID, ft storiface.SectorFileType, size int64) (uint64, error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	st, onDisk, err := p.statLocked(ls, s, ft)
	if err != nil {
		return 0, err
	}
	need := size - min(onDisk, size)
	if need > st.FSAvailable {
		return 0, storiface.Err(storiface.ErrTempAllocateSpace, fmt.Errorf(
			"reserving %d bytes for %s of %s in %s (%s): only %d available", need, ft,
			storiface.SectorName(s), p.id, p.root, st.FSAvailable))
	}
	p.nextResv++
	p.reservations[p.nextResv] = reservation{sector: s, ft: ft, size: size}
	if key := (reservation{sector: s, ft: ft}); p.usedValid {
		if _, tracked := p.usedBase[key]; !tracked {
			p.usedBase[key] = onDisk // what the last walk counted of it (it is not written outside reservations)
		}
	}
	return p.nextResv, nil
}

// release drops a reservation. If the path's Used is being tracked, the file's growth since the last walk is
// folded into the total, since the file stays while its reservation goes.
func (p *path) release(ls LocalStorage, id uint64) {
	p.mu.Lock()
	defer p.mu.Unlock()
	r, ok := p.reservations[id]
	if !ok {
		return
	}
	delete(p.reservations, id)
	key := reservation{sector: r.sector, ft: r.ft}
	for _, other := range p.reservations {
		if other.sector == r.sector && other.ft == r.ft {
			return // still reserved: keep tracking its growth
		}
	}
	if base, tracked := p.usedBase[key]; tracked && p.usedValid {
		p.usedTotal += p.fileUsage(ls, r.sector, r.ft) - base
		delete(p.usedBase, key)
	}
}

// reservedTotal is the sum of the path's reservations (for tests and diagnostics).
func (p *path) reservedTotal() int64 {
	p.mu.Lock()
	defer p.mu.Unlock()
	var t int64
	for _, r := range p.reservations {
		t += r.size
	}
	return t
}

// spaceUse is the bytes a set of types needs for a sector of ssize in a path of kind pt.
func spaceUse(ft storiface.SectorFileType, ssize abi.SectorSize, pt storiface.PathType) int64 {
	if pt == storiface.PathStorage {
		return int64(ft.StoreSpaceUse(ssize))
	}
	return int64(ft.SealSpaceUse(ssize))
}

// Reserve reserves, in the path named in ids for each type of ft, the space that type needs (SealSpaceUse for
// sealing paths, StoreSpaceUse for storage). Either every type is reserved or none (the error says which path
// lacked room, with code ErrTempAllocateSpace). The returned release func is idempotent.
func (st *Local) Reserve(ctx context.Context, s storiface.SectorRef, ft storiface.SectorFileType, ids storiface.SectorPaths, pt storiface.PathType) (func(), error) {
	ssize, err := s.ProofType.SectorSize()
	if err != nil {
		return nil, fmt.Errorf("reserving for %s: proof type: %w", s, err)
	}
	var held []func()
	releaseAll := func() {
		for _, r := range held {
			r()
		}
	}
	for _, t := range ft.All() {
		id := storiface.ID(ids.PathByType(t))
		p, err := st.path(id)
		if err != nil {
			releaseAll()
			return nil, fmt.Errorf("reserving %s of %s: %w", t, s, err)
		}
		rid, err := p.reserve(st.ls, s.ID, t, spaceUse(t, ssize, pt))
		if err != nil {
			releaseAll()
			return nil, err
		}
		held = append(held, func() { p.release(st.ls, rid) })
	}
	st.triggerReport()
	var once sync.Once
	return func() {
		once.Do(func() {
			releaseAll()
			st.triggerReport()
		})
	}, nil
}

// AllocateAndReserve picks, for each type in allocate, the best local path of kind pt (in the index's order)
// that can hold it and reserves the space there in the same step, moving on to the next path when one turns out
// to be full. It returns the file paths, the storage IDs and an idempotent release func. This closes the window
// between choosing a path and reserving in it that makes concurrent allocations collide on one path.
func (st *Local) AllocateAndReserve(ctx context.Context, s storiface.SectorRef, allocate storiface.SectorFileType, pt storiface.PathType) (paths, ids storiface.SectorPaths, release func(), err error) {
	ssize, err := s.ProofType.SectorSize()
	if err != nil {
		return paths, ids, nil, fmt.Errorf("allocating for %s: proof type: %w", s, err)
	}
	paths.ID, ids.ID = s.ID, s.ID
	var held []func()
	releaseAll := func() {
		for _, r := range held {
			r()
		}
	}
	for _, t := range allocate.All() {
		p, rid, err := st.reserveBest(ctx, s.ID, t, ssize, pt)
		if err != nil {
			releaseAll()
			return storiface.SectorPaths{}, storiface.SectorPaths{}, nil, err
		}
		held = append(held, func() { p.release(st.ls, rid) })
		paths.SetPathByType(t, p.sectorPath(s.ID, t))
		ids.SetPathByType(t, string(p.id))
	}
	st.triggerReport()
	var once sync.Once
	return paths, ids, func() { once.Do(func() { releaseAll(); st.triggerReport() }) }, nil
}

// reserveBest reserves space for one file in the first local path the index ranks suitable that has room.
func (st *Local) reserveBest(ctx context.Context, s abi.SectorID, t storiface.SectorFileType, ssize abi.SectorSize, pt storiface.PathType) (*path, uint64, error) {
	cands, err := st.index.StorageBestAlloc(ctx, t, ssize, pt, s.Miner)
	if err != nil {
		return nil, 0, fmt.Errorf("finding a %s path for %s of %s: %w", pt, t, storiface.SectorName(s), err)
	}
	var errs []error
	for _, c := range cands {
		p, err := st.path(c.ID)
		if err != nil {
			continue // another node's path
		}
		rid, err := p.reserve(st.ls, s, t, spaceUse(t, ssize, pt))
		if err != nil {
			errs = append(errs, err)
			continue
		}
		return p, rid, nil
	}
	if len(errs) == 0 {
		errs = append(errs, errors.New("none of the suitable paths is attached to this node"))
	}
	return nil, 0, storiface.Err(storiface.ErrTempAllocateSpace, fmt.Errorf("allocating %s of %s in a %s path: %w",
		t, storiface.SectorName(s), pt, errors.Join(errs...)))
}

// ensureParent creates the directory a file will be written into.
func ensureParent(name string) error {
	if err := os.MkdirAll(filepath.Dir(name), 0o755); err != nil {
		return fmt.Errorf("creating directory for %s: %w", name, err)
	}
	return nil
}
