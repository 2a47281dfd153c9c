package manager

import (
	"context"
	"fmt"
	"io"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/sched"
	"sealfleet/storiface"
)

// Each op below is a workSpec run through runWork: the selector and prepare step follow the reference (AP alloc
// or existing; PC1 alloc + fetch unsealed; PC2 existing with fetch; C1 existing; C2 any worker; FIN existing,
// then a move to a storage path; UNS existing, then a move).

// AddPiece writes a piece into the sector: the first piece goes to a worker with room for a new unsealed file,
// later ones to the worker holding it.
func (m *Manager) AddPiece(ctx context.Context, sector storiface.SectorRef, existing []abi.UnpaddedPieceSize,
	size abi.UnpaddedPieceSize, data storiface.PieceData) (abi.PieceInfo, error) {
	var sel sched.Selector
	if len(existing) == 0 {
		sel = sched.NewAllocSelector(m.deps.Index, storiface.FTUnsealed, storiface.PathSealing)
	} else {
		sel = sched.NewExistingSelector(m.deps.Index, sector.ID, storiface.FTUnsealed, false)
	}
	return runWork[abi.PieceInfo](ctx, m, workSpec{
		task: storiface.TTAddPiece, sector: sector, params: []any{existing, size, data},
		lockWrite: storiface.FTUnsealed, sel: sel,
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.AddPiece(ctx, sector, existing, size, data)
		},
	})
}

// SealPreCommit1 runs PC1 on a worker with room for the sealed and cache files, fetching the unsealed file.
func (m *Manager) SealPreCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness,
	pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	return runWork[storiface.PreCommit1Out](ctx, m, workSpec{
		task: storiface.TTPreCommit1, sector: sector, params: []any{ticket, pieces},
		lockRead: storiface.FTUnsealed, lockWrite: storiface.FTSealed | storiface.FTCache,
		sel:     sched.NewAllocSelector(m.deps.Index, storiface.FTCache|storiface.FTSealed, storiface.PathSealing),
		prepare: m.fetchPrep(sector, storiface.FTUnsealed, storiface.PathSealing, storiface.AcquireMove),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.SealPreCommit1(ctx, sector, ticket, pieces)
		},
	})
}

// SealPreCommit2 runs PC2 where the sealed and cache files are, or fetches them.
func (m *Manager) SealPreCommit2(ctx context.Context, sector storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.SectorCids, error) {
	return runWork[storiface.SectorCids](ctx, m, workSpec{
		task: storiface.TTPreCommit2, sector: sector, params: []any{pc1o},
		lockRead: storiface.FTSealed, lockWrite: storiface.FTCache,
		sel:     sched.NewExistingSelector(m.deps.Index, sector.ID, storiface.FTCache|storiface.FTSealed, true),
		prepare: m.fetchPrep(sector, storiface.FTCache|storiface.FTSealed, storiface.PathSealing, storiface.AcquireMove),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.SealPreCommit2(ctx, sector, pc1o)
		},
	})
}

// SealCommit1 runs C1 where the sealed and cache files are.
func (m *Manager) SealCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness,
	seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.Commit1Out, error) {
	return runWork[storiface.Commit1Out](ctx, m, workSpec{
		task: storiface.TTCommit1, sector: sector, params: []any{ticket, seed, pieces, cids},
		lockRead: storiface.FTSealed, lockWrite: storiface.FTCache,
		sel:     sched.NewExistingSelector(m.deps.Index, sector.ID, storiface.FTCache|storiface.FTSealed, false),
		prepare: m.fetchPrep(sector, storiface.FTCache|storiface.FTSealed, storiface.PathSealing, storiface.AcquireMove),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.SealCommit1(ctx, sector, ticket, seed, pieces, cids)
		},
	})
}

// SealCommit2 runs C2 on any worker that accepts it (it needs no sector files).
func (m *Manager) SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.Proof, error) {
	return runWork[storiface.Proof](ctx, m, workSpec{
		task: storiface.TTCommit2, sector: sector, params: []any{c1o},
		sel: sched.NewTaskSelector(),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.SealCommit2(ctx, sector, c1o)
		},
	})
}

// FinalizeSector trims the cache where it is. It does not move anything: moving sealed and cache (and unsealed
// for deal sectors) to long-term storage is MoveStorage, which the pipeline runs as its own persisted step.
func (m *Manager) FinalizeSector(ctx context.Context, sector storiface.SectorRef) error {
	_, err := runWork[struct{}](ctx, m, workSpec{
		task: storiface.TTFinalize, sector: sector,
		lockWrite: storiface.FTSealed | storiface.FTCache,
		sel:       sched.NewExistingSelector(m.deps.Index, sector.ID, storiface.FTCache, false),
		prepare:   m.fetchPrep(sector, storiface.FTCache, storiface.PathSealing, storiface.AcquireMove),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.FinalizeSector(ctx, sector)
		},
	})
	return err
}

// MoveStorage moves the types to a long-term storage path, on a worker that can reach one.
func (m *Manager) MoveStorage(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType) error {
	_, err := runWork[struct{}](ctx, m, workSpec{
		task: storiface.TTFetch, sector: sector, params: []any{"move", types},
		lockWrite: types,
		sel:       sched.NewMoveSelector(m.deps.Index, sector.ID, types, storiface.PathStorage, sector.ID.Miner, true),
		prepare:   m.fetchPrep(sector, types, storiface.PathStorage, storiface.AcquireMove),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.MoveStorage(ctx, sector, types)
		},
	})
	return err
}

// ReleaseUnsealed drops the unsealed file everywhere when keep is empty. With keep ranges it runs ReleaseUnsealed
// on a worker holding the file, which frees everything outside the ranges in its copy and keeps the file in place
// (other copies, if any, are left whole). A sector without an unsealed file has nothing to release.
func (m *Manager) ReleaseUnsealed(ctx context.Context, sector storiface.SectorRef, keep []storiface.Range) error {
	if len(keep) > 0 {
		return m.trimUnsealed(ctx, sector, keep)
	}
	lctx, unlock := context.WithCancel(ctx)
	defer unlock()
	if err := m.deps.Index.StorageLock(lctx, sector.ID, storiface.FTNone, storiface.FTUnsealed); err != nil {
		return fmt.Errorf("locking unsealed of %s: %w", sector, err)
	}
	if err := m.deps.Store.Remove(lctx, sector.ID, storiface.FTUnsealed, true, nil); err != nil {
		return fmt.Errorf("releasing unsealed of %s: %w", sector, err)
	}
	return nil
}

// UnsealPiece unseals a range where the sealed file is (fetching it if needed), then moves the unsealed file to
// a storage path. It does nothing if an unsealed file is already declared.
func (m *Manager) UnsealPiece(ctx context.Context, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex,
	size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error {
	if err := offset.Valid(); err != nil {
		return storiface.Errf(storiface.ErrBadInput, "unseal %s: offset: %v", sector, err)
	}
	have, err := m.deps.Index.StorageFindSector(ctx, sector.ID, storiface.FTUnsealed, 0, false)
	if err != nil {
		return fmt.Errorf("finding unsealed of %s: %w", sector, err)
	}
	if len(have) > 0 {
		return nil
	}
	_, err = runWork[struct{}](ctx, m, workSpec{
		task: storiface.TTUnseal, sector: sector, params: []any{offset, size, ticket, commD},
		lockRead: storiface.FTSealed | storiface.FTCache, lockWrite: storiface.FTUnsealed,
		sel:     sched.NewExistingSelector(m.deps.Index, sector.ID, storiface.FTSealed|storiface.FTCache, true),
		prepare: m.fetchPrep(sector, storiface.FTSealed|storiface.FTCache, storiface.PathSealing, storiface.AcquireCopy),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.UnsealPiece(ctx, sector, offset, size, ticket, commD)
		},
	})
	if err != nil {
		return err
	}
	return m.MoveStorage(ctx, sector, storiface.FTUnsealed)
}

// ReadPiece writes the original bytes of a range of the sector to w, unsealing first if needed. The unsealed file
// is read on this node (fetched if it lives elsewhere) with the manager's backend.
func (m *Manager) ReadPiece(ctx context.Context, w io.Writer, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex,
	size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) error {
	if m.deps.Backend == nil {
		return errNoBackend
	}
	if err := m.UnsealPiece(ctx, sector, offset, size, ticket, commD); err != nil {
		return err
	}
	lctx, unlock := context.WithCancel(ctx)
	defer unlock()
	if err := m.deps.Index.StorageLock(lctx, sector.ID, storiface.FTUnsealed, storiface.FTNone); err != nil {
		return fmt.Errorf("locking unsealed of %s: %w", sector, err)
	}
	paths, _, err := m.deps.Store.AcquireSector(lctx, sector, storiface.FTUnsealed, storiface.FTNone,
		storiface.PathStorage, storiface.AcquireCopy)
	if err != nil {
		return fmt.Errorf("acquiring unsealed of %s: %w", sector, err)
	}
	if err := m.deps.Backend.ReadPiece(lctx, w, sector, paths, offset, size); err != nil {
		return fmt.Errorf("reading %d bytes at %d of %s: %w", size, offset, sector, err)
	}
	return nil
}

// Remove deletes every file of the sector everywhere, holding write locks on all of them.
func (m *Manager) Remove(ctx context.Context, sector storiface.SectorRef) error {
	lctx, unlock := context.WithCancel(ctx)
	defer unlock()
	all := storiface.FTUnsealed | storiface.FTSealed | storiface.FTCache | storiface.FTUpdate | storiface.FTUpdateCache
	if err := m.deps.Index.StorageLock(lctx, sector.ID, storiface.FTNone, all); err != nil {
		return fmt.Errorf("locking %s for removal: %w", sector, err)
	}
	for _, t := range all.All() {
		if err := m.deps.Store.Remove(lctx, sector.ID, t, true, nil); err != nil {
			return fmt.Errorf("removing %s of %s: %w", t, sector, err)
		}
	}
	return nil
}

// trimUnsealed schedules the worker-side ReleaseUnsealed with keep ranges where the unsealed file is.
func (m *Manager) trimUnsealed(ctx context.Context, sector storiface.SectorRef, keep []storiface.Range) error {
	have, err := m.deps.Index.StorageFindSector(ctx, sector.ID, storiface.FTUnsealed, 0, false)
	if err != nil {
		return fmt.Errorf("finding unsealed of %s: %w", sector, err)
	}
	if len(have) == 0 {
		m.log.Info("no unsealed file to trim", "sector", sector, "keep_ranges", len(keep))
		return nil
	}
	ptype := storiface.PathStorage
	for _, h := range have {
		if h.CanSeal {
			ptype = storiface.PathSealing
			break
		}
	}
	_, err = runWork[struct{}](ctx, m, workSpec{
		task: storiface.TTFinalizeUnsealed, sector: sector, params: []any{"release", keep},
		lockWrite: storiface.FTUnsealed,
		sel:       sched.NewExistingSelector(m.deps.Index, sector.ID, storiface.FTUnsealed, false),
		prepare:   m.fetchPrep(sector, storiface.FTUnsealed, ptype, storiface.AcquireMove),
		call: func(ctx context.Context, w sched.Worker) (storiface.CallID, error) {
			return w.ReleaseUnsealed(ctx, sector, keep)
		},
	})
	if err != nil {
		return fmt.Errorf("trimming unsealed of %s to %d keep ranges: %w", sector, len(keep), err)
	}
	return nil
}
