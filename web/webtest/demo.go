package webtest

import (
	"fmt"
	"math/rand/v2"
	"time"

	"sealfleet/web"
)

// DemoStates is the pipeline order the demo uses (a CC sector's states, as Lotus names them).
var DemoStates = []string{
	"Packing", "PreCommit1", "PreCommit2", "PreCommitting", "WaitSeed", "Committing",
	"FinalizeSector", "Proving", "SealPreCommit1Failed",
}

// demoStage is one sealing task of a sector and the state the sector is in while it runs.
type demoStage struct {
	task  string
	state string
	dur   time.Duration
	gpu   bool
}

var demoStages = []demoStage{
	{"AP", "Packing", 6 * time.Minute, false},
	{"PC1", "PreCommit1", 3 * time.Hour, false},
	{"PC2", "PreCommit2", 25 * time.Minute, true},
	{"C1", "Committing", 1 * time.Minute, false},
	{"C2", "Committing", 20 * time.Minute, true},
	{"FIN", "FinalizeSector", 4 * time.Minute, false},
}

// Demo describes a synthetic cluster for Populate.
type Demo struct {
	Workers int       // number of workers
	Sectors int       // number of sectors in the history; the newest ones are still sealing
	Paths   int       // storage paths (0: one per 20 workers, at least 2; none without workers)
	Now     time.Time // the end of the history
	Seed    uint64    // random seed; the same seed gives the same cluster
}

// Populate fills m with a deterministic synthetic cluster: workers with resources and current jobs, a job
// history of six tasks per sector spread over the workers, sectors in every pipeline state with event logs,
// storage paths and a scheduler queue with rejection reasons. It is for tests, benchmarks and demos.
func Populate(m *MemSource, d Demo) {
	rng := rand.New(rand.NewPCG(d.Seed, d.Seed^0x5ea1))
	ids := make([]string, d.Workers)
	for i := range ids {
		ids[i] = fmt.Sprintf("w-%04d", i)
	}
	busy := populateHistory(m, d, rng, ids)
	for i, id := range ids {
		gpus := 0
		if i%4 == 3 {
			gpus = 2
		}
		w := web.Worker{
			ID: id, Hostname: fmt.Sprintf("seal-%03d.dc1", i), Enabled: i%37 != 5,
			Tasks: []string{"AP", "PC1", "PC2", "C1", "FIN"}, CPUTotal: 64, MemTotal: 512 << 30, GPUTotal: gpus,
		}
		if gpus > 0 {
			w.Tasks = []string{"PC2", "C2"}
		}
		for _, j := range busy[id] {
			w.Jobs = append(w.Jobs, web.WorkerJob{ID: j.ID, Task: j.Task, Sector: j.Sector, State: "running", Start: j.Start})
			w.CPUUsed += 8
			w.MemUsed += 64 << 30
			if j.Task == "PC2" || j.Task == "C2" {
				w.GPUUsed = min(w.GPUUsed+1, float64(gpus))
			}
		}
		w.CPUUsed, w.MemUsed = min(w.CPUUsed, w.CPUTotal), min(w.MemUsed, w.MemTotal)
		m.SetWorker(w, d.Now)
	}
	populateStorage(m, d, rng)
	populateQueue(m, d, rng, ids)
}

// populateHistory lays sectors out one after another so that the newest are still in flight at d.Now, and
// returns the running jobs per worker.
func populateHistory(m *MemSource, d Demo, rng *rand.Rand, ids []string) map[string][]web.Job {
	busy := map[string][]web.Job{}
	if d.Workers == 0 {
		return busy
	}
	// one sector every `gap`: a worker pool of n keeps about n sectors in PC1 at once
	gap := 3 * time.Hour / time.Duration(max(1, d.Workers))
	for n := range d.Sectors {
		num := uint64(n + 1)
		id := fmt.Sprintf("s-t01000-%d", num)
		t := d.Now.Add(-time.Duration(d.Sectors-n) * gap)
		for k, st := range demoStages {
			if t.After(d.Now) {
				break
			}
			m.SetSectorState(id, num, st.state, "", t)
			wait := time.Duration(rng.IntN(20)) * time.Minute
			w := ids[(n+k*7)%len(ids)]
			if st.gpu {
				w = ids[(n/4*4+3)%len(ids)] // GPU workers are every fourth
				if (n/4*4+3)%len(ids) < 3 {
					w = ids[min(3, len(ids)-1)]
				}
			}
			j := web.Job{ID: fmt.Sprintf("%s-%s", id, st.task), Task: st.task, Worker: w, Sector: id,
				Queued: t, Start: t.Add(wait)}
			end := j.Start.Add(st.dur + time.Duration(rng.IntN(600))*time.Second)
			switch {
			case j.Start.After(d.Now):
				j.Start, j.Worker = time.Time{}, ""
			case end.After(d.Now):
				busy[w] = append(busy[w], j)
			default:
				j.End = end
			}
			m.PutJob(j)
			if j.End.IsZero() {
				break
			}
			t = end
			if k == 2 { // after PC2: precommit message and the seed wait
				m.SetSectorState(id, num, "PreCommitting", "", t)
				t = t.Add(5 * time.Minute)
				m.SetSectorState(id, num, "WaitSeed", "", t)
				t = t.Add(75 * time.Minute)
			}
			if k == len(demoStages)-1 {
				m.SetSectorState(id, num, "Proving", "", t)
			}
		}
		if n%997 == 13 && d.Now.Sub(t) < 24*time.Hour {
			m.SetSectorState(id, num, "SealPreCommit1Failed", "storage: allocate space: no path with 64 GiB free", t)
		}
	}
	return busy
}

func populateStorage(m *MemSource, d Demo, rng *rand.Rand) {
	n := d.Paths
	if n == 0 && d.Workers > 0 {
		n = max(2, d.Workers/20)
	}
	for i := range n {
		capacity := int64(100+rng.IntN(100)) << 40
		used := capacity / 100 * int64(20+rng.IntN(70))
		reserved := int64(rng.IntN(4)) * (64 << 30)
		p := web.StoragePath{
			ID: fmt.Sprintf("path-%03d", i), Host: fmt.Sprintf("store-%02d.dc1", i%8), Path: fmt.Sprintf("/mnt/store%d", i),
			CanStore: i%5 != 0, CanSeal: i%5 == 0, Capacity: capacity, Used: used, Reserved: reserved,
			Available: capacity - used - reserved, Sectors: int(used / (32 << 30)), Healthy: i%41 != 7,
		}
		if !p.Healthy {
			p.Err = "heartbeat missed for 3m"
		}
		m.SetStoragePath(p, d.Now)
	}
}

func populateQueue(m *MemSource, d Demo, rng *rand.Rand, ids []string) {
	reasons := []string{
		"task PC1 not supported", "not enough memory: need 56 GiB, free 12 GiB", "no GPU",
		"disabled", "no sealing path with 64 GiB free", "max concurrent PC2 reached (1)",
	}
	var q []web.QueuedRequest
	for i := range min(40, d.Workers*2) {
		task := []string{"PC1", "PC2", "C2", "AP"}[i%4]
		r := web.QueuedRequest{ID: fmt.Sprintf("req-%d", i), Task: task, Sector: fmt.Sprintf("s-t01000-%d", d.Sectors+i+1),
			Queued: d.Now.Add(-time.Duration(rng.IntN(3600)) * time.Second)}
		for _, w := range ids {
			r.Rejections = append(r.Rejections, web.Rejection{Worker: w, Reason: reasons[rng.IntN(len(reasons))]})
		}
		q = append(q, r)
	}
	m.SetQueue(q, d.Now)
}
