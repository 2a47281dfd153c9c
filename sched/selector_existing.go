package sched

import (
	"context"
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// existingSelector accepts workers that hold a sector's files, or, with allowFetch, can receive them.
type existingSelector struct {
	idx        Index
	sector     abi.SectorID
	alloc      storiface.SectorFileType
	allowFetch bool

	memoPass  uint64
	memoSpt   abi.RegisteredSealProof
	have      map[storiface.ID]struct{} // paths holding the files
	canFetch  map[storiface.ID]struct{} // paths that could receive them (allowFetch)
	memoError error
}

// NewExistingSelector returns a selector for tasks that work on a sector's existing files of the types in alloc
// (PC2, C1, FIN, ...). Without allowFetch only workers with a local path holding the files pass; with it, workers
// with a path that can receive them pass too. Workers that already hold the files score 1, others 0.5.
func NewExistingSelector(idx Index, sector abi.SectorID, alloc storiface.SectorFileType, allowFetch bool) Selector {
	return &existingSelector{idx: idx, sector: sector, alloc: alloc, allowFetch: allowFetch}
}

var _ Selector = (*existingSelector)(nil)

// load reads the index once per scheduling pass.
func (s *existingSelector) load(ctx context.Context, spt abi.RegisteredSealProof, pass uint64) error {
	if s.memoPass == pass && s.memoSpt == spt && pass != 0 {
		return s.memoError
	}
	s.memoPass, s.memoSpt, s.memoError = pass, spt, nil
	s.have, s.canFetch = map[storiface.ID]struct{}{}, map[storiface.ID]struct{}{}
	ssize, err := spt.SectorSize()
	if err != nil {
		s.memoError = fmt.Errorf("sector size of proof %d: %w", spt, err)
		return s.memoError
	}
	found, err := s.idx.StorageFindSector(ctx, s.sector, s.alloc, ssize, false)
	if err != nil {
		s.memoError = fmt.Errorf("finding %s of %s: %w", s.alloc, storiface.SectorName(s.sector), err)
		return s.memoError
	}
	for _, si := range found {
		s.have[si.ID] = struct{}{}
	}
	if s.allowFetch {
		all, err := s.idx.StorageFindSector(ctx, s.sector, s.alloc, ssize, true)
		if err != nil {
			s.memoError = fmt.Errorf("finding paths for %s of %s: %w", s.alloc, storiface.SectorName(s.sector), err)
			return s.memoError
		}
		for _, si := range all {
			s.canFetch[si.ID] = struct{}{}
		}
	}
	return nil
}

func (s *existingSelector) holds(w *WorkerHandle) bool {
	for _, p := range w.Paths() {
		if _, ok := s.have[p.ID]; ok {
			return true
		}
	}
	return false
}

// Filter implements Selector.
func (s *existingSelector) Filter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) (bool, string, error) {
	if !w.Supports(task) {
		return false, fmt.Sprintf("task type %s not in the worker's task list", task.Short()), nil
	}
	if err := s.load(ctx, spt, w.Pass()); err != nil {
		return false, "", err
	}
	if s.holds(w) {
		return true, "", nil
	}
	if !s.allowFetch {
		return false, fmt.Sprintf("%s of %s not in the worker's paths (fetch not allowed)", s.alloc,
			storiface.SectorName(s.sector)), nil
	}
	for _, p := range w.Paths() {
		if _, ok := s.canFetch[p.ID]; ok {
			return true, "", nil
		}
	}
	return false, fmt.Sprintf("no path of the worker can receive %s of %s", s.alloc, storiface.SectorName(s.sector)), nil
}

// Score implements Selector: 1 when the worker already holds the files, 0.5 when it would fetch them.
func (s *existingSelector) Score(ctx context.Context, _ storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) float64 {
	if s.load(ctx, spt, w.Pass()) == nil && s.holds(w) {
		return 1
	}
	return 0.5
}
