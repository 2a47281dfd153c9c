package worker

import (
	"context"
	"fmt"
	"os"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/seal/partialfile"
	"sealfleet/storiface"
)

// noResult is the result type of calls that return only an error.
type noResult struct{}

// tmpSuffix marks a file being written; sector names never end with it, so a path scan never declares one.
const tmpSuffix = ".sealfleet-tmp"

// acquire makes the existing types of sector local and allocates new paths for the allocate types, reserving
// their space. The allocated files are written under temporary names (<name>.sealfleet-tmp). finish(ok) renames
// them into place and declares them in the index when ok, deletes them otherwise, and releases the reservation:
// a file is known to the cluster only once fully written.
func (l *LocalWorker) acquire(ctx context.Context, sector storiface.SectorRef, existing, allocate storiface.SectorFileType,
	ptype storiface.PathType) (storiface.SectorPaths, func(ok bool) error, error) {
	paths, ids, err := l.deps.Store.AcquireSector(ctx, sector, existing, allocate, ptype, storiface.AcquireMove)
	if err != nil {
		return paths, nil, fmt.Errorf("acquiring %s (existing %s, allocate %s): %w", sector, existing, allocate, err)
	}
	release, err := l.deps.Store.Reserve(ctx, sector, allocate, ids, ptype)
	if err != nil {
		return paths, nil, storiface.Errf(storiface.ErrTempAllocateSpace, "reserving %s for %s: %v", allocate, sector, err)
	}
	final := paths
	for _, t := range allocate.All() {
		tmp := final.PathByType(t) + tmpSuffix
		if err := os.RemoveAll(tmp); err != nil { // a leftover of an earlier attempt
			release()
			return paths, nil, fmt.Errorf("clearing %s: %w", tmp, err)
		}
		paths.SetPathByType(t, tmp)
	}
	finish := func(ok bool) error {
		defer release()
		if !ok {
			removeAllocated(paths, allocate)
			return nil
		}
		for _, t := range allocate.All() {
			if err := replace(paths.PathByType(t), final.PathByType(t)); err != nil {
				removeAllocated(paths, allocate)
				return fmt.Errorf("moving %s of %s into place: %w", t, sector, err)
			}
			id := storiface.ID(ids.PathByType(t))
			// The work is done and the file in place: an unreachable manager must not turn it into a failure
			// (the op would run again), so the declaration waits for the manager to come back.
			err := l.whileUnreachable(ctx, fmt.Sprintf("declaring %s of %s", t, sector), func() error {
				return l.deps.Index.StorageDeclareSector(ctx, id, sector.ID, t, true)
			})
			if err != nil {
				return fmt.Errorf("declaring %s of %s in %s: %w", t, sector, id, err)
			}
		}
		return nil
	}
	return paths, finish, nil
}

// replace renames tmp to final, removing an undeclared leftover at final first. A missing tmp (the backend wrote
// nothing for the type) is an error: every allocated type must be produced.
func replace(tmp, final string) error {
	if _, err := os.Stat(tmp); err != nil {
		return fmt.Errorf("the call produced no %s: %w", tmp, err)
	}
	if err := os.RemoveAll(final); err != nil {
		return err
	}
	return os.Rename(tmp, final)
}

func removeAllocated(paths storiface.SectorPaths, allocate storiface.SectorFileType) {
	for _, t := range allocate.All() {
		if p := paths.PathByType(t); p != "" {
			_ = os.RemoveAll(p) // best effort: the file was never declared
		}
	}
}

// withFiles runs f on the sector's acquired files and declares the allocated ones only if f succeeded.
func withFiles[T any](l *LocalWorker, ctx context.Context, sector storiface.SectorRef, existing, allocate storiface.SectorFileType,
	f func(paths storiface.SectorPaths) (T, error)) (T, error) {
	var zero T
	paths, finish, err := l.acquire(ctx, sector, existing, allocate, storiface.PathSealing)
	if err != nil {
		return zero, err
	}
	out, err := f(paths)
	if ferr := finish(err == nil); err == nil && ferr != nil {
		return zero, ferr
	}
	if err != nil {
		return zero, err
	}
	return out, nil
}

// DataCid starts computing a piece commitment.
func (l *LocalWorker) DataCid(ctx context.Context, size abi.UnpaddedPieceSize, data storiface.PieceData) (storiface.CallID, error) {
	return asyncCall(l, ctx, storiface.NoSectorRef, RetDataCid, storiface.TTDataCid, tracked(size, data), func(ctx context.Context) (abi.PieceInfo, error) {
		r, err := pieceReader(ctx, size, data)
		if err != nil {
			return abi.PieceInfo{}, err
		}
		defer r.Close()
		return l.deps.Backend.DataCid(ctx, size, r)
	})
}

// AddPiece starts writing a piece: the first piece allocates the unsealed file, later ones extend it.
func (l *LocalWorker) AddPiece(ctx context.Context, sector storiface.SectorRef, existing []abi.UnpaddedPieceSize,
	size abi.UnpaddedPieceSize, data storiface.PieceData) (storiface.CallID, error) {
	ex, alloc := storiface.FTUnsealed, storiface.FTNone
	if len(existing) == 0 {
		ex, alloc = storiface.FTNone, storiface.FTUnsealed
	}
	return asyncCall(l, ctx, sector, RetAddPiece, storiface.TTAddPiece, tracked(existing, size, data), func(ctx context.Context) (abi.PieceInfo, error) {
		return withFiles(l, ctx, sector, ex, alloc, func(p storiface.SectorPaths) (abi.PieceInfo, error) {
			r, err := pieceReader(ctx, size, data)
			if err != nil {
				return abi.PieceInfo{}, err
			}
			defer r.Close()
			return l.deps.Backend.AddPiece(ctx, sector, p, existing, size, r)
		})
	})
}

// SealPreCommit1 starts PreCommit1; leftovers of an earlier attempt (sealed, cache) are removed first.
func (l *LocalWorker) SealPreCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness,
	pieces []abi.PieceInfo) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetSealPreCommit1, storiface.TTPreCommit1, tracked(ticket, pieces), func(ctx context.Context) (storiface.PreCommit1Out, error) {
		if err := l.deps.Store.Remove(ctx, sector.ID, storiface.FTSealed|storiface.FTCache, true, nil); err != nil {
			return nil, fmt.Errorf("removing earlier sealed/cache of %s: %w", sector, err)
		}
		return withFiles(l, ctx, sector, storiface.FTUnsealed, storiface.FTSealed|storiface.FTCache,
			func(p storiface.SectorPaths) (storiface.PreCommit1Out, error) {
				return l.deps.Backend.SealPreCommit1(ctx, sector, p, ticket, pieces)
			})
	})
}

// SealPreCommit2 starts PreCommit2.
func (l *LocalWorker) SealPreCommit2(ctx context.Context, sector storiface.SectorRef, pc1o storiface.PreCommit1Out) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetSealPreCommit2, storiface.TTPreCommit2, tracked(pc1o), func(ctx context.Context) (storiface.SectorCids, error) {
		return withFiles(l, ctx, sector, storiface.FTSealed|storiface.FTCache, storiface.FTNone,
			func(p storiface.SectorPaths) (storiface.SectorCids, error) {
				return l.deps.Backend.SealPreCommit2(ctx, sector, p, pc1o)
			})
	})
}

// SealCommit1 starts Commit1.
func (l *LocalWorker) SealCommit1(ctx context.Context, sector storiface.SectorRef, ticket abi.SealRandomness,
	seed abi.InteractiveSealRandomness, pieces []abi.PieceInfo, cids storiface.SectorCids) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetSealCommit1, storiface.TTCommit1, tracked(ticket, seed, pieces, cids), func(ctx context.Context) (storiface.Commit1Out, error) {
		return withFiles(l, ctx, sector, storiface.FTSealed|storiface.FTCache, storiface.FTNone,
			func(p storiface.SectorPaths) (storiface.Commit1Out, error) {
				return l.deps.Backend.SealCommit1(ctx, sector, p, ticket, seed, pieces, cids)
			})
	})
}

// SealCommit2 starts Commit2; it needs no sector files.
func (l *LocalWorker) SealCommit2(ctx context.Context, sector storiface.SectorRef, c1o storiface.Commit1Out) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetSealCommit2, storiface.TTCommit2, tracked(c1o), func(ctx context.Context) (storiface.Proof, error) {
		return l.deps.Backend.SealCommit2(ctx, sector, c1o)
	})
}

// FinalizeSector starts trimming the cache to what proving needs.
func (l *LocalWorker) FinalizeSector(ctx context.Context, sector storiface.SectorRef) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetFinalizeSector, storiface.TTFinalize, tracked(), func(ctx context.Context) (noResult, error) {
		return withFiles(l, ctx, sector, storiface.FTCache, storiface.FTNone, func(p storiface.SectorPaths) (noResult, error) {
			return noResult{}, l.deps.Backend.FinalizeSector(ctx, sector, p)
		})
	})
}

// FinalizeUnsealed starts trimming the unsealed file to the keep ranges; see ReleaseUnsealed.
func (l *LocalWorker) FinalizeUnsealed(ctx context.Context, sector storiface.SectorRef, keep []storiface.Range) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetFinalizeUnsealed, storiface.TTFinalizeUnsealed, tracked("finalize", keep), func(ctx context.Context) (noResult, error) {
		return noResult{}, l.releaseUnsealed(ctx, sector, keep)
	})
}

// ReleaseUnsealed starts releasing the unsealed file. Without keep ranges the file is removed everywhere. With
// keep ranges the copy this worker acquires stays in place with everything outside the ranges freed (holes
// punched, the allocation trailer updated): the kept data reads back unchanged and the rest reports not
// allocated. Bad keep ranges fail the call before anything is freed.
func (l *LocalWorker) ReleaseUnsealed(ctx context.Context, sector storiface.SectorRef, keep []storiface.Range) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetReleaseUnsealed, storiface.TTFinalizeUnsealed, tracked("release", keep), func(ctx context.Context) (noResult, error) {
		return noResult{}, l.releaseUnsealed(ctx, sector, keep)
	})
}

func (l *LocalWorker) releaseUnsealed(ctx context.Context, sector storiface.SectorRef, keep []storiface.Range) error {
	if len(keep) == 0 {
		if err := l.deps.Store.Remove(ctx, sector.ID, storiface.FTUnsealed, true, nil); err != nil {
			return fmt.Errorf("removing unsealed file of %s: %w", sector, err)
		}
		return nil
	}
	ssize, err := sector.ProofType.SectorSize()
	if err != nil {
		return fmt.Errorf("releasing unsealed file of %s: %w", sector, err)
	}
	_, err = withFiles(l, ctx, sector, storiface.FTUnsealed, storiface.FTNone, func(p storiface.SectorPaths) (noResult, error) {
		if err := partialfile.KeepOnly(p.Unsealed, ssize, keep); err != nil {
			return noResult{}, fmt.Errorf("freeing the unsealed file of %s outside %d keep ranges: %w", sector, len(keep), err)
		}
		return noResult{}, nil
	})
	return err
}

// MoveStorage starts moving the types to a long-term storage path.
func (l *LocalWorker) MoveStorage(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetMoveStorage, storiface.TTFetch, tracked("move", types), func(ctx context.Context) (noResult, error) {
		if err := l.deps.Store.MoveStorage(ctx, sector, types); err != nil {
			return noResult{}, fmt.Errorf("moving %s of %s to storage: %w", types, sector, err)
		}
		return noResult{}, nil
	})
}

// UnsealPiece starts decoding a range of the sealed file into the unsealed file (allocated if absent).
func (l *LocalWorker) UnsealPiece(ctx context.Context, sector storiface.SectorRef, offset storiface.UnpaddedByteIndex,
	size abi.UnpaddedPieceSize, ticket abi.SealRandomness, commD cid.Cid) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetUnsealPiece, storiface.TTUnseal, tracked(offset, size, ticket, commD), func(ctx context.Context) (noResult, error) {
		have, err := l.deps.Index.StorageFindSector(ctx, sector.ID, storiface.FTUnsealed, 0, false)
		if err != nil {
			return noResult{}, fmt.Errorf("finding unsealed file of %s: %w", sector, err)
		}
		ex, alloc := storiface.FTSealed|storiface.FTCache, storiface.FTUnsealed
		if len(have) > 0 {
			ex, alloc = ex|storiface.FTUnsealed, storiface.FTNone
		}
		return withFiles(l, ctx, sector, ex, alloc, func(p storiface.SectorPaths) (noResult, error) {
			return noResult{}, l.deps.Backend.UnsealPiece(ctx, sector, p, offset, size, ticket, commD)
		})
	})
}

// Fetch starts bringing the types to a local path of kind ptype; at most ParallelFetchLimit fetches run at once.
func (l *LocalWorker) Fetch(ctx context.Context, sector storiface.SectorRef, types storiface.SectorFileType,
	ptype storiface.PathType, am storiface.AcquireMode) (storiface.CallID, error) {
	return asyncCall(l, ctx, sector, RetFetch, storiface.TTFetch, untracked, func(ctx context.Context) (noResult, error) {
		if l.fetchSem != nil {
			select {
			case l.fetchSem <- struct{}{}:
				defer func() { <-l.fetchSem }()
			case <-ctx.Done():
				return noResult{}, ctx.Err()
			}
		}
		if _, _, err := l.deps.Store.AcquireSector(ctx, sector, types, storiface.FTNone, ptype, am); err != nil {
			return noResult{}, fmt.Errorf("fetching %s of %s: %w", types, sector, err)
		}
		return noResult{}, nil
	})
}
