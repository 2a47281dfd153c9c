package sim

import (
	"container/heap"
	"context"
	"fmt"
	"math"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/resources"
	"sealfleet/sched"
	"sealfleet/storiface"
)

// Result is what a simulation measured. JSON keys are the CLI's output.
type Result struct {
	Assigner                      string             `json:"assigner"`
	Sectors                       int                `json:"sectors"`
	MakespanSeconds               float64            `json:"makespanSeconds"`
	LowerBoundSeconds             float64            `json:"lowerBoundSeconds"`
	Ratio                         float64            `json:"ratio"`
	MaxIdleWithEligibleWorkSecond float64            `json:"maxIdleWithEligibleWorkSeconds"`
	FetchedGiB                    float64            `json:"fetchedGiB"`
	Utilization                   map[string]float64 `json:"utilization"`
	SchedulingPasses              uint64             `json:"schedulingPasses"`
	MeanPassMicros                float64            `json:"meanPassMicros"`

	// DealMeanSeconds and RegularMeanSeconds are the mean time from arrival to the end of the pipeline of deal
	// and of regular sectors (not in the JSON output; tests read them).
	DealMeanSeconds    float64 `json:"-"`
	RegularMeanSeconds float64 `json:"-"`
}

// stageFiles are the sector files a stage works on (and so fetches when they are elsewhere).
var stageFiles = map[storiface.TaskType]storiface.SectorFileType{
	storiface.TTPreCommit1: storiface.FTUnsealed,
	storiface.TTPreCommit2: storiface.FTSealed | storiface.FTCache,
	storiface.TTCommit1:    storiface.FTSealed | storiface.FTCache,
	storiface.TTFinalize:   storiface.FTSealed | storiface.FTCache | storiface.FTUnsealed,
	storiface.TTUnseal:     storiface.FTSealed | storiface.FTCache,
}

type simWorker struct {
	id    storiface.WorkerID
	group int
	speed float64
	util  float64 // integral of active utilization over time
	idle  float64 // start of the current idle-with-eligible-work interval, NaN when none
}

type sector struct {
	n        int
	stage    int
	location int // index of the worker holding its files, -1 none
	deal     bool
	arrived  float64
}

type event struct {
	at   float64
	seq  uint64
	kind int // 0 arrival, 1 prepare done, 2 work done, 3 wakeup
	sec  *sector
	req  *sched.Request
}

type eventHeap []event

func (h eventHeap) Len() int { return len(h) }
func (h eventHeap) Less(i, j int) bool {
	if h[i].at != h[j].at {
		return h[i].at < h[j].at
	}
	return h[i].seq < h[j].seq
}
func (h eventHeap) Swap(i, j int) { h[i], h[j] = h[j], h[i] }
func (h *eventHeap) Push(x any)   { *h = append(*h, x.(event)) }
func (h *eventHeap) Pop() any {
	old := *h
	e := old[len(old)-1]
	*h = old[:len(old)-1]
	return e
}

// simulator holds one run's state.
type simulator struct {
	sc      *Scenario
	core    *sched.Core
	workers []*simWorker
	byID    map[storiface.WorkerID]int
	events  eventHeap
	seq     uint64
	now     float64
	ssize   abi.SectorSize

	fetched   float64
	maxIdle   float64
	latency   [2]float64 // sum of arrival-to-done: regular, deal
	count     [2]int
	done      int
	lastDone  float64
	passNanos int64
}

var epoch = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// Run simulates the scenario with an assigner ("" = utilization).
func Run(sc *Scenario, assigner string) (*Result, error) {
	starve := time.Duration(sc.StarvationAfterSeconds * float64(time.Second))
	if sc.StarvationAfterSeconds < 0 {
		starve = 0
	}
	core, err := sched.NewCore(sched.CoreConfig{Assigner: assigner, Seed: sc.Seed, StarvationAfter: starve})
	if err != nil {
		return nil, fmt.Errorf("simulation: %w", err)
	}
	s := &simulator{sc: sc, core: core, byID: map[storiface.WorkerID]int{}}
	s.ssize, _ = sc.spt.SectorSize()
	for gi, g := range sc.Workers {
		info := groupInfo(g)
		tasks := map[storiface.TaskType]struct{}{}
		for _, tt := range g.tasks {
			tasks[tt] = struct{}{}
		}
		for i := 0; i < g.Count; i++ {
			id := storiface.WorkerID(uuid.NewSHA1(uuid.NameSpaceOID, []byte(fmt.Sprintf("%s/%d", g.Name, i))))
			info.Hostname = fmt.Sprintf("%s-%d", g.Name, i)
			if err := core.AddWorker(id, info, tasks, nil); err != nil {
				return nil, err
			}
			s.byID[id] = len(s.workers)
			s.workers = append(s.workers, &simWorker{id: id, group: gi, speed: g.Speed, idle: math.NaN()})
		}
	}
	for i := 0; i < sc.Sectors; i++ {
		sec := &sector{n: i, location: -1}
		at := float64(i) * sc.ArrivalEverySeconds
		if sc.DealSectors > 0 && i >= sc.Sectors-sc.DealSectors {
			sec.deal = true
			if sc.DealBurstAtSeconds > 0 {
				at = sc.DealBurstAtSeconds
			}
		}
		sec.arrived = at
		s.push(event{at: at, kind: 0, sec: sec})
	}
	if err := s.loop(); err != nil {
		return nil, err
	}
	return s.result(assigner), nil
}

func groupInfo(g WorkerGroup) storiface.WorkerInfo {
	wr := storiface.WorkerResources{MemPhysical: g.MemoryGiB << 30, MemSwap: g.SwapGiB << 30, CPUs: g.CPUs}
	for i := 0; i < g.GPUs; i++ {
		wr.GPUs = append(wr.GPUs, fmt.Sprintf("gpu%d", i))
	}
	return storiface.WorkerInfo{Name: g.Name, Resources: wr}
}

func (s *simulator) push(e event) {
	s.seq++
	e.seq = s.seq
	heap.Push(&s.events, e)
}

func (s *simulator) at(t float64) time.Time {
	return epoch.Add(time.Duration(t * float64(time.Second)))
}

// loop processes events in time order; after each instant's events it steps the core once.
func (s *simulator) loop() error {
	for s.events.Len() > 0 {
		t := s.events[0].at
		s.advance(t)
		for s.events.Len() > 0 && s.events[0].at == t {
			if err := s.handle(heap.Pop(&s.events).(event)); err != nil {
				return err
			}
		}
		start := time.Now()
		acts := s.core.Step(s.at(t))
		s.passNanos += time.Since(start).Nanoseconds()
		for _, a := range acts {
			s.act(a)
		}
		if w := s.core.NextWakeup(); !w.IsZero() {
			s.push(event{at: w.Sub(epoch).Seconds(), kind: 3})
		}
		s.trackIdle()
	}
	if s.done != s.sc.Sectors {
		return fmt.Errorf("simulation stalled: %d of %d sectors finished; %d requests left (no worker can run them?)",
			s.done, s.sc.Sectors, s.core.Live())
	}
	return nil
}

// advance integrates utilization up to t.
func (s *simulator) advance(t float64) {
	dt := t - s.now
	if dt > 0 {
		for _, w := range s.workers {
			w.util += s.core.Worker(w.id).ActiveUtilization() * dt
		}
	}
	s.now = t
}

func (s *simulator) handle(e event) error {
	switch e.kind {
	case 0:
		return s.request(e.sec)
	case 1:
		return s.core.PrepareDone(e.req.ID, nil)
	case 2:
		sec := e.req.Payload.(*sector)
		if err := s.core.WorkDone(e.req.ID); err != nil {
			return err
		}
		sec.stage++
		if sec.stage == len(s.sc.tasks) {
			s.done++
			s.lastDone = s.now
			kind := 0
			if sec.deal {
				kind = 1
			}
			s.latency[kind] += s.now - sec.arrived
			s.count[kind]++
			return nil
		}
		return s.request(sec)
	}
	return nil
}

// request queues the sector's current stage.
func (s *simulator) request(sec *sector) error {
	tt := s.sc.tasks[sec.stage]
	prio := 0
	if sec.deal {
		prio = sched.DealSectorPriority
	}
	r := &sched.Request{ID: uuid.NewSHA1(uuid.NameSpaceURL, []byte(fmt.Sprintf("%d/%d", sec.n, sec.stage))),
		Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: abi.SectorNumber(sec.n)}, ProofType: s.sc.spt},
		Task:   tt, Priority: prio, Sel: &selector{s: s, sec: sec}, Added: s.at(s.now), Payload: sec,
		HasPrepare: stageFiles[tt] != 0, PrepType: storiface.TTFetch, Ctx: context.Background()}
	return s.core.AddRequest(r)
}

// act carries out one action of the core in virtual time.
func (s *simulator) act(a sched.Action) {
	sec := a.Req.Payload.(*sector)
	wi := s.byID[a.Worker]
	w := s.workers[wi]
	tt := a.Req.Task
	switch a.Kind {
	case sched.ActPrepare:
		d := 0.0
		if files := stageFiles[tt]; files != 0 && sec.location >= 0 && sec.location != wi {
			gib := float64(files.SealSpaceUse(s.ssize)) / float64(1<<30)
			s.fetched += gib
			d = gib * s.sc.FetchSecondsPerGiB
		}
		sec.location = wi
		s.push(event{at: s.now + d, kind: 1, req: a.Req})
	case sched.ActWork:
		if tt == storiface.TTAddPiece || stageFiles[tt] != 0 {
			sec.location = wi
		}
		d := s.sc.DurationsSeconds[tt.Short()] / w.speed
		s.push(event{at: s.now + d, kind: 2, req: a.Req})
	}
}

// trackIdle updates the idle-with-eligible-work intervals after a step.
func (s *simulator) trackIdle() {
	idle := map[storiface.WorkerID]bool{}
	for _, id := range s.core.IdleWithEligibleWork() {
		idle[id] = true
	}
	for _, w := range s.workers {
		switch {
		case idle[w.id] && math.IsNaN(w.idle):
			w.idle = s.now
		case !idle[w.id] && !math.IsNaN(w.idle):
			s.maxIdle = max(s.maxIdle, s.now-w.idle)
			w.idle = math.NaN()
		}
	}
}

func (s *simulator) result(assigner string) *Result {
	if assigner == "" {
		assigner = sched.AssignerUtilization
	}
	r := &Result{Assigner: assigner, Sectors: s.sc.Sectors, MakespanSeconds: s.lastDone,
		MaxIdleWithEligibleWorkSecond: s.maxIdle, FetchedGiB: s.fetched, Utilization: map[string]float64{},
		SchedulingPasses: s.core.Passes()}
	if r.SchedulingPasses > 0 {
		r.MeanPassMicros = float64(s.passNanos) / 1e3 / float64(r.SchedulingPasses)
	}
	count := map[string]int{}
	for _, w := range s.workers {
		g := s.sc.Workers[w.group].Name
		if s.lastDone > 0 {
			r.Utilization[g] += w.util / s.lastDone
		}
		count[g]++
	}
	for g, n := range count {
		r.Utilization[g] /= float64(n)
	}
	if s.count[0] > 0 {
		r.RegularMeanSeconds = s.latency[0] / float64(s.count[0])
	}
	if s.count[1] > 0 {
		r.DealMeanSeconds = s.latency[1] / float64(s.count[1])
	}
	r.LowerBoundSeconds = LowerBound(s.sc)
	if r.LowerBoundSeconds > 0 {
		r.Ratio = r.MakespanSeconds / r.LowerBoundSeconds
	}
	return r
}

// LowerBound returns a makespan no schedule can beat, the largest of:
//
//  1. the last arrival plus one sector's critical path: each stage's duration on the fastest worker that can run
//     it, ignoring fetches and waiting;
//  2. per task type, its total work (sectors × duration) divided by the cluster's throughput for it: the sum over
//     workers of speed × how many such tasks fit on the idle worker at once (resources.MaxFit with the worker's
//     resources from the ResourceTable). Work cannot be done faster than that even with perfect packing;
//  3. shared resources: for each set S of workers that is the eligible set of some task type, and each resource
//     dimension (threads, physical memory, memory+swap, GPUs), take the task types T that can run only inside S.
//     A task of type t on worker w occupies the share use/capacity of w's dimension for duration/speed(w)
//     seconds; charge each task at its cheapest eligible worker. No task of T with a non-zero charge starts before
//     e(T), the earliest arrival plus the stages before it at the fastest speeds, and S supplies |S| worker-seconds per second, so
//     makespan ≥ e(T) + Σ_t sectors × cheapest charge(t) / |S|. This is what binds when, e.g., PC2 and C2 share
//     the same GPUs: bound 2 looks at each task type alone.
func LowerBound(sc *Scenario) float64 {
	lastArrival := float64(sc.Sectors-1) * sc.ArrivalEverySeconds
	firstArrival := 0.0
	if sc.DealSectors > 0 && sc.DealBurstAtSeconds > 0 {
		regular := sc.Sectors - sc.DealSectors
		lastArrival = max(float64(max(regular-1, 0))*sc.ArrivalEverySeconds, sc.DealBurstAtSeconds)
		if regular == 0 {
			firstArrival = sc.DealBurstAtSeconds
		}
	}
	table := resources.DefaultTable()
	critical, bound := 0.0, 0.0
	earliest := make([]float64, len(sc.tasks)) // earliest start of stage i
	for i, tt := range sc.tasks {
		earliest[i] = firstArrival + critical
		fastest, capacity := 0.0, 0.0
		for _, g := range sc.Workers {
			if !hasTask(g.tasks, tt) {
				continue
			}
			info := groupInfo(g)
			n := resources.NeedFor(tt, table.Spec(tt, sc.spt), &info.Resources)
			fit := resources.MaxFit(&n, &info.Resources, false, sc.Sectors)
			if fit == 0 {
				continue
			}
			fastest = max(fastest, g.Speed)
			capacity += float64(g.Count*fit) * g.Speed
		}
		d := sc.DurationsSeconds[tt.Short()]
		if fastest > 0 {
			critical += d / fastest
			bound = max(bound, float64(sc.Sectors)*d/capacity)
		}
	}
	return max(lastArrival+critical, bound, sharedBound(sc, table, earliest))
}

// sharedBound is bound 3 of LowerBound.
func sharedBound(sc *Scenario, table resources.Table, earliest []float64) float64 {
	// eligible[i] is the set of groups (bitmask) that can run stage i.
	eligible := make([]uint64, len(sc.tasks))
	for i, tt := range sc.tasks {
		for gi, g := range sc.Workers {
			if gi < 64 && hasTask(g.tasks, tt) {
				eligible[i] |= 1 << gi
			}
		}
	}
	best := 0.0
	for _, set := range eligible {
		workers := 0
		for gi, g := range sc.Workers {
			if gi < 64 && set&(1<<gi) != 0 {
				workers += g.Count
			}
		}
		if set == 0 || workers == 0 {
			continue
		}
		for dim := 0; dim < 4; dim++ {
			start, total := math.Inf(1), 0.0
			for i, tt := range sc.tasks {
				if eligible[i]&^set != 0 || eligible[i] == 0 {
					continue
				}
				cheapest := math.Inf(1)
				for gi, g := range sc.Workers {
					if gi >= 64 || eligible[i]&(1<<gi) == 0 {
						continue
					}
					info := groupInfo(g)
					r := table.Spec(tt, sc.spt)
					cheapest = min(cheapest, share(r, &info.Resources, dim)*sc.DurationsSeconds[tt.Short()]/g.Speed)
				}
				if cheapest > 0 {
					start = min(start, earliest[i])
					total += float64(sc.Sectors) * cheapest
				}
			}
			if total > 0 {
				best = max(best, start+total/float64(workers))
			}
		}
	}
	return best
}

// share is the fraction of one resource dimension of a worker that one task with resources r occupies:
// 0 threads, 1 physical memory (MinMemory), 2 memory+swap (MaxMemory), 3 GPUs (a worker without GPUs runs GPU
// tasks on its CPUs: share 0).
func share(r storiface.Resources, wr *storiface.WorkerResources, dim int) float64 {
	switch dim {
	case 0:
		if wr.CPUs > 0 {
			return float64(resources.Threads(r, wr.CPUs, len(wr.GPUs))) / float64(wr.CPUs)
		}
	case 1:
		if wr.MemPhysical > 0 {
			return float64(r.MinMemory) / float64(wr.MemPhysical)
		}
	case 2:
		if t := wr.MemPhysical + wr.MemSwap; t > 0 {
			return float64(r.MaxMemory) / float64(t)
		}
	case 3:
		if g := len(wr.GPUs); g > 0 {
			return r.GPUUtilization / float64(g)
		}
	}
	return 0
}

func hasTask(list []storiface.TaskType, tt storiface.TaskType) bool {
	for _, t := range list {
		if t == tt {
			return true
		}
	}
	return false
}

// selector is the simulator's existing-files selector: every worker that lists the task passes; the one holding
// the sector's files (or any, for stages that need none) scores 1, others 0.5 (they would fetch).
type selector struct {
	s   *simulator
	sec *sector
}

func (sel *selector) Filter(_ context.Context, tt storiface.TaskType, _ abi.RegisteredSealProof, w *sched.WorkerHandle) (bool, string, error) {
	if !w.Supports(tt) {
		return false, "task not supported", nil
	}
	return true, "", nil
}

func (sel *selector) Score(_ context.Context, tt storiface.TaskType, _ abi.RegisteredSealProof, w *sched.WorkerHandle) float64 {
	if stageFiles[tt] == 0 || sel.sec.location < 0 || sel.s.workers[sel.sec.location].id == w.ID {
		return 1
	}
	return 0.5
}
