package sched

import (
	"context"
	"encoding/json"
	"fmt"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// diagLoadCore is the load test's scheduler state without RPC: workers that accept only Fetch and requests
// AddPieces with an alloc selector, all queued (loadtest/TestLoad at workers × requests).
func diagLoadCore(b *testing.B, workers, requests int) *Core {
	c, err := NewCore(CoreConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	idx := &fakeIndex{alloc: []storiface.ID{"p0"}}
	for i := range workers {
		id := storiface.WorkerID(uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("load", i))))
		info := storiface.WorkerInfo{Hostname: fmt.Sprintf("load-%d", i),
			Resources: storiface.WorkerResources{MemPhysical: 1 << 30, CPUs: 1}}
		paths := []storiface.StoragePath{{ID: storiface.ID(fmt.Sprint("p", i)), CanSeal: true}}
		if err := c.AddWorker(id, info, map[storiface.TaskType]struct{}{storiface.TTFetch: {}}, paths); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range requests {
		r := &Request{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprint(i))),
			Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(i)},
				ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1},
			Task: storiface.TTAddPiece, Sel: NewAllocSelector(idx, storiface.FTUnsealed, storiface.PathSealing),
			Added: start.Add(time.Duration(i) * time.Millisecond), Ctx: context.Background()}
		if err := c.AddRequest(r); err != nil {
			b.Fatal(err)
		}
	}
	c.Step(start.Add(time.Minute))
	return c
}

// benchDiag times Diag split as Scheduler.Info runs it: the snapshot (under the scheduler's lock), building the
// answer (outside it) and its JSON encoding, reported per operation with the answer's size and group count.
func benchDiag(b *testing.B, c *Core) {
	var snapNs, buildNs, jsonNs time.Duration
	var size, groups int
	b.ResetTimer()
	for range b.N {
		t0 := time.Now()
		s := c.diagSnapshot()
		t1 := time.Now()
		d := s.build()
		t2 := time.Now()
		out, err := json.Marshal(d)
		if err != nil {
			b.Fatal(err)
		}
		snapNs += t1.Sub(t0)
		buildNs += t2.Sub(t1)
		jsonNs += time.Since(t2)
		size, groups = len(out), len(d.Requests)
	}
	n := float64(b.N)
	b.ReportMetric(float64(snapNs.Nanoseconds())/n/1e6, "locked-ms/op")
	b.ReportMetric(float64(buildNs.Nanoseconds())/n/1e6, "build-ms/op")
	b.ReportMetric(float64(jsonNs.Nanoseconds())/n/1e6, "json-ms/op")
	b.ReportMetric(float64(size), "answer-bytes")
	b.ReportMetric(float64(groups), "groups")
}

// BenchmarkDiagLoad500x20000 is the load test's scale: 500 Fetch-only workers, 20,000 queued AddPieces.
func BenchmarkDiagLoad500x20000(b *testing.B) { benchDiag(b, diagLoadCore(b, 500, 20000)) }

// BenchmarkDiagMixed500x20000 is the assignment benchmark's cluster (three kinds of workers, AP/PC1/PC2/C1/C2
// with deal priorities and prepare steps) after one pass: many requests wait in windows, one group per worker,
// window and class.
func BenchmarkDiagMixed500x20000(b *testing.B) {
	c, at, err := benchCluster(500, 20000)
	if err != nil {
		b.Fatal(err)
	}
	c.Step(at)
	benchDiag(b, c)
}

// BenchmarkDiagExisting500x20000 has 500 workers that could all run PC2 and 20,000 queued PC2s (no pass yet),
// each with an existing-files selector for a sector held on one of the workers' paths: the selectors are not
// Keyed, so each request's outcome is keyed by the paths holding its files (diagKeyer), one group per path.
func BenchmarkDiagExisting500x20000(b *testing.B) {
	c, err := NewCore(CoreConfig{Seed: 1})
	if err != nil {
		b.Fatal(err)
	}
	const workers = 500
	idx := &fakeIndex{holds: map[abi.SectorID][]storiface.ID{}}
	for i := range workers {
		id := storiface.WorkerID(uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("pc2-", i))))
		info := storiface.WorkerInfo{Hostname: fmt.Sprintf("pc2-%d", i),
			Resources: storiface.WorkerResources{MemPhysical: 512 << 30, CPUs: 64, GPUs: []string{"gpu"}}}
		paths := []storiface.StoragePath{{ID: storiface.ID(fmt.Sprint("p", i)), CanSeal: true}}
		if err := c.AddWorker(id, info, map[storiface.TaskType]struct{}{storiface.TTPreCommit2: {}}, paths); err != nil {
			b.Fatal(err)
		}
	}
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := range 20000 {
		s := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(i)}
		idx.holds[s] = []storiface.ID{storiface.ID(fmt.Sprint("p", i%workers))}
		r := &Request{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprint(i))),
			Sector: storiface.SectorRef{ID: s, ProofType: abi.RegisteredSealProof_StackedDrg32GiBV1_1},
			Task:   storiface.TTPreCommit2, Sel: NewExistingSelector(idx, s, storiface.FTSealed|storiface.FTCache, false),
			Added: start.Add(time.Duration(i) * time.Millisecond), Ctx: context.Background()}
		if err := c.AddRequest(r); err != nil {
			b.Fatal(err)
		}
	}
	benchDiag(b, c)
}
