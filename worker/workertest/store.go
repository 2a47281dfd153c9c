package workertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/stores"
	"sealfleet/storiface"
)

// The IDs of a Store's two paths.
const (
	SealPathID  storiface.ID = "fake-seal"
	StorePathID storiface.ID = "fake-store"
)

// Store is a stores.Store over two directories of a temp dir: a sealing path and a storage path, attached to an
// Index. Existing files must be declared in the index in one of its paths; there is no remote fetch.
type Store struct {
	Root  string
	Index *Index
}

var _ stores.Store = (*Store)(nil)

// NewStore creates the two paths under root and attaches them to idx.
func NewStore(ctx context.Context, root string, idx *Index) (*Store, error) {
	s := &Store{Root: root, Index: idx}
	for _, si := range []storiface.StorageInfo{
		{ID: SealPathID, CanSeal: true, Weight: 10},
		{ID: StorePathID, CanStore: true, Weight: 10},
	} {
		if err := os.MkdirAll(filepath.Join(root, string(si.ID)), 0o755); err != nil {
			return nil, err
		}
		if err := idx.StorageAttach(ctx, si, storiface.FsStat{}); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Local lists the two paths (it implements worker.LocalPaths together with OpenPath, DetachPath, Redeclare).
func (s *Store) Local(context.Context) ([]storiface.StoragePath, error) {
	return []storiface.StoragePath{
		{ID: SealPathID, Weight: 10, LocalPath: filepath.Join(s.Root, string(SealPathID)), CanSeal: true},
		{ID: StorePathID, Weight: 10, LocalPath: filepath.Join(s.Root, string(StorePathID)), CanStore: true},
	}, nil
}

// OpenPath is not supported by the fake.
func (s *Store) OpenPath(context.Context, string) error {
	return fmt.Errorf("fake store: cannot open paths")
}

// DetachPath is not supported by the fake.
func (s *Store) DetachPath(context.Context, string) error {
	return fmt.Errorf("fake store: cannot detach paths")
}

// Redeclare does nothing: the fake's declarations are always current.
func (s *Store) Redeclare(context.Context, *storiface.ID, bool) error { return nil }

func (s *Store) pathOf(id storiface.ID, sector abi.SectorID, t storiface.SectorFileType) string {
	return storiface.SectorPathIn(filepath.Join(s.Root, string(id)), t, sector)
}

// AcquireSector returns the declared local copies of existing types and new sealing-path names for allocate types.
func (s *Store) AcquireSector(ctx context.Context, sector storiface.SectorRef, existing, allocate storiface.SectorFileType,
	_ storiface.PathType, _ storiface.AcquireMode) (storiface.SectorPaths, storiface.SectorPaths, error) {
	paths := storiface.SectorPaths{ID: sector.ID}
	ids := storiface.SectorPaths{ID: sector.ID}
	for _, t := range existing.All() {
		found, err := s.Index.StorageFindSector(ctx, sector.ID, t, 0, false)
		if err != nil {
			return paths, ids, err
		}
		if len(found) == 0 {
			return paths, ids, fmt.Errorf("fake store: %s of %s not found", t, sector)
		}
		paths.SetPathByType(t, s.pathOf(found[0].ID, sector.ID, t))
		ids.SetPathByType(t, string(found[0].ID))
	}
	for _, t := range allocate.All() {
		p := s.pathOf(SealPathID, sector.ID, t)
		if err := os.MkdirAll(filepath.Dir(p), 0o755); err != nil {
			return paths, ids, err
		}
		paths.SetPathByType(t, p)
		ids.SetPathByType(t, string(SealPathID))
	}
	return paths, ids, nil
}

// Reserve reserves nothing: the fake has room.
func (s *Store) Reserve(context.Context, storiface.SectorRef, storiface.SectorFileType, storiface.SectorPaths, storiface.PathType) (func(), error) {
	return func() {}, nil
}

// Remove deletes the files of the types in both paths and drops their declarations.
func (s *Store) Remove(ctx context.Context, sector abi.SectorID, types storiface.SectorFileType, _ bool, _ []storiface.ID) error {
	for _, id := range []storiface.ID{SealPathID, StorePathID} {
		for _, t := range types.All() {
			if err := os.RemoveAll(s.pathOf(id, sector, t)); err != nil {
				return err
			}
			if err := s.Index.StorageDropSector(ctx, id, sector, t); err != nil {
				return err
			}
		}
	}
	return nil
}

// RemoveCopies does nothing: the fake keeps one copy.
func (s *Store) RemoveCopies(context.Context, abi.SectorID, storiface.SectorFileType) error {
	return nil
}

// MoveStorage moves the types from the sealing path to the storage path and re-declares them there.
func (s *Store) MoveStorage(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType) error {
	for _, t := range types.All() {
		from, to := s.pathOf(SealPathID, sector.ID, t), s.pathOf(StorePathID, sector.ID, t)
		if _, err := os.Stat(from); os.IsNotExist(err) {
			continue // already moved
		}
		if err := os.MkdirAll(filepath.Dir(to), 0o755); err != nil {
			return err
		}
		if err := os.Rename(from, to); err != nil {
			return err
		}
		if err := s.Index.StorageDropSector(ctx, SealPathID, sector.ID, t); err != nil {
			return err
		}
		if err := s.Index.StorageDeclareSector(ctx, StorePathID, sector.ID, t, true); err != nil {
			return err
		}
	}
	return nil
}

// FsStat reports zeros.
func (s *Store) FsStat(context.Context, storiface.ID) (storiface.FsStat, error) {
	return storiface.FsStat{}, nil
}
