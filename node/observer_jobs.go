package node

import (
	"time"

	"sealfleet/metrics"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/web"
)

// updateJobs records in the job history what changed since the last poll and returns the changed jobs: requests
// newly queued, jobs newly assigned or started, and jobs gone from the scheduler (finished). It also reports the
// queue lengths, scheduling waits and task durations to the metrics.
func (o *observer) updateJobs(now time.Time, info sched.DiagInfo, jobs map[storiface.WorkerID][]storiface.WorkerJob,
	stats map[storiface.WorkerID]sched.WorkerStats) []web.Job {
	o.mu.Lock()
	defer o.mu.Unlock()
	var changed []web.Job
	put := func(j web.Job) {
		if err := o.hist.Put(j); err == nil {
			changed = append(changed, j)
		}
	}
	seen := make(map[string]bool, len(o.live))
	queued := map[storiface.TaskType]int{}
	for _, r := range info.Requests {
		id := r.ID.String()
		seen[id] = true
		queued[r.Task]++
		if _, ok := o.live[id]; ok {
			continue
		}
		j := web.Job{ID: id, Task: r.Task.Short(), Sector: storiface.SectorName(r.Sector), Queued: r.Added}
		o.live[id] = j
		put(j)
	}
	for wid, js := range jobs {
		for _, wj := range js {
			id := wj.ID.ID.String()
			if seen[id] {
				continue // still listed as waiting: it has not been taken yet
			}
			seen[id] = true
			if j, ok := o.jobStarted(now, id, wid, wj, stats); ok {
				put(j)
			}
		}
	}
	for id, j := range o.live {
		if seen[id] {
			continue
		}
		delete(o.live, id)
		if j.Start.IsZero() {
			j.Start = now // started and finished between two polls
		}
		j.End = now
		o.m.ObserveTaskDone(taskOf(j.Task), hostOf(stats, j.Worker), j.End.Sub(j.Start))
		put(j)
	}
	for t := range o.queued {
		if queued[t] == 0 {
			o.m.SetQueueLength(t, 0)
		}
	}
	for t, n := range queued {
		o.m.SetQueueLength(t, n)
	}
	o.queued = queued
	return changed
}

// jobStarted updates a job the scheduler lists on a worker; it reports whether the job changed.
func (o *observer) jobStarted(now time.Time, id string, wid storiface.WorkerID, wj storiface.WorkerJob,
	stats map[storiface.WorkerID]sched.WorkerStats) (web.Job, bool) {
	j, ok := o.live[id]
	if !ok {
		queued := wj.Start
		if queued.IsZero() || wj.RunWait <= storiface.RWRunning {
			queued = now // assigned before we saw it queued; its start time is not its queue time
		}
		j = web.Job{ID: id, Task: wj.Task.Short(), Sector: storiface.SectorName(wj.Sector), Queued: queued}
	}
	changed := !ok
	if w := wid.String(); j.Worker != w {
		j.Worker, changed = w, true
	}
	if wj.RunWait <= storiface.RWRunning && j.Start.IsZero() { // running or preparing
		j.Start = wj.Start
		if j.Start.IsZero() || j.Start.Before(j.Queued) {
			j.Start = now
		}
		o.m.ObserveSchedWait(wj.Task, j.Start.Sub(j.Queued))
		changed = true
	}
	o.live[id] = j
	return j, changed
}

// updateWorkers reports each worker's resources to the metrics and tells subscribers about workers that came
// or went.
func (o *observer) updateWorkers(now time.Time, stats map[storiface.WorkerID]sched.WorkerStats) {
	o.mu.Lock()
	present := make(map[string]bool, len(stats))
	var came, went []string
	for wid, st := range stats {
		id := workerLabel(wid, st)
		present[id] = true
		if !o.workers[id] {
			came = append(came, id)
		}
		r := st.Info.Resources
		o.m.SetWorkerResources(id, metrics.WorkerResources{CPUUsed: st.CpuUse, CPUTotal: r.CPUs,
			MemUsed: st.MemUsedMin, MemTotal: r.MemPhysical, GPUUsed: st.GpuUsed, GPUTotal: len(r.GPUs),
			Enabled: st.Enabled})
	}
	for id := range o.workers {
		if !present[id] {
			went = append(went, id)
			o.m.RemoveWorker(id)
		}
	}
	o.workers = present
	o.mu.Unlock()
	for _, id := range came {
		o.publish(web.Change{Kind: web.ChangeWorker, Time: now, Worker: id, Message: "connected"})
	}
	for _, id := range went {
		o.publish(web.Change{Kind: web.ChangeWorker, Time: now, Worker: id, Message: "left"})
	}
}

// taskOf returns the task type with the given short name (TTNone if unknown).
func taskOf(short string) storiface.TaskType {
	for _, t := range storiface.AllTaskTypes() {
		if t.Short() == short {
			return t
		}
	}
	return ""
}

// hostOf returns the metrics label of the worker with ID id.
func hostOf(stats map[storiface.WorkerID]sched.WorkerStats, id string) string {
	for wid, st := range stats {
		if wid.String() == id {
			return workerLabel(wid, st)
		}
	}
	return id
}

// workerLabel names a worker in the metrics: its name (several workers may share a host), else its hostname,
// else its ID.
func workerLabel(wid storiface.WorkerID, st sched.WorkerStats) string {
	switch {
	case st.Info.Name != "":
		return st.Info.Name
	case st.Info.Hostname != "":
		return st.Info.Hostname
	}
	return wid.String()
}
