package sched

import (
	"context"
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// allocSelector accepts workers with a local path among the index's best paths for new files of the alloc types.
type allocSelector struct {
	idx   Index
	alloc storiface.SectorFileType
	ptype storiface.PathType

	memoPass uint64
	memoSpt  abi.RegisteredSealProof
	memo     []storiface.StorageInfo
	memoErr  error
}

// NewAllocSelector returns a selector for tasks that create the file types in alloc in a path of kind ptype
// (AddPiece: unsealed in sealing; PC1: sealed|cache in sealing). It accepts a worker when one of its local paths
// is among the index's StorageBestAlloc answer and still has room after the claims pending in the scheduler's
// ledger (see SpaceClaimer and the package doc).
func NewAllocSelector(idx Index, alloc storiface.SectorFileType, ptype storiface.PathType) Selector {
	return &allocSelector{idx: idx, alloc: alloc, ptype: ptype}
}

var (
	_ Selector     = (*allocSelector)(nil)
	_ SpaceClaimer = (*allocSelector)(nil)
	_ Keyed        = (*allocSelector)(nil)
)

func (s *allocSelector) need(ssize abi.SectorSize) uint64 {
	if s.ptype == storiface.PathStorage {
		return s.alloc.StoreSpaceUse(ssize)
	}
	return s.alloc.SealSpaceUse(ssize)
}

// best returns the index's answer, read once per scheduling pass.
func (s *allocSelector) best(ctx context.Context, spt abi.RegisteredSealProof, pass uint64) ([]storiface.StorageInfo, abi.SectorSize, error) {
	ssize, err := spt.SectorSize()
	if err != nil {
		return nil, 0, fmt.Errorf("sector size of proof %d: %w", spt, err)
	}
	if s.memoPass != pass || s.memoSpt != spt || pass == 0 {
		s.memo, s.memoErr = s.idx.StorageBestAlloc(ctx, s.alloc, ssize, s.ptype, 0)
		s.memoPass, s.memoSpt = pass, spt
	}
	if s.memoErr != nil {
		return nil, 0, fmt.Errorf("finding best storage for %s: %w", s.alloc, s.memoErr)
	}
	return s.memo, ssize, nil
}

// pick returns the first of the worker's paths among the best ones that has room, or a reason.
func (s *allocSelector) pick(ctx context.Context, spt abi.RegisteredSealProof, w *WorkerHandle) (storiface.ID, uint64, string, error) {
	best, ssize, err := s.best(ctx, spt, w.Pass())
	if err != nil {
		return "", 0, "", err
	}
	need := s.need(ssize)
	reason := fmt.Sprintf("none of the worker's paths is among the index's best %s paths for %s", s.ptype, s.alloc)
	for _, si := range best {
		if !w.HasPath(si.ID) {
			continue
		}
		ok, why, err := hasRoom(ctx, s.idx, si.ID, need, w)
		if err != nil {
			return "", 0, "", err
		}
		if ok {
			return si.ID, need, "", nil
		}
		reason = why
	}
	return "", 0, reason, nil
}

// hasRoom checks a path against the claims pending in the scheduler's ledger.
func hasRoom(ctx context.Context, idx Index, id storiface.ID, need uint64, w *WorkerHandle) (bool, string, error) {
	pending, count := w.PendingClaims(id)
	if sr, ok := idx.(SpaceReporter); ok {
		st, err := sr.StorageStat(ctx, id)
		if err != nil {
			return false, "", fmt.Errorf("reading free space of path %s: %w", id, err)
		}
		if st.FSAvailable < 0 || uint64(st.FSAvailable) < pending+need {
			return false, fmt.Sprintf("path %s: %d bytes free, %d claimed by %d pending assignment(s), %d needed",
				id, st.FSAvailable, pending, count, need), nil
		}
		return true, "", nil
	}
	if count > 0 {
		return false, fmt.Sprintf("path %s already holds %d pending claim(s) and the index reports no free space",
			id, count), nil
	}
	return true, "", nil
}

// Filter implements Selector.
func (s *allocSelector) Filter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) (bool, string, error) {
	if !w.Supports(task) {
		return false, fmt.Sprintf("task type %s not in the worker's task list", task.Short()), nil
	}
	id, _, reason, err := s.pick(ctx, spt, w)
	if err != nil || id == "" {
		return false, reason, err
	}
	return true, "", nil
}

// Score implements Selector: every accepted worker is as good (the assigner ranks them by load).
func (s *allocSelector) Score(context.Context, storiface.TaskType, abi.RegisteredSealProof, *WorkerHandle) float64 {
	return 1
}

// Claim implements SpaceClaimer: the space of the alloc types in the path Filter picked.
func (s *allocSelector) Claim(ctx context.Context, _ storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) []SpaceClaim {
	id, need, _, err := s.pick(ctx, spt, w)
	if err != nil || id == "" {
		return nil
	}
	return []SpaceClaim{{Path: id, Bytes: need}}
}

// Key implements Keyed: selectors of the same alloc types and path kind decide alike.
func (s *allocSelector) Key() string { return fmt.Sprintf("alloc|%d|%s", int(s.alloc), s.ptype) }
