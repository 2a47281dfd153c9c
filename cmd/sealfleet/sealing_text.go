package main

import (
	"fmt"
	"io"
	"sort"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"

	"sealfleet/sched"
	"sealfleet/storiface"
)

// The text forms of the sealing commands. They are plain tables; sealing_render.go (the scheduler's own
// renderers) may replace them.

// jobState names a WorkerJob's RunWait.
func jobState(rw int) string {
	switch {
	case rw == storiface.RWRunning:
		return "running"
	case rw == storiface.RWRetWait:
		return "ret-wait"
	case rw == storiface.RWReturned:
		return "returned"
	case rw == storiface.RWRetDone:
		return "ret-done"
	case rw == storiface.RWPrepared:
		return "prepared"
	case rw > 0:
		return fmt.Sprintf("assigned(%d)", rw-1)
	}
	return fmt.Sprintf("state(%d)", rw)
}

func sealingJobsText(w io.Writer, jobs map[uuid.UUID][]storiface.WorkerJob) error {
	type row struct {
		worker uuid.UUID
		job    storiface.WorkerJob
	}
	var rows []row
	for id, js := range jobs {
		for _, j := range js {
			rows = append(rows, row{id, j})
		}
	}
	sort.Slice(rows, func(i, j int) bool {
		if !rows[i].job.Start.Equal(rows[j].job.Start) {
			return rows[i].job.Start.Before(rows[j].job.Start)
		}
		return rows[i].job.ID.String() < rows[j].job.ID.String()
	})
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSector\tWorker\tHostname\tTask\tState\tTime")
	now := time.Now()
	for _, r := range rows {
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", r.job.ID, r.job.Sector.Number, r.worker.String()[:8],
			r.job.Hostname, r.job.Task.Short(), jobState(r.job.RunWait), now.Sub(r.job.Start).Truncate(time.Second))
	}
	return tw.Flush()
}

func sealingWorkersText(w io.Writer, stats map[uuid.UUID]sched.WorkerStats) error {
	ids := make([]uuid.UUID, 0, len(stats))
	for id := range stats {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		return stats[ids[i]].Info.Hostname+ids[i].String() < stats[ids[j]].Info.Hostname+ids[j].String()
	})
	for _, id := range ids {
		st := stats[id]
		state := "enabled"
		if !st.Enabled {
			state = "disabled"
		}
		res := st.Info.Resources
		fmt.Fprintf(w, "Worker %s, host %s (%s), %s\n", id, st.Info.Hostname, st.Info.Name, state)
		fmt.Fprintf(w, "\tCPU:  %d/%d threads in use\n", st.CpuUse, res.CPUs)
		fmt.Fprintf(w, "\tRAM:  %s–%s reserved of %s (other processes: %s)\n", gib(st.MemUsedMin), gib(st.MemUsedMax),
			gib(res.MemPhysical), gib(res.MemUsed))
		if len(res.GPUs) > 0 {
			fmt.Fprintf(w, "\tGPU:  %.2f of %d in use (%s)\n", st.GpuUsed, len(res.GPUs), strings.Join(res.GPUs, ", "))
		}
		var tasks []string
		for _, tt := range st.Tasks {
			tasks = append(tasks, tt.Short())
		}
		fmt.Fprintf(w, "\tTasks: %s\n", strings.Join(tasks, " "))
		if len(st.TaskCounts) > 0 {
			var counts []string
			for tt, n := range st.TaskCounts {
				counts = append(counts, fmt.Sprintf("%s:%d", tt, n))
			}
			sort.Strings(counts)
			fmt.Fprintf(w, "\tRunning: %s; waiting in windows: %d\n", strings.Join(counts, " "), st.Waiting)
		}
	}
	return nil
}

func gib(b uint64) string { return fmt.Sprintf("%.1fGiB", float64(b)/(1<<30)) }

func sealingDiagText(w io.Writer, d sched.DiagInfo) error {
	if len(d.Requests) == 0 {
		fmt.Fprintln(w, "No waiting requests.")
	}
	for _, r := range d.Requests {
		fmt.Fprintf(w, "Request %s: sector %d %s, priority %d, %s since %s\n", r.ID.String()[:8], r.Sector.Number,
			r.Task.Short(), r.Priority, r.State, r.Added.Format(time.RFC3339))
		for _, rej := range r.Rejections {
			detail := ""
			if rej.Detail != "" {
				detail = ": " + rej.Detail
			}
			fmt.Fprintf(w, "\t%s (%s): %s%s\n", rej.Hostname, rej.Worker.String()[:8], rej.Reason, detail)
		}
	}
	fmt.Fprintf(w, "Open windows: %d, assignments: %d\n", len(d.OpenWindows), len(d.Assignments))
	return nil
}
