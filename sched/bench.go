package sched

import (
	"context"
	"fmt"
	"runtime"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// BenchResult is one measurement of a full assignment pass.
type BenchResult struct {
	Workers    int     `json:"workers"`
	Requests   int     `json:"requests"`
	PassMicros float64 `json:"passMicros"` // wall time
	// PassCPUMicros is the CPU time of the pass on its thread (Linux; -1 elsewhere): on a shared, loaded machine
	// it is the figure that does not count time spent waiting for a core.
	PassCPUMicros float64 `json:"passCPUMicros"`
	Assigned      int     `json:"assigned"`
}

// BenchPass builds a cluster of workers (three kinds: PC1 boxes, GPU boxes, all-round boxes) and a queue of
// requests (a mix of AP, PC1, PC2, C1, C2 with task selectors and a few deal priorities), then times one full
// Step over all of it: every request is considered against the candidate workers. The queue is sorted as the
// requests arrive (AddRequest, merged in before the clock starts), not in the pass. Deterministic.
// With starved, the pass runs two hours after the requests arrived, so every request is past the starvation
// bound and the reservation logic runs too.
func BenchPass(workers, requests int, starved bool) (BenchResult, error) {
	c, at, err := benchCluster(workers, requests)
	if err != nil {
		return BenchResult{}, err
	}
	if starved {
		at = at.Add(2 * time.Hour)
	}
	c.Queued() // merges the arrivals into the queue
	runtime.GC()
	runtime.LockOSThread()
	defer runtime.UnlockOSThread()
	cpu0 := threadCPUNanos()
	t := time.Now()
	c.Step(at)
	el := time.Since(t)
	cpu := float64(threadCPUNanos()-cpu0) / 1e3
	if cpu0 < 0 {
		cpu = -1
	}
	return BenchResult{Workers: workers, Requests: requests, PassMicros: float64(el.Nanoseconds()) / 1e3,
		PassCPUMicros: cpu, Assigned: requests - c.Queued()}, nil
}

// benchCluster builds the benchmark's core and returns it with the time to step it at.
func benchCluster(workers, requests int) (*Core, time.Time, error) {
	c, err := NewCore(CoreConfig{Seed: 1, StarvationAfter: time.Hour})
	if err != nil {
		return nil, time.Time{}, err
	}
	kinds := []struct {
		cpus, mem uint64
		gpus      int
		tasks     []storiface.TaskType
	}{
		{64, 512, 0, []storiface.TaskType{storiface.TTAddPiece, storiface.TTPreCommit1, storiface.TTFinalize}},
		{64, 512, 2, []storiface.TaskType{storiface.TTPreCommit2, storiface.TTCommit1, storiface.TTCommit2}},
		{128, 1024, 1, []storiface.TaskType{storiface.TTAddPiece, storiface.TTPreCommit1, storiface.TTPreCommit2,
			storiface.TTCommit1, storiface.TTCommit2, storiface.TTFinalize}},
	}
	for i := 0; i < workers; i++ {
		k := kinds[i%len(kinds)]
		wr := storiface.WorkerResources{MemPhysical: k.mem << 30, CPUs: k.cpus}
		for g := 0; g < k.gpus; g++ {
			wr.GPUs = append(wr.GPUs, "gpu")
		}
		tasks := map[storiface.TaskType]struct{}{}
		for _, tt := range k.tasks {
			tasks[tt] = struct{}{}
		}
		id := storiface.WorkerID(uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprint("w", i))))
		if err := c.AddWorker(id, storiface.WorkerInfo{Hostname: fmt.Sprint("w", i), Resources: wr}, tasks, nil); err != nil {
			return nil, time.Time{}, err
		}
	}
	mix := []storiface.TaskType{storiface.TTPreCommit1, storiface.TTPreCommit1, storiface.TTAddPiece,
		storiface.TTPreCommit2, storiface.TTCommit1, storiface.TTCommit2}
	sel := NewTaskSelector()
	start := time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	for i := 0; i < requests; i++ {
		r := &Request{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprint(i))),
			Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(i)},
				ProofType: abi.RegisteredSealProof_StackedDrg32GiBV1_1},
			Task: mix[i%len(mix)], Sel: sel, Added: start.Add(time.Duration(i) * time.Millisecond),
			Ctx: context.Background(), HasPrepare: i%2 == 0, PrepType: storiface.TTFetch}
		if i%10 == 0 {
			r.Priority = DealSectorPriority
		}
		if err := c.AddRequest(r); err != nil {
			return nil, time.Time{}, err
		}
	}
	return c, start.Add(time.Minute), nil
}
