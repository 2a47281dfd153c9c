package resources

import (
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

func need(tt storiface.TaskType, wr *storiface.WorkerResources, mod func(r *storiface.Resources)) Need {
	r := DefaultTable()[tt][abi.RegisteredSealProof_StackedDrg32GiBV1_1]
	if mod != nil {
		mod(&r)
	}
	return NeedFor(tt, r, wr)
}

func TestCanHandle(t *testing.T) {
	box := func(memGiB, swapGiB, cpus uint64, gpus int) *storiface.WorkerResources {
		wr := &storiface.WorkerResources{MemPhysical: memGiB << 30, MemSwap: swapGiB << 30, CPUs: cpus}
		for i := 0; i < gpus; i++ {
			wr.GPUs = append(wr.GPUs, "gpu")
		}
		return wr
	}
	for _, tc := range []struct {
		name    string
		wr      *storiface.WorkerResources
		running []storiface.TaskType
		task    storiface.TaskType
		mod     func(r *storiface.Resources) // applies to the new task
		runMod  func(r *storiface.Resources) // applies to the running ones
		ignore  bool
		want    Shortfall
	}{
		{name: "empty box takes PC1", wr: box(128, 0, 16, 0), task: storiface.TTPreCommit1, want: Fits},
		// PC1 32GiB: MinMemory 56GiB + 10MiB base; two fit in 128GiB physical, the third does not.
		{name: "third PC1 lacks memory", wr: box(128, 0, 16, 0),
			running: []storiface.TaskType{storiface.TTPreCommit1, storiface.TTPreCommit1}, task: storiface.TTPreCommit1,
			want: ShortMemory},
		// MaxMemory 64GiB each: 2×64 = 128 fills memory+swap of a 120+0 box even though MinMemory fits.
		{name: "vmem without swap", wr: box(120, 0, 16, 0), running: []storiface.TaskType{storiface.TTPreCommit1},
			task: storiface.TTPreCommit1, want: ShortVirtualMemory},
		{name: "swap makes room", wr: box(120, 16, 16, 0), running: []storiface.TaskType{storiface.TTPreCommit1},
			task: storiface.TTPreCommit1, want: Fits},
		// PC2 takes 92 % of 16 = 14 threads; with 3 PC1 threads in use 17 > 16.
		{name: "PC1s block PC2 by threads", wr: box(512, 0, 16, 0),
			running: []storiface.TaskType{storiface.TTPreCommit1, storiface.TTPreCommit1, storiface.TTPreCommit1},
			task:    storiface.TTPreCommit2, want: ShortThreads},
		{name: "PC2 blocks PC1 by threads", wr: box(512, 0, 16, 0), running: []storiface.TaskType{storiface.TTPreCommit2},
			task: storiface.TTPreCommit1, mod: func(r *storiface.Resources) { r.MaxParallelism = 3 }, want: ShortThreads},
		{name: "gpu busy", wr: box(512, 0, 64, 1), running: []storiface.TaskType{storiface.TTPreCommit2},
			task: storiface.TTCommit2, want: ShortGPU},
		{name: "fractional gpus share", wr: box(512, 0, 64, 1), running: []storiface.TaskType{storiface.TTCommit2},
			task: storiface.TTCommit2, mod: func(r *storiface.Resources) { r.GPUUtilization = 0.5 },
			runMod: func(r *storiface.Resources) { r.GPUUtilization = 0.5 }, want: Fits},
		{name: "max concurrent", wr: box(512, 0, 64, 0), running: []storiface.TaskType{storiface.TTAddPiece},
			task: storiface.TTAddPiece, mod: func(r *storiface.Resources) { r.MaxConcurrent = 1 }, want: ShortMaxConcurrent},
		{name: "max concurrent applies with ignore", wr: box(1, 0, 1, 0), running: []storiface.TaskType{storiface.TTAddPiece},
			task: storiface.TTAddPiece, mod: func(r *storiface.Resources) { r.MaxConcurrent = 1 }, ignore: true,
			want: ShortMaxConcurrent},
		{name: "ignore resources", wr: box(1, 0, 1, 0), task: storiface.TTCommit2, ignore: true, want: Fits},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var a Active
			for _, rt := range tc.running {
				n := need(rt, tc.wr, tc.runMod)
				a.Add(&n)
			}
			n := need(tc.task, tc.wr, tc.mod)
			if got := a.CanHandle(&n, tc.wr, tc.ignore); got != tc.want {
				t.Fatalf("CanHandle = %v, want %v", got, tc.want)
			}
		})
	}
}

func TestActiveBaseMemoryOncePerType(t *testing.T) {
	wr := &storiface.WorkerResources{MemPhysical: 256 << 30, CPUs: 64, GPUs: []string{"a", "b"}}
	c2 := need(storiface.TTCommit2, wr, nil) // MinMemory 30GiB, base 32GiB
	var a Active
	a.Add(&c2)
	a.Add(&c2)
	if want := uint64(2*30+32) << 30; a.MemUsedMin+a.BaseMem != want {
		t.Fatalf("memory = %d, want %d (base once)", a.MemUsedMin+a.BaseMem, want)
	}
	a.Free(&c2)
	if a.BaseMem != 32<<30 {
		t.Fatalf("base released early: %d", a.BaseMem)
	}
	a.Free(&c2)
	if a != (Active{}) {
		t.Fatalf("not empty after freeing all: %+v", a)
	}
	if u := a.Utilization(wr); u != 0 {
		t.Fatalf("utilization of empty = %v", u)
	}
}

func TestMaxFit(t *testing.T) {
	wr := &storiface.WorkerResources{MemPhysical: 512 << 30, CPUs: 64}
	pc1 := need(storiface.TTPreCommit1, wr, nil)
	// vmem: 512GiB / 64GiB MaxMemory = 8 (the base 10MiB tips the 8th: 8×64GiB+10MiB > 512GiB → 7).
	if got := MaxFit(&pc1, wr, false, 1000); got != 7 {
		t.Fatalf("MaxFit = %d, want 7", got)
	}
}
