package stores

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"syscall"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

var _ Store = (*Local)(nil)

// AcquireSector returns the local paths of the existing types that this node holds (types it does not hold are
// left empty: Remote fetches them) and, for the allocate types, a path in the best local path of kind pt that has
// room now (not reserved: call Reserve, or use AllocateAndReserve to do both at once). A type cannot be both
// existing and allocated. op is ignored locally.
func (st *Local) AcquireSector(ctx context.Context, s storiface.SectorRef, existing, allocate storiface.SectorFileType, pt storiface.PathType, op storiface.AcquireMode) (paths, ids storiface.SectorPaths, err error) {
	if existing&allocate != 0 {
		return paths, ids, storiface.Errf(storiface.ErrBadInput, "acquiring %s: %s both existing and allocated", s, existing&allocate)
	}
	paths.ID, ids.ID = s.ID, s.ID
	for _, t := range (existing | allocate).All() {
		found, err := st.index.StorageFindSector(ctx, s.ID, t, 0, false)
		if err != nil {
			return paths, ids, fmt.Errorf("finding %s of %s: %w", t, s, err)
		}
		for _, si := range found {
			p, err := st.path(si.ID)
			if err != nil {
				continue
			}
			if allocate.Has(t) && !pathFits(p.getMeta(), t, pt, s.ID.Miner) {
				continue // a leftover in a path of another kind: allocate anew
			}
			paths.SetPathByType(t, p.sectorPath(s.ID, t))
			ids.SetPathByType(t, string(si.ID))
			allocate &^= t
			break
		}
	}
	if allocate == storiface.FTNone {
		return paths, ids, nil
	}
	ssize, err := s.ProofType.SectorSize()
	if err != nil {
		return paths, ids, fmt.Errorf("allocating for %s: proof type: %w", s, err)
	}
	for _, t := range allocate.All() {
		p, err := st.bestWithRoom(ctx, s.ID, t, ssize, pt)
		if err != nil {
			return storiface.SectorPaths{}, storiface.SectorPaths{}, err
		}
		paths.SetPathByType(t, p.sectorPath(s.ID, t))
		ids.SetPathByType(t, string(p.id))
	}
	return paths, ids, nil
}

// pathFits reports whether a path's settings accept file type t of miner's sectors for kind pt.
func pathFits(m LocalStorageMeta, t storiface.SectorFileType, pt storiface.PathType, miner abi.ActorID) bool {
	if (pt == storiface.PathSealing && !m.CanSeal) || (pt == storiface.PathStorage && !m.CanStore) {
		return false
	}
	return t.SubAllowed(m.AllowTypes, m.DenyTypes) == t && minerAllowed(m.AllowMiners, m.DenyMiners, miner)
}

// bestWithRoom returns the first local path in the index's ranking that has room for t now.
func (st *Local) bestWithRoom(ctx context.Context, s abi.SectorID, t storiface.SectorFileType, ssize abi.SectorSize, pt storiface.PathType) (*path, error) {
	cands, err := st.index.StorageBestAlloc(ctx, t, ssize, pt, s.Miner)
	if err != nil {
		return nil, fmt.Errorf("finding a %s path for %s of %s: %w", pt, t, storiface.SectorName(s), err)
	}
	need := spaceUse(t, ssize, pt)
	for _, c := range cands {
		p, err := st.path(c.ID)
		if err != nil || !pathFits(p.getMeta(), t, pt, s.Miner) {
			continue
		}
		fst, err := p.stat(st.ls, false)
		if err != nil || fst.FSAvailable < need {
			continue
		}
		return p, nil
	}
	return nil, storiface.Errf(storiface.ErrTempAllocateSpace, "allocating %s of %s: no local %s path has %d bytes free",
		t, storiface.SectorName(s), pt, need)
}

// Remove deletes the local copies of the given types of sector s, except in the paths of keepIn, dropping each
// declaration before its file. Without force, a type declared nowhere is an error.
func (st *Local) Remove(ctx context.Context, s abi.SectorID, types storiface.SectorFileType, force bool, keepIn []storiface.ID) error {
	for _, t := range types.All() {
		found, err := st.index.StorageFindSector(ctx, s, t, 0, false)
		if err != nil {
			return fmt.Errorf("finding %s of %s: %w", t, storiface.SectorName(s), err)
		}
		if len(found) == 0 && !force {
			return fmt.Errorf("removing %s of %s: declared nowhere", t, storiface.SectorName(s))
		}
		for _, si := range found {
			if slices.Contains(keepIn, si.ID) {
				continue
			}
			if err := st.removeFile(ctx, s, t, si.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveCopies deletes the local non-primary copies of the types, but only where a primary copy exists.
func (st *Local) RemoveCopies(ctx context.Context, s abi.SectorID, types storiface.SectorFileType) error {
	for _, t := range types.All() {
		found, err := st.index.StorageFindSector(ctx, s, t, 0, false)
		if err != nil {
			return fmt.Errorf("finding %s of %s: %w", t, storiface.SectorName(s), err)
		}
		if !slices.ContainsFunc(found, func(si storiface.SectorStorageInfo) bool { return si.Primary }) {
			st.log.Warn("not removing copies: no primary copy", "sector", storiface.SectorName(s), "type", t)
			continue
		}
		for _, si := range found {
			if si.Primary {
				continue
			}
			if err := st.removeFile(ctx, s, t, si.ID); err != nil {
				return err
			}
		}
	}
	return nil
}

// removeFile drops the declaration of a local file and deletes it; paths of other nodes are ignored.
func (st *Local) removeFile(ctx context.Context, s abi.SectorID, t storiface.SectorFileType, id storiface.ID) error {
	p, err := st.path(id)
	if err != nil {
		return nil
	}
	if err := st.index.StorageDropSector(ctx, id, s, t); err != nil {
		return fmt.Errorf("dropping %s of %s in %s: %w", t, storiface.SectorName(s), id, err)
	}
	name := p.sectorPath(s, t)
	err = os.RemoveAll(name)
	p.invalidateUsed()
	if err != nil {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	st.log.Info("removed sector file", "path", name, "storage", id)
	st.triggerReport()
	return nil
}

// MoveStorage moves the local files of the given types that sit in paths that cannot store into the best local
// storage path, reserving space there first. The destination is declared primary only once the move is complete;
// if the move fails the source declaration is restored.
func (st *Local) MoveStorage(ctx context.Context, s storiface.SectorRef, types storiface.SectorFileType) error {
	src, srcIDs, err := st.AcquireSector(ctx, s, types, storiface.FTNone, storiface.PathStorage, storiface.AcquireMove)
	if err != nil {
		return fmt.Errorf("moving %s: finding sources: %w", s, err)
	}
	for _, t := range types.All() {
		from := src.PathByType(t)
		if from == "" {
			return fmt.Errorf("moving %s of %s: not on this node", t, s)
		}
		srcID := storiface.ID(srcIDs.PathByType(t))
		sp, err := st.path(srcID)
		if err != nil {
			return err
		}
		if sp.getMeta().CanStore {
			continue // already in a storage path
		}
		if err := st.moveOne(ctx, s, t, sp, from); err != nil {
			return err
		}
	}
	return nil
}

func (st *Local) moveOne(ctx context.Context, s storiface.SectorRef, t storiface.SectorFileType, sp *path, from string) error {
	dst, dstIDs, release, err := st.AllocateAndReserve(ctx, s, t, storiface.PathStorage)
	if err != nil {
		return fmt.Errorf("moving %s of %s: %w", t, s, err)
	}
	defer release()
	to, dstID := dst.PathByType(t), storiface.ID(dstIDs.PathByType(t))
	if err := st.index.StorageDropSector(ctx, sp.id, s.ID, t); err != nil {
		return fmt.Errorf("moving %s of %s: dropping source: %w", t, s, err)
	}
	dp, err := st.path(dstID)
	if err != nil {
		return err
	}
	err = movePath(from, to, dp.fetchTempPath(s.ID, t))
	sp.invalidateUsed()
	if err != nil {
		if derr := st.index.StorageDeclareSector(ctx, sp.id, s.ID, t, sp.getMeta().CanStore); derr != nil {
			err = errors.Join(err, fmt.Errorf("restoring source declaration: %w", derr))
		}
		return fmt.Errorf("moving %s of %s from %s to %s: %w", t, s, sp.id, dstID, err)
	}
	if err := st.index.StorageDeclareSector(ctx, dstID, s.ID, t, true); err != nil {
		return fmt.Errorf("moving %s of %s: declaring in %s: %w", t, s, dstID, err)
	}
	st.log.Info("moved sector file", "sector", s.String(), "type", t.String(), "from", sp.id, "to", dstID)
	return nil
}

// movePath moves a file or directory: a rename on the same filesystem, otherwise a copy into tmp (on the
// destination's filesystem), a rename of tmp into place and the removal of the source.
func movePath(from, to, tmp string) error {
	if err := ensureParent(to); err != nil {
		return err
	}
	err := os.Rename(from, to)
	if err == nil || !errors.Is(err, syscall.EXDEV) {
		return err
	}
	if err := os.RemoveAll(tmp); err != nil {
		return err
	}
	if err := ensureParent(tmp); err != nil {
		return err
	}
	if err := copyTree(from, tmp); err != nil {
		os.RemoveAll(tmp) //nolint:errcheck // best effort cleanup after a failed copy
		return err
	}
	if err := os.Rename(tmp, to); err != nil {
		os.RemoveAll(tmp) //nolint:errcheck // best effort cleanup after a failed rename
		return err
	}
	return os.RemoveAll(from)
}

// copyTree copies a regular file or a directory of regular files (symlinks and other kinds are refused).
func copyTree(from, to string) error {
	return filepath.WalkDir(from, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		rel, err := filepath.Rel(from, p)
		if err != nil {
			return err
		}
		dst := filepath.Join(to, rel)
		switch {
		case d.IsDir():
			return os.MkdirAll(dst, 0o755)
		case d.Type().IsRegular():
			return copyFile(p, dst)
		default:
			return fmt.Errorf("copying %s: not a regular file or directory", p)
		}
	})
}

func copyFile(from, to string) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.OpenFile(to, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return err
	}
	if _, err := io.Copy(out, in); err != nil { // copy_file_range/sendfile where the kernel allows
		out.Close()
		return fmt.Errorf("copying %s: %w", from, err)
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
