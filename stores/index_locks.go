package stores

import (
	"context"
	"fmt"
	"slices"
	"sort"
	"sync"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// indexLocks holds the per-sector, per-file-type read/write locks. Requests that conflict are granted in arrival
// order (a writer is not starved by a stream of readers); requests on other types do not wait for each other.
// A granted lock is released when the context it was taken with ends (context.AfterFunc: no goroutine per lock).
type indexLocks struct {
	mu    sync.Mutex
	locks map[abi.SectorID]*sectorLock
}

// sectorLock is the lock state of one sector: readers per type, the written types and the queue of waiters.
type sectorLock struct {
	read    [6]uint
	write   storiface.SectorFileType
	waiters []*lockWaiter
}

// lockWaiter is a blocked StorageLock call.
type lockWaiter struct {
	read, write storiface.SectorFileType
	ready       chan struct{} // closed once granted
	granted     bool
}

func newIndexLocks() *indexLocks { return &indexLocks{locks: map[abi.SectorID]*sectorLock{}} }

// typeIndex maps a single file type to its slot in SectorLock.Read/Write (the order of storiface.PathTypes).
func typeIndex(t storiface.SectorFileType) int { return slices.Index(storiface.PathTypes, t) }

// compatible reports whether read/write can be granted given what is held.
func (l *sectorLock) compatible(read, write storiface.SectorFileType) bool {
	if l.write&(read|write) != 0 {
		return false
	}
	for _, t := range write.All() {
		if l.read[typeIndex(t)] > 0 {
			return false
		}
	}
	return true
}

// conflicts reports whether two requests cannot be held together.
func conflicts(r1, w1, r2, w2 storiface.SectorFileType) bool {
	return w1&(r2|w2) != 0 || w2&(r1|w1) != 0
}

// queuedConflict reports whether one of the first n waiters conflicts with read/write.
func (l *sectorLock) queuedConflict(n int, read, write storiface.SectorFileType) bool {
	for _, w := range l.waiters[:n] {
		if conflicts(w.read, w.write, read, write) {
			return true
		}
	}
	return false
}

func (l *sectorLock) take(read, write storiface.SectorFileType) {
	for _, t := range read.All() {
		l.read[typeIndex(t)]++
	}
	l.write |= write
}

func (l *sectorLock) give(read, write storiface.SectorFileType) {
	for _, t := range read.All() {
		l.read[typeIndex(t)]--
	}
	l.write &^= write
}

// grantWaiters grants, in order, every waiter that fits and does not conflict with an earlier one still waiting.
func (l *sectorLock) grantWaiters() {
	for k := 0; k < len(l.waiters); {
		w := l.waiters[k]
		if l.compatible(w.read, w.write) && !l.queuedConflict(k, w.read, w.write) {
			l.take(w.read, w.write)
			w.granted = true
			close(w.ready)
			l.waiters = slices.Delete(l.waiters, k, k+1)
			continue
		}
		k++
	}
}

func (l *sectorLock) idle() bool {
	return l.write == 0 && l.read == [6]uint{} && len(l.waiters) == 0
}

// lock takes the locks, waiting (if wait) until it can or ctx ends. It reports whether they were taken.
func (i *indexLocks) lock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType, wait bool) (bool, error) {
	if read|write == storiface.FTNone || (read|write)&^storiface.FTAll != 0 {
		return false, storiface.Errf(storiface.ErrBadInput, "locking %s: read %s / write %s: accepted are non-empty sets of known file types",
			storiface.SectorName(s), read, write)
	}
	if read&write != 0 {
		return false, storiface.Errf(storiface.ErrBadInput, "locking %s: %s asked for both read and write", storiface.SectorName(s), read&write)
	}
	if err := ctx.Err(); err != nil {
		return false, err
	}
	i.mu.Lock()
	l, ok := i.locks[s]
	if !ok {
		l = &sectorLock{}
		i.locks[s] = l
	}
	if l.compatible(read, write) && !l.queuedConflict(len(l.waiters), read, write) {
		l.take(read, write)
		i.mu.Unlock()
		context.AfterFunc(ctx, func() { i.unlock(s, read, write) })
		return true, nil
	}
	if !wait {
		i.dropIfIdle(s, l)
		i.mu.Unlock()
		return false, nil
	}
	w := &lockWaiter{read: read, write: write, ready: make(chan struct{})}
	l.waiters = append(l.waiters, w)
	i.mu.Unlock()

	select {
	case <-w.ready:
		context.AfterFunc(ctx, func() { i.unlock(s, read, write) })
		return true, nil
	case <-ctx.Done():
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if w.granted {
		l.give(read, write)
	} else {
		l.waiters = slices.DeleteFunc(l.waiters, func(x *lockWaiter) bool { return x == w })
	}
	l.grantWaiters()
	i.dropIfIdle(s, l)
	return false, fmt.Errorf("locking %s: %w", storiface.SectorName(s), ctx.Err())
}

// unlock releases a granted lock and wakes the waiters it was blocking.
func (i *indexLocks) unlock(s abi.SectorID, read, write storiface.SectorFileType) {
	i.mu.Lock()
	defer i.mu.Unlock()
	l, ok := i.locks[s]
	if !ok {
		return
	}
	l.give(read, write)
	l.grantWaiters()
	i.dropIfIdle(s, l)
}

// dropIfIdle forgets a sector with no lock held or awaited (under i.mu), so the map does not grow forever.
func (i *indexLocks) dropIfIdle(s abi.SectorID, l *sectorLock) {
	if l.idle() {
		delete(i.locks, s)
	}
}

// StorageLock takes read locks on the types in read and write locks on those in write, all at once, waiting until
// it can or ctx ends. The locks are held until ctx ends.
func (i *indexLocks) StorageLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) error {
	_, err := i.lock(ctx, s, read, write, true)
	return err
}

// StorageTryLock is StorageLock without waiting: false if a held lock or an earlier waiter conflicts.
func (i *indexLocks) StorageTryLock(ctx context.Context, s abi.SectorID, read, write storiface.SectorFileType) (bool, error) {
	return i.lock(ctx, s, read, write, false)
}

// StorageGetLocks lists the sectors with locks held, by miner then number.
func (i *indexLocks) StorageGetLocks(ctx context.Context) (storiface.SectorLocks, error) {
	i.mu.Lock()
	defer i.mu.Unlock()
	out := storiface.SectorLocks{Locks: []storiface.SectorLock{}}
	for s, l := range i.locks {
		if l.write == 0 && l.read == [6]uint{} {
			continue // only waiters
		}
		sl := storiface.SectorLock{Sector: s, Read: l.read}
		for _, t := range l.write.All() {
			sl.Write[typeIndex(t)] = 1
		}
		out.Locks = append(out.Locks, sl)
	}
	sort.Slice(out.Locks, func(a, b int) bool {
		x, y := out.Locks[a].Sector, out.Locks[b].Sector
		return x.Miner < y.Miner || (x.Miner == y.Miner && x.Number < y.Number)
	})
	return out, nil
}

// sectorsTracked is the number of sectors with lock state (tests check it returns to zero).
func (i *indexLocks) sectorsTracked() int {
	i.mu.Lock()
	defer i.mu.Unlock()
	return len(i.locks)
}
