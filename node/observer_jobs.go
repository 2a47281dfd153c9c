package node

import (
	"time"

	"sealfleet/metrics"
	"sealfleet/sched"
	"sealfleet/storiface"
	"sealfleet/web"
)

// jobEvent is the scheduler's OnJob hook: it records each request as it is queued, starts and finishes in the
// job history, tells subscribers, and reports queue lengths, scheduling waits and task outcomes to the metrics.
// The scheduler calls it synchronously from the goroutine where the event happens, so it only takes the
// observer's lock, updates in-memory indexes and sends without blocking.
func (o *observer) jobEvent(ev sched.JobEvent) {
	j := web.Job{ID: ev.ID.String(), Task: ev.Task.Short(), Sector: storiface.SectorName(ev.Sector.ID),
		Queued: ev.Queued, Start: ev.Started}
	if ev.Worker != (storiface.WorkerID{}) {
		j.Worker = ev.Worker.String()
	}
	queueChanged := true
	switch ev.Kind {
	case sched.JobQueued:
		o.addQueued(ev.Task, 1)
	case sched.JobStarted:
		o.addQueued(ev.Task, -1)
		o.m.ObserveSchedWait(ev.Task, ev.Started.Sub(ev.Queued))
	case sched.JobFinished:
		j.End = ev.Time
		if ev.Err != nil {
			j.Failed, j.Message = true, ev.Err.Error()
		}
		label := eventLabel(ev)
		switch {
		case ev.Started.IsZero(): // left the queue without running (cancelled, removed, closed)
			j.Start = ev.Time
			o.addQueued(ev.Task, -1)
		case ev.Err != nil:
			queueChanged = false
			o.m.ObserveTaskFailed(ev.Task, label)
		default:
			queueChanged = false
			o.m.ObserveTaskDone(ev.Task, label, ev.Time.Sub(ev.Started))
		}
	}
	if err := o.hist.Put(j); err != nil {
		return
	}
	if queueChanged {
		o.publish(web.Change{Kind: web.ChangeQueue, Time: ev.Time})
	}
	o.publish(web.Change{Kind: web.ChangeJob, Time: ev.Time, Sector: j.Sector, Job: &j})
}

// addQueued adds d to the number of waiting requests of task and reports it to the metrics.
func (o *observer) addQueued(task storiface.TaskType, d int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	n := o.queued[task] + d
	if n <= 0 {
		n = 0
		delete(o.queued, task)
	} else {
		o.queued[task] = n
	}
	o.m.SetQueueLength(task, n)
}

// eventLabel names the worker of a job event in the metrics, as workerLabel does.
func eventLabel(ev sched.JobEvent) string {
	switch {
	case ev.WorkerName != "":
		return ev.WorkerName
	case ev.Hostname != "":
		return ev.Hostname
	}
	return ev.Worker.String()
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
