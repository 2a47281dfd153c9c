package sched

import (
	"context"
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// moveSelector accepts workers that can move a sector's files into a path of the destination kind.
type moveSelector struct {
	idx         Index
	sector      abi.SectorID
	alloc       storiface.SectorFileType
	destPtype   storiface.PathType
	miner       abi.ActorID
	allowRemote bool

	memoPass uint64
	memoSpt  abi.RegisteredSealProof
	have     map[storiface.ID]struct{}
	best     []storiface.StorageInfo
	need     uint64
	memoErr  error
}

// NewMoveSelector returns a selector for moving a sector's files of the types in alloc to long-term storage
// (destPtype). A worker passes when one of its paths is among the index's best destination paths with room and
// either it holds the files locally (a local move, score 1) or allowRemote is set (it fetches them, score 0.5).
func NewMoveSelector(idx Index, sector abi.SectorID, alloc storiface.SectorFileType, destPtype storiface.PathType,
	miner abi.ActorID, allowRemote bool) Selector {
	return &moveSelector{idx: idx, sector: sector, alloc: alloc, destPtype: destPtype, miner: miner, allowRemote: allowRemote}
}

var (
	_ Selector     = (*moveSelector)(nil)
	_ SpaceClaimer = (*moveSelector)(nil)
)

func (s *moveSelector) load(ctx context.Context, spt abi.RegisteredSealProof, pass uint64) error {
	if s.memoPass == pass && s.memoSpt == spt && pass != 0 {
		return s.memoErr
	}
	s.memoPass, s.memoSpt, s.memoErr = pass, spt, nil
	s.have = map[storiface.ID]struct{}{}
	ssize, err := spt.SectorSize()
	if err != nil {
		s.memoErr = fmt.Errorf("sector size of proof %d: %w", spt, err)
		return s.memoErr
	}
	found, err := s.idx.StorageFindSector(ctx, s.sector, s.alloc, ssize, false)
	if err != nil {
		s.memoErr = fmt.Errorf("finding %s of %s: %w", s.alloc, storiface.SectorName(s.sector), err)
		return s.memoErr
	}
	for _, si := range found {
		s.have[si.ID] = struct{}{}
	}
	s.best, err = s.idx.StorageBestAlloc(ctx, s.alloc, ssize, s.destPtype, s.miner)
	if err != nil {
		s.memoErr = fmt.Errorf("finding best %s paths for %s: %w", s.destPtype, s.alloc, err)
		return s.memoErr
	}
	s.need = s.alloc.StoreSpaceUse(ssize)
	if s.destPtype == storiface.PathSealing {
		s.need = s.alloc.SealSpaceUse(ssize)
	}
	return nil
}

func (s *moveSelector) holds(w *WorkerHandle) bool {
	for _, p := range w.Paths() {
		if _, ok := s.have[p.ID]; ok {
			return true
		}
	}
	return false
}

// dest returns the worker's best destination path with room, or a reason.
func (s *moveSelector) dest(ctx context.Context, w *WorkerHandle) (storiface.ID, string, error) {
	reason := fmt.Sprintf("none of the worker's paths is among the index's best %s paths for %s", s.destPtype, s.alloc)
	for _, si := range s.best {
		if !w.HasPath(si.ID) {
			continue
		}
		if _, held := s.have[si.ID]; held {
			return si.ID, "", nil // already there: nothing to move, no space needed
		}
		ok, why, err := hasRoom(ctx, s.idx, si.ID, s.need, w)
		if err != nil {
			return "", "", err
		}
		if ok {
			return si.ID, "", nil
		}
		reason = why
	}
	return "", reason, nil
}

// Filter implements Selector.
func (s *moveSelector) Filter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) (bool, string, error) {
	if !w.Supports(task) {
		return false, fmt.Sprintf("task type %s not in the worker's task list", task.Short()), nil
	}
	if err := s.load(ctx, spt, w.Pass()); err != nil {
		return false, "", err
	}
	id, reason, err := s.dest(ctx, w)
	if err != nil || id == "" {
		return false, reason, err
	}
	if !s.allowRemote && !s.holds(w) {
		return false, fmt.Sprintf("%s of %s not in the worker's paths (remote move not allowed)", s.alloc,
			storiface.SectorName(s.sector)), nil
	}
	return true, "", nil
}

// Score implements Selector: 1 for a local move, 0.5 when the files must be fetched first.
func (s *moveSelector) Score(ctx context.Context, _ storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) float64 {
	if s.load(ctx, spt, w.Pass()) == nil && s.holds(w) {
		return 1
	}
	return 0.5
}

// Claim implements SpaceClaimer: the destination path's space, unless the files are already there.
func (s *moveSelector) Claim(ctx context.Context, _ storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) []SpaceClaim {
	if s.load(ctx, spt, w.Pass()) != nil {
		return nil
	}
	id, _, err := s.dest(ctx, w)
	if err != nil || id == "" {
		return nil
	}
	if _, held := s.have[id]; held {
		return nil
	}
	return []SpaceClaim{{Path: id, Bytes: s.need}}
}
