package sched

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// diagKeyer is implemented by selectors that are not Keyed but whose Filter outcome (accept, reject or error) on
// every worker follows from what they read of the index for their sector: two selectors with the same diagKey in
// one pass accept and reject the same workers for the same task and proof type. Diag then compares keys instead
// of asking every worker about every request. Only paths in workers (the union of every worker's paths) can
// change a worker's answer, so the key names no other. ok is false when the selector cannot tell (Diag then asks
// the workers).
type diagKeyer interface {
	diagKey(ctx context.Context, spt abi.RegisteredSealProof, pass uint64, workers map[storiface.ID]struct{}) (key string, ok bool)
}

// diagFilterer is implemented by selectors that can answer Filter's question without wording a rejection:
// diagFilter returns what Filter would return but the reason. Diag asks thousands of workers and words only the
// answers it shows.
type diagFilterer interface {
	diagFilter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof, w *WorkerHandle) (bool, error)
}

var (
	_ diagKeyer    = (*existingSelector)(nil)
	_ diagKeyer    = (*moveSelector)(nil)
	_ diagFilterer = (*existingSelector)(nil)
	_ diagFilterer = (*moveSelector)(nil)
)

// diagFilter implements diagFilterer, as Filter.
func (s *existingSelector) diagFilter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof,
	w *WorkerHandle) (bool, error) {
	if !w.Supports(task) {
		return false, nil
	}
	if err := s.load(ctx, spt, w.Pass()); err != nil {
		return false, err
	}
	if s.holds(w) {
		return true, nil
	}
	if !s.allowFetch {
		return false, nil
	}
	for _, p := range w.Paths() {
		if _, ok := s.canFetch[p.ID]; ok {
			return true, nil
		}
	}
	return false, nil
}

// diagFilter implements diagFilterer, as Filter (and dest).
func (s *moveSelector) diagFilter(ctx context.Context, task storiface.TaskType, spt abi.RegisteredSealProof,
	w *WorkerHandle) (bool, error) {
	if !w.Supports(task) {
		return false, nil
	}
	if err := s.load(ctx, spt, w.Pass()); err != nil {
		return false, err
	}
	dest := false
	for _, si := range s.best {
		if !w.HasPath(si.ID) {
			continue
		}
		if _, held := s.have[si.ID]; held {
			dest = true
			break
		}
		ok, _, err := hasRoom(ctx, s.idx, si.ID, s.need, w)
		if err != nil {
			return false, err
		}
		if ok {
			dest = true
			break
		}
	}
	return dest && (s.allowRemote || s.holds(w)), nil
}

// diagKey implements diagKeyer: Filter depends on the paths holding the files and, with allowFetch, the paths
// that could receive them.
func (s *existingSelector) diagKey(ctx context.Context, spt abi.RegisteredSealProof, pass uint64,
	workers map[storiface.ID]struct{}) (string, bool) {
	if s.load(ctx, spt, pass) != nil {
		return "", false
	}
	return fmt.Sprintf("existing|%d|%v|%s|%s", int(s.alloc), s.allowFetch, pathSet(s.have, workers),
		pathSet(s.canFetch, workers)), true
}

// diagKey implements diagKeyer: Filter depends on the paths holding the files, the index's best destination
// paths and the space needed (the same for every sector of one size), and allowRemote; room in a path is read
// from the index and the claim ledger, the same for every request in one pass.
func (s *moveSelector) diagKey(ctx context.Context, spt abi.RegisteredSealProof, pass uint64,
	workers map[storiface.ID]struct{}) (string, bool) {
	if s.load(ctx, spt, pass) != nil {
		return "", false
	}
	best := make([]string, 0, len(s.best)) // in the index's order: dest takes the first with room
	for _, si := range s.best {
		if _, ok := workers[si.ID]; ok {
			best = append(best, string(si.ID))
		}
	}
	return fmt.Sprintf("move|%d|%s|%d|%v|%d|%s|%s", int(s.alloc), s.destPtype, s.miner, s.allowRemote, s.need,
		pathSet(s.have, workers), strings.Join(best, ",")), true
}

// pathSet names the paths of m that are in workers, in a stable order.
func pathSet(m, workers map[storiface.ID]struct{}) string {
	ids := make([]string, 0, len(m))
	for id := range m {
		if _, ok := workers[id]; ok {
			ids = append(ids, string(id))
		}
	}
	slices.Sort(ids)
	return strings.Join(ids, ",")
}
