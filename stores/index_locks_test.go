package stores

import (
	"context"
	"errors"
	"testing"

	"sealfleet/storiface"
)

const (
	ftS = storiface.FTSealed
	ftC = storiface.FTCache
	ftU = storiface.FTUnsealed
)

func TestTryLockCompatibility(t *testing.T) {
	tests := []struct {
		name                string
		heldRead, heldWrite storiface.SectorFileType
		read, write         storiface.SectorFileType
		want                bool
	}{
		{"read with read", ftS, 0, ftS, 0, true},
		{"write with read", ftS, 0, 0, ftS, false},
		{"read with write", 0, ftS, ftS, 0, false},
		{"write with write", 0, ftS, 0, ftS, false},
		{"other types", 0, ftS, ftC, ftU, true},
		{"partial overlap", ftS | ftC, 0, 0, ftC | ftU, false},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			l := newIndexLocks()
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			if ok, err := l.StorageTryLock(ctx, sec1, tc.heldRead, tc.heldWrite); !ok || err != nil {
				t.Fatalf("first lock: %v %v", ok, err)
			}
			ctx2, cancel2 := context.WithCancel(context.Background())
			defer cancel2()
			ok, err := l.StorageTryLock(ctx2, sec1, tc.read, tc.write)
			if err != nil || ok != tc.want {
				t.Fatalf("second lock: %v %v, want %v", ok, err, tc.want)
			}
			if ok2, _ := l.StorageTryLock(ctx2, sec2, tc.heldRead|tc.read, tc.heldWrite|tc.write); !ok2 && (tc.heldRead|tc.read)&(tc.heldWrite|tc.write) == 0 {
				t.Fatal("another sector must not be affected")
			}
		})
	}
}

// lockAsync starts StorageLock in a goroutine and returns a channel with its result.
func lockAsync(l *indexLocks, ctx context.Context, read, write storiface.SectorFileType) chan error {
	ch := make(chan error, 1)
	go func() { ch <- l.StorageLock(ctx, sec1, read, write) }()
	return ch
}

// waitQueued blocks until n waiters are queued on sec1 (the lock's own state, no sleeps).
func waitQueued(t *testing.T, l *indexLocks, n int) {
	t.Helper()
	for {
		l.mu.Lock()
		q := 0
		if sl, ok := l.locks[sec1]; ok {
			q = len(sl.waiters)
		}
		l.mu.Unlock()
		if q == n {
			return
		}
		yieldCPU()
	}
}

func TestLockBlockingOrder(t *testing.T) {
	l := newIndexLocks()
	bg := context.Background()
	readerCtx, releaseReader := context.WithCancel(bg)
	if err := l.StorageLock(readerCtx, sec1, ftS, 0); err != nil {
		t.Fatal(err)
	}
	writerCtx, releaseWriter := context.WithCancel(bg)
	defer releaseWriter()
	writer := lockAsync(l, writerCtx, 0, ftS)
	waitQueued(t, l, 1)

	// A later reader must queue behind the waiting writer (no writer starvation), while a lock on another type
	// goes straight through.
	lateCtx, releaseLate := context.WithCancel(bg)
	defer releaseLate()
	late := lockAsync(l, lateCtx, ftS, 0)
	waitQueued(t, l, 2)
	if ok, _ := l.StorageTryLock(lateCtx, sec1, ftS, 0); ok {
		t.Fatal("try-read must not jump the queued writer")
	}
	otherCtx, releaseOther := context.WithCancel(bg)
	if ok, err := l.StorageTryLock(otherCtx, sec1, 0, ftC); !ok || err != nil {
		t.Fatalf("unrelated type blocked: %v %v", ok, err)
	}
	releaseOther()

	releaseReader()
	if err := <-writer; err != nil {
		t.Fatalf("writer: %v", err)
	}
	select {
	case err := <-late:
		t.Fatalf("late reader got the lock while the writer holds it: %v", err)
	default:
	}
	releaseWriter()
	if err := <-late; err != nil {
		t.Fatalf("late reader: %v", err)
	}
	releaseLate()
	waitIdle(t, l)
}

func TestLockCancelWhileWaiting(t *testing.T) {
	l := newIndexLocks()
	bg := context.Background()
	holdCtx, release := context.WithCancel(bg)
	if err := l.StorageLock(holdCtx, sec1, 0, ftS|ftC); err != nil {
		t.Fatal(err)
	}
	waitCtx, cancelWait := context.WithCancel(bg)
	waiter := lockAsync(l, waitCtx, ftS, 0)
	waitQueued(t, l, 1)
	cancelWait()
	if err := <-waiter; !errors.Is(err, context.Canceled) {
		t.Fatalf("cancelled waiter: %v", err)
	}
	locks, _ := l.StorageGetLocks(bg)
	if len(locks.Locks) != 1 || locks.Locks[0].Write != [6]uint{0, 1, 1, 0, 0, 0} || locks.Locks[0].Read != [6]uint{} {
		t.Fatalf("locks after cancel: %+v", locks.Locks)
	}
	release()
	waitIdle(t, l)
}

func TestLockBadInputAndDoneContext(t *testing.T) {
	l := newIndexLocks()
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if err := l.StorageLock(ctx, sec1, ftS, 0); !errors.Is(err, context.Canceled) {
		t.Fatalf("done ctx: %v", err)
	}
	bg := context.Background()
	for _, c := range []struct{ r, w storiface.SectorFileType }{{0, 0}, {ftS, ftS}, {1 << 9, 0}} {
		if _, err := l.StorageTryLock(bg, sec1, c.r, c.w); storiface.CodeOf(err) != storiface.ErrBadInput {
			t.Fatalf("read %v write %v: %v", c.r, c.w, err)
		}
	}
	if n := l.sectorsTracked(); n != 0 {
		t.Fatalf("%d sectors tracked", n)
	}
}

func TestLockManyNoLeak(t *testing.T) {
	l := newIndexLocks()
	bg := context.Background()
	const n = 50
	done := make(chan error, n)
	cancels := make([]context.CancelFunc, n)
	for k := range n {
		ctx, cancel := context.WithCancel(bg)
		cancels[k] = cancel
		read, write := storiface.SectorFileType(0), storiface.SectorFileType(ftS)
		if k%3 != 0 {
			read, write = ftS, 0
		}
		go func() {
			err := l.StorageLock(ctx, sec1, read, write)
			done <- err
			if err == nil {
				cancel() // hold briefly, release
			}
		}()
	}
	for range n {
		if err := <-done; err != nil {
			t.Fatal(err)
		}
	}
	for _, c := range cancels {
		c()
	}
	waitIdle(t, l)
}

// waitIdle waits until every AfterFunc release has run and no sector has lock state left.
func waitIdle(t *testing.T, l *indexLocks) {
	t.Helper()
	for l.sectorsTracked() != 0 {
		yieldCPU()
	}
}
