package stores

import (
	"cmp"
	"context"
	"database/sql"
	"fmt"
	"math/bits"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// checkTypes refuses an empty or unknown set of file types.
func checkTypes(ft storiface.SectorFileType) error {
	if ft == storiface.FTNone || ft&^storiface.FTAll != 0 {
		return storiface.Errf(storiface.ErrBadInput, "file types %s: accepted is a non-empty set of unsealed, sealed, cache, update, update-cache, piece", ft)
	}
	return nil
}

// StorageDeclareSector records that the files of the types in ft of sector s are fully written in path id.
// Declaring again is harmless; declaring as primary upgrades a copy, declaring as non-primary keeps a primary.
func (i *Index) StorageDeclareSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType, primary bool) error {
	return i.StorageDeclareSectors(ctx, id, []storiface.Decl{{SectorID: s, SectorFileType: ft}}, primary)
}

// StorageDeclareSectors declares many files in path id in one transaction (all or none).
func (i *Index) StorageDeclareSectors(ctx context.Context, id storiface.ID, decls []storiface.Decl, primary bool) error {
	for _, d := range decls {
		if err := checkTypes(d.SectorFileType); err != nil {
			return fmt.Errorf("declaring %s in %s: %w", storiface.SectorName(d.SectorID), id, err)
		}
	}
	i.wmu.Lock()
	defer i.wmu.Unlock()
	e, ok := i.stores[id]
	if !ok {
		return fmt.Errorf("declaring sectors in %s: %w", id, ErrStorageNotFound)
	}
	err := i.inTx(ctx, func(tx *sql.Tx) error {
		stmt, err := tx.PrepareContext(ctx, i.db.Rebind(`INSERT INTO sector_files
			(storage_id, miner, number, file_type, is_primary) VALUES (?, ?, ?, ?, ?)
			ON CONFLICT (miner, number, file_type, storage_id) DO UPDATE SET is_primary = excluded.is_primary`))
		if err != nil {
			return err
		}
		defer stmt.Close()
		for _, d := range decls {
			cur := i.findDecl(d.SectorID, id)
			for _, t := range d.SectorFileType.All() {
				p := primary || cur.primary.Has(t)
				if _, err := stmt.ExecContext(ctx, string(id), uint64(d.Miner), uint64(d.Number), int(t), boolInt(p)); err != nil {
					return err
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("declaring %d sector files in %s: %w", len(decls), id, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for _, d := range decls {
		i.declareMem(e, id, d.SectorID, d.SectorFileType, primary)
	}
	return nil
}

func boolInt(b bool) int {
	if b {
		return 1
	}
	return 0
}

// findDecl returns path id's declarations of sector s (zero if none).
func (i *Index) findDecl(s abi.SectorID, id storiface.ID) declEntry {
	for _, d := range i.sectors[s] {
		if d.storage == id {
			return d
		}
	}
	return declEntry{}
}

// declareMem adds a declaration to the in-memory copy (under i.mu).
func (i *Index) declareMem(e *storeEntry, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType, primary bool) {
	decls := i.sectors[s]
	for k := range decls {
		if decls[k].storage == id {
			e.files += bits.OnesCount(uint(ft &^ decls[k].types))
			decls[k].types |= ft
			if primary {
				decls[k].primary |= ft
			}
			return
		}
	}
	d := declEntry{storage: id, types: ft}
	if primary {
		d.primary = ft
	}
	e.files += bits.OnesCount(uint(ft))
	i.sectors[s] = append(decls, d)
}

// setDecls replaces a sector's declarations, deleting the key when none are left (under i.mu).
func (i *Index) setDecls(s abi.SectorID, decls []declEntry) {
	if len(decls) == 0 {
		delete(i.sectors, s)
		return
	}
	i.sectors[s] = decls
}

// StorageDropSector forgets the declarations of the types in ft of sector s in path id (absent ones are ignored).
func (i *Index) StorageDropSector(ctx context.Context, id storiface.ID, s abi.SectorID, ft storiface.SectorFileType) error {
	if err := checkTypes(ft); err != nil {
		return fmt.Errorf("dropping %s in %s: %w", storiface.SectorName(s), id, err)
	}
	i.wmu.Lock()
	defer i.wmu.Unlock()
	err := i.inTx(ctx, func(tx *sql.Tx) error {
		for _, t := range ft.All() {
			if _, err := tx.ExecContext(ctx, i.db.Rebind(`DELETE FROM sector_files
				WHERE miner = ? AND number = ? AND file_type = ? AND storage_id = ?`),
				uint64(s.Miner), uint64(s.Number), int(t), string(id)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("dropping %s of %s in %s: %w", ft, storiface.SectorName(s), id, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	decls := i.sectors[s]
	for k := range decls {
		if decls[k].storage != id {
			continue
		}
		if e, ok := i.stores[id]; ok {
			e.files -= bits.OnesCount(uint(decls[k].types & ft))
		}
		decls[k].types &^= ft
		decls[k].primary &^= ft
	}
	i.setDecls(s, slices.DeleteFunc(decls, func(d declEntry) bool { return d.types == storiface.FTNone }))
	return nil
}

// StorageFindSector lists the paths that hold any type of ft of sector s: healthy paths first, then primary
// copies, then by weight (the path's weight times the number of requested types it holds), highest first. URLs
// point at the file when ft is a single type. With allowFetch it appends the healthy paths that could receive the
// files (kind, file-type and miner filters, the sources' AllowTo groups, room for SealSpaceUse (sealing paths)
// or StoreSpaceUse), with weight 0, best allocation score first, and only BaseURLs (the file is not there).
func (i *Index) StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error) {
	if err := checkTypes(ft); err != nil {
		return nil, fmt.Errorf("finding %s: %w", storiface.SectorName(s), err)
	}
	i.mu.RLock()
	defer i.mu.RUnlock()
	now := i.now()
	suffix := ""
	if ft.Single() {
		suffix = "/" + ft.String() + "/" + storiface.SectorName(s)
	}

	var out []storiface.SectorStorageInfo
	var healthy []bool
	var allowTo map[string]bool // nil: fetching allowed to any group
	anyGroup := false
	for _, d := range i.sectors[s] {
		n := bits.OnesCount(uint(d.types & ft))
		e, ok := i.stores[d.storage]
		if n == 0 || !ok {
			continue
		}
		out = append(out, i.sectorInfo(e, suffix, e.info.Weight*uint64(n), d.primary&ft != 0))
		healthy = append(healthy, i.healthy(e, now) == "")
		if len(e.info.AllowTo) == 0 {
			anyGroup = true
		}
		for _, g := range e.info.AllowTo {
			if allowTo == nil {
				allowTo = map[string]bool{}
			}
			allowTo[g] = true
		}
	}
	sortFound(out, healthy)
	if !allowFetch {
		return out, nil
	}
	if anyGroup || len(out) == 0 {
		allowTo = nil
	}
	return append(out, i.fetchTargets(s, ft, ssize, out, allowTo, now)...), nil
}

// sortFound orders found locations: healthy, primary, weight (descending), then ID for a stable answer.
func sortFound(out []storiface.SectorStorageInfo, healthy []bool) {
	idx := make([]int, len(out))
	for k := range idx {
		idx[k] = k
	}
	sort.SliceStable(idx, func(a, b int) bool {
		x, y := idx[a], idx[b]
		if healthy[x] != healthy[y] {
			return healthy[x]
		}
		if out[x].Primary != out[y].Primary {
			return out[x].Primary
		}
		if out[x].Weight != out[y].Weight {
			return out[x].Weight > out[y].Weight
		}
		return out[x].ID < out[y].ID
	})
	sorted := make([]storiface.SectorStorageInfo, len(out))
	for k, j := range idx {
		sorted[k] = out[j]
	}
	copy(out, sorted)
}

// sectorInfo builds a FindSector entry for path e.
func (i *Index) sectorInfo(e *storeEntry, suffix string, weight uint64, primary bool) storiface.SectorStorageInfo {
	si := storiface.SectorStorageInfo{
		ID: e.info.ID, BaseURLs: e.baseURLs, Weight: weight,
		CanSeal: e.info.CanSeal, CanStore: e.info.CanStore, Primary: primary, Fresh: e.lastHeartbeat,
	}
	if suffix != "" {
		si.URLs = make([]string, len(e.baseURLs))
		for k, u := range e.baseURLs {
			si.URLs[k] = u + suffix
		}
	}
	return si
}

// fetchTargets lists the healthy paths (not already holding the file) that may receive it.
func (i *Index) fetchTargets(s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, have []storiface.SectorStorageInfo, allowTo map[string]bool, now time.Time) []storiface.SectorStorageInfo {
	needSeal, needStore := spaceUse(ft, ssize, storiface.PathSealing), spaceUse(ft, ssize, storiface.PathStorage)
	out := make([]storiface.SectorStorageInfo, 0, len(i.order))
	for _, e := range i.order { // already best first
		id := e.info.ID
		pt, need := storiface.PathStorage, needStore
		if e.info.CanSeal {
			pt, need = storiface.PathSealing, needSeal
		}
		if i.check(e, ft, need, pt, s.Miner, now, true) != accepted {
			continue
		}
		if slices.ContainsFunc(have, func(si storiface.SectorStorageInfo) bool { return si.ID == id }) {
			continue
		}
		if allowTo != nil && !slices.ContainsFunc(e.info.Groups, func(g string) bool { return allowTo[g] }) {
			continue
		}
		out = append(out, i.sectorInfo(e, "", 0, false)) // no file there yet: BaseURLs only
	}
	return out
}

// rejection says why a path cannot take new files; every filter has one, so "no path found" always says why.
type rejection uint8

const (
	accepted rejection = iota
	rejectKind
	rejectType
	rejectMiner
	rejectHealth
	rejectSpace
)

// check returns why path e cannot take new files ft of miner (need bytes, kind pt), or accepted. anyType accepts
// a path that takes at least one type of ft (fetch targets) instead of all of them. It does not allocate.
func (i *Index) check(e *storeEntry, ft storiface.SectorFileType, need int64, pt storiface.PathType, miner abi.ActorID, now time.Time, anyType bool) rejection {
	switch {
	case pt == storiface.PathSealing && !e.info.CanSeal, pt == storiface.PathStorage && !e.info.CanStore:
		return rejectKind
	case anyType && e.allowed&ft == 0, !anyType && e.allowed&ft != ft:
		return rejectType
	case !e.minerOK(miner):
		return rejectMiner
	case now.Sub(e.lastHeartbeat) > i.staleAfter || e.heartbeatErr != "":
		return rejectHealth
	case e.stat.FSAvailable < need:
		return rejectSpace
	}
	return accepted
}

// describe renders a rejection for an operator.
func (i *Index) describe(r rejection, e *storeEntry, ft storiface.SectorFileType, need int64, pt storiface.PathType, miner abi.ActorID, now time.Time) string {
	switch r {
	case rejectKind:
		return fmt.Sprintf("not a %s path", pt)
	case rejectType:
		return fmt.Sprintf("file type %s not allowed", ft&^e.allowed)
	case rejectMiner:
		return fmt.Sprintf("miner %d not allowed", miner)
	case rejectHealth:
		return i.healthy(e, now)
	case rejectSpace:
		return fmt.Sprintf("needs %d bytes, has %d", need, e.stat.FSAvailable)
	}
	return "accepted"
}

// scoreCmp orders paths best first: weight × free bytes (compared in 128 bits), then free bytes, then ID.
func scoreCmp(a, b *storeEntry) int {
	ah, al := bits.Mul64(a.info.Weight, uint64(max(a.stat.FSAvailable, 0)))
	bh, bl := bits.Mul64(b.info.Weight, uint64(max(b.stat.FSAvailable, 0)))
	if ah != bh {
		return cmp.Compare(bh, ah)
	}
	if al != bl {
		return cmp.Compare(bl, al)
	}
	if a.stat.FSAvailable != b.stat.FSAvailable {
		return cmp.Compare(b.stat.FSAvailable, a.stat.FSAvailable)
	}
	return cmp.Compare(a.info.ID, b.info.ID)
}

// unorder removes e from i.order (under i.mu).
func (i *Index) unorder(e *storeEntry) {
	if k := slices.Index(i.order, e); k >= 0 {
		i.order = slices.Delete(i.order, k, k+1)
	}
}

// reorder puts e at its place in i.order after its weight or figures changed (under i.mu). Keeping the order
// up to date on each heartbeat (a binary search and a move of pointers) spares every allocation query a sort.
func (i *Index) reorder(e *storeEntry) {
	i.unorder(e)
	k, _ := slices.BinarySearchFunc(i.order, e, scoreCmp)
	i.order = slices.Insert(i.order, k, e)
}

// StorageBestAlloc lists the healthy paths of kind pathType that accept every type in allocate for miner and
// report room for its SealSpaceUse (sealing) or StoreSpaceUse (storage), best first by weight × free bytes.
// When none qualifies, the error (code ErrTempAllocateSpace) lists why each path was refused.
func (i *Index) StorageBestAlloc(ctx context.Context, allocate storiface.SectorFileType, ssize abi.SectorSize, pathType storiface.PathType, miner abi.ActorID) ([]storiface.StorageInfo, error) {
	if err := checkTypes(allocate); err != nil {
		return nil, fmt.Errorf("best allocation: %w", err)
	}
	if pathType != storiface.PathSealing && pathType != storiface.PathStorage {
		return nil, storiface.Errf(storiface.ErrBadInput, "best allocation: path type %q: accepted are sealing, storage", pathType)
	}
	need := spaceUse(allocate, ssize, pathType)
	i.mu.RLock()
	defer i.mu.RUnlock()
	now := i.now()
	n := 0
	for _, e := range i.order {
		if i.check(e, allocate, need, pathType, miner, now, false) == accepted {
			n++
		}
	}
	out := make([]storiface.StorageInfo, 0, n)
	for _, e := range i.order { // already best first
		if i.check(e, allocate, need, pathType, miner, now, false) == accepted {
			out = append(out, e.info)
		}
	}
	if len(out) == 0 {
		var reasons []string
		for id, e := range i.stores {
			r := i.check(e, allocate, need, pathType, miner, now, false)
			reasons = append(reasons, string(id)+": "+i.describe(r, e, allocate, need, pathType, miner, now))
		}
		sort.Strings(reasons)
		if len(reasons) > 20 {
			reasons = append(reasons[:20], fmt.Sprintf("… and %d more", len(reasons)-20))
		}
		if len(reasons) == 0 {
			reasons = []string{"no storage path is attached"}
		}
		return nil, storiface.Errf(storiface.ErrTempAllocateSpace, "no %s path can take %s of miner %d (%d bytes): %s",
			pathType, allocate, miner, need, strings.Join(reasons, "; "))
	}
	return out, nil
}
