package resources

import (
	"fmt"

	"sealfleet/storiface"
)

// MaxTaskTypes bounds the dense task index used by Active's per-type counters.
const MaxTaskTypes = 32

var (
	taskIndex = map[storiface.TaskType]int{}
	taskByIdx []storiface.TaskType
)

func init() {
	for _, tt := range storiface.AllTaskTypes() {
		taskIndex[tt] = len(taskByIdx)
		taskByIdx = append(taskByIdx, tt)
	}
	if len(taskByIdx) >= MaxTaskTypes {
		panic(fmt.Sprintf("resources: %d task types exceed MaxTaskTypes", len(taskByIdx)))
	}
}

// TaskIndex returns a dense index in [0, MaxTaskTypes) for tt; unknown types share the last slot.
func TaskIndex(tt storiface.TaskType) int {
	if i, ok := taskIndex[tt]; ok {
		return i
	}
	return MaxTaskTypes - 1
}

// TaskAt returns the task type of a dense index ("" for the shared unknown slot).
func TaskAt(i int) storiface.TaskType {
	if i >= 0 && i < len(taskByIdx) {
		return taskByIdx[i]
	}
	return ""
}

// Need is a Resources row resolved for one worker: threads computed for its cores and GPUs, the task type as a
// dense index. Build it once per (worker, task, proof) with NeedFor and reuse it; it is a small value type.
type Need struct {
	MinMemory     uint64
	MaxMemory     uint64
	BaseMinMemory uint64
	GPU           float64
	Threads       uint64
	Task          int32 // dense task index (TaskIndex)
	MaxConcurrent int32 // 0 = no limit
}

// NeedFor resolves r for a worker with resources wr.
func NeedFor(tt storiface.TaskType, r storiface.Resources, wr *storiface.WorkerResources) Need {
	mc := r.MaxConcurrent
	if mc > 1<<30 {
		mc = 1 << 30
	}
	return Need{Task: int32(TaskIndex(tt)), MinMemory: r.MinMemory, MaxMemory: r.MaxMemory, BaseMinMemory: r.BaseMinMemory,
		GPU: r.GPUUtilization, Threads: Threads(r, wr.CPUs, len(wr.GPUs)), MaxConcurrent: int32(mc)}
}

// Shortfall says why a set of resources cannot take one more task; Fits means it can.
type Shortfall uint8

// The shortfalls, in the order CanHandle checks them.
const (
	Fits Shortfall = iota
	ShortMaxConcurrent
	ShortMemory
	ShortVirtualMemory
	ShortThreads
	ShortGPU
)

var shortfallNames = [...]string{"fits", "at MaxConcurrent for the task type", "not enough physical memory",
	"not enough memory+swap", "not enough threads", "GPU(s) in use"}

// String describes the shortfall for diagnostics.
func (s Shortfall) String() string {
	if int(s) < len(shortfallNames) {
		return shortfallNames[s]
	}
	return fmt.Sprintf("shortfall(%d)", int(s))
}

// Active is the sum of the resources of a set of tasks on one worker (running, preparing, or assigned to a
// window). BaseMinMemory is counted once per task type present (the buffers the tasks of one type share), as
// the storiface.Resources contract says; the reference checks it per task but never accounts it. The zero value
// is empty. Active is a value type with no pointers, so copying it is cheap and allocation-free.
type Active struct {
	MemUsedMin uint64
	MemUsedMax uint64
	GPUUsed    float64
	CPUUse     uint64
	BaseMem    uint64 // sum of BaseByTask
	Tasks      int    // number of tasks
	Counts     [MaxTaskTypes]int32
	BaseByTask [MaxTaskTypes]uint64
}

// baseExtra is the base memory n adds: its BaseMinMemory beyond what a task of its type already holds.
func (a *Active) baseExtra(n *Need) uint64 {
	if have := a.BaseByTask[n.Task]; n.BaseMinMemory > have {
		return n.BaseMinMemory - have
	}
	return 0
}

// Add accounts one task with need n.
func (a *Active) Add(n *Need) {
	extra := a.baseExtra(n)
	a.BaseByTask[n.Task] += extra
	a.BaseMem += extra
	a.GPUUsed += n.GPU
	a.CPUUse += n.Threads
	a.MemUsedMin += n.MinMemory
	a.MemUsedMax += n.MaxMemory
	a.Counts[n.Task]++
	a.Tasks++
}

// Free removes one task with need n, added before with Add. The base memory of a type is released with its last
// task.
func (a *Active) Free(n *Need) {
	a.GPUUsed -= n.GPU
	if a.GPUUsed < 1e-9 {
		a.GPUUsed = 0
	}
	a.CPUUse -= n.Threads
	a.MemUsedMin -= n.MinMemory
	a.MemUsedMax -= n.MaxMemory
	a.Counts[n.Task]--
	a.Tasks--
	if a.Counts[n.Task] == 0 {
		a.BaseMem -= a.BaseByTask[n.Task]
		a.BaseByTask[n.Task] = 0
	}
}

// AddAll adds every task of b to a (used to look at two sets together, e.g. running plus a reservation).
func (a *Active) AddAll(b *Active) {
	a.GPUUsed += b.GPUUsed
	a.CPUUse += b.CPUUse
	a.MemUsedMin += b.MemUsedMin
	a.MemUsedMax += b.MemUsedMax
	a.Tasks += b.Tasks
	for i := range a.Counts {
		a.Counts[i] += b.Counts[i]
		if b.BaseByTask[i] > a.BaseByTask[i] {
			a.BaseMem += b.BaseByTask[i] - a.BaseByTask[i]
			a.BaseByTask[i] = b.BaseByTask[i]
		}
	}
}

// CanHandle reports whether a worker with resources wr, already running the tasks in a, can take one more task
// with need n, and if not, why. The checks are the reference's: MaxConcurrent per task type (applies even with
// ignoreResources), physical memory against MinMemory (other processes' use is assumed swappable), memory+swap
// against MaxMemory and the worker's own reported use, threads, and fractional GPUs (a GPU task on a worker
// without GPUs runs on the CPU and is not limited here).
func (a *Active) CanHandle(n *Need, wr *storiface.WorkerResources, ignoreResources bool) Shortfall {
	if n.MaxConcurrent > 0 && a.Counts[n.Task] >= n.MaxConcurrent {
		return ShortMaxConcurrent
	}
	if ignoreResources {
		return Fits
	}
	extra := a.baseExtra(n)
	memUsed := a.MemUsedMin + a.BaseMem
	if n.MinMemory+extra > sub(wr.MemPhysical, memUsed) {
		return ShortMemory
	}
	vmemUsed := a.MemUsedMax + a.BaseMem
	if reserved := wr.MemUsed + wr.MemSwapUsed; vmemUsed < reserved {
		vmemUsed = reserved
	}
	if n.MaxMemory+extra > sub(wr.MemPhysical+wr.MemSwap, vmemUsed) {
		return ShortVirtualMemory
	}
	if a.CPUUse+n.Threads > wr.CPUs {
		return ShortThreads
	}
	if len(wr.GPUs) > 0 && n.GPU > 0 && a.GPUUsed+n.GPU > float64(len(wr.GPUs))+1e-9 {
		return ShortGPU
	}
	return Fits
}

func sub(a, b uint64) uint64 {
	if b >= a {
		return 0
	}
	return a - b
}

// Utilization returns the busiest dimension of a on a worker with resources wr, as a fraction (0 = idle,
// 1 = full; it may exceed 1 when a holds more than one worker's worth, e.g. summed windows):
// max(threads/cpus, min-memory/physical, max-memory/(physical+swap), gpus used/gpus).
func (a *Active) Utilization(wr *storiface.WorkerResources) float64 {
	var u float64
	if wr.CPUs > 0 {
		u = float64(a.CPUUse) / float64(wr.CPUs)
	}
	memUsed := a.MemUsedMin + a.BaseMem
	if memUsed < wr.MemUsed {
		memUsed = wr.MemUsed
	}
	if wr.MemPhysical > 0 {
		u = max(u, float64(memUsed)/float64(wr.MemPhysical))
	}
	vmem := a.MemUsedMax + a.BaseMem
	if r := wr.MemUsed + wr.MemSwapUsed; vmem < r {
		vmem = r
	}
	if t := wr.MemPhysical + wr.MemSwap; t > 0 {
		u = max(u, float64(vmem)/float64(t))
	}
	if g := len(wr.GPUs); g > 0 {
		u = max(u, a.GPUUsed/float64(g))
	}
	return u
}

// UtilizationOf is Utilization of the union of a and b, computed from their totals without building the union
// (base memory of a task type present in both counts twice: a slight overestimate, fine for ranking).
func UtilizationOf(a, b *Active, wr *storiface.WorkerResources) float64 {
	var u Active
	u.CPUUse = a.CPUUse + b.CPUUse
	u.MemUsedMin = a.MemUsedMin + b.MemUsedMin
	u.MemUsedMax = a.MemUsedMax + b.MemUsedMax
	u.BaseMem = a.BaseMem + b.BaseMem
	u.GPUUsed = a.GPUUsed + b.GPUUsed
	return u.Utilization(wr)
}

// MaxFit returns how many tasks with need n fit on an empty worker with resources wr (capped at limit), the
// concurrency the simulator's lower bound and the diagnostics use.
func MaxFit(n *Need, wr *storiface.WorkerResources, ignoreResources bool, limit int) int {
	var a Active
	k := 0
	for k < limit && a.CanHandle(n, wr, ignoreResources) == Fits {
		a.Add(n)
		k++
	}
	return k
}
