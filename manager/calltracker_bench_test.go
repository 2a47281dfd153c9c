package manager

import (
	"context"
	"testing"
	"time"

	"sealfleet/db"
	"sealfleet/storiface"
)

// BenchmarkTrackedCall measures the tracker's cost per op on SQLite (file, WAL): create the work, record the
// worker's call ID, take the result (persisted as done), hand it to the waiter and forget it — four writes.
func BenchmarkTrackedCall(b *testing.B) {
	d, err := db.OpenSQLite(b.TempDir() + "/bench.db")
	if err != nil {
		b.Fatal(err)
	}
	defer d.Close()
	ctx := context.Background()
	ct, err := newCallTracker(ctx, d, quiet, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		ref, err := ct.getWork(ctx, storiface.TTCommit2, testSector, i)
		if err != nil {
			b.Fatal(err)
		}
		id := storiface.NewCallID(testSector.ID)
		if err := ct.started(ctx, ref.wid, storiface.WorkerID{}, "bench", id, nil, nil); err != nil {
			b.Fatal(err)
		}
		if err := ct.returnResult(id, storiface.Proof("proof"), nil); err != nil {
			b.Fatal(err)
		}
		if _, err := ref.wait(ctx); err != nil {
			b.Fatal(err)
		}
	}
}
