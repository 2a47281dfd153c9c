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

// renderNow is the clock the renderers use for ages; tests replace it.
var renderNow = time.Now

const renderBarWidth = 20

// bar draws a resource bar: [|||||       ] for used/total, clamped to the width.
func renderBar(used, total float64) string {
	n := 0
	if total > 0 {
		n = int(used / total * renderBarWidth)
	}
	n = max(0, min(renderBarWidth, n))
	return "[" + strings.Repeat("|", n) + strings.Repeat(" ", renderBarWidth-n) + "]"
}

func renderGiB(b uint64) string { return fmt.Sprintf("%.1f GiB", float64(b)/float64(1<<30)) }

func renderPct(used, total float64) float64 {
	if total == 0 {
		return 0
	}
	return 100 * used / total
}

// renderWorkers prints each worker with its task types and resource bars (threads, memory, memory+swap, GPUs),
// sorted by hostname then ID, as `sealfleet sealing workers` shows them.
func renderWorkers(w io.Writer, stats map[uuid.UUID]sched.WorkerStats) error {
	ids := make([]uuid.UUID, 0, len(stats))
	for id := range stats {
		ids = append(ids, id)
	}
	sort.Slice(ids, func(i, j int) bool {
		a, b := stats[ids[i]].Info.Hostname, stats[ids[j]].Info.Hostname
		if a != b {
			return a < b
		}
		return ids[i].String() < ids[j].String()
	})
	for _, id := range ids {
		st := stats[id]
		res := st.Info.Resources
		state := ""
		if !st.Enabled {
			state = " (disabled)"
		}
		fmt.Fprintf(w, "Worker %s, host %s%s\n", id, st.Info.Hostname, state)
		var tasks []string
		for _, tt := range st.Tasks {
			tasks = append(tasks, tt.Short())
		}
		fmt.Fprintf(w, "\tTASK: %s\n", strings.Join(tasks, " "))
		fmt.Fprintf(w, "\tCPU:  %s %d/%d core(s) in use\n", renderBar(float64(st.CpuUse), float64(res.CPUs)), st.CpuUse, res.CPUs)
		mem := float64(max(st.MemUsedMin, res.MemUsed))
		fmt.Fprintf(w, "\tRAM:  %s %.0f%% %s/%s\n", renderBar(mem, float64(res.MemPhysical)),
			renderPct(mem, float64(res.MemPhysical)), renderGiB(uint64(mem)), renderGiB(res.MemPhysical))
		vmem := float64(max(st.MemUsedMax, res.MemUsed+res.MemSwapUsed))
		vtotal := float64(res.MemPhysical + res.MemSwap)
		fmt.Fprintf(w, "\tVMEM: %s %.0f%% %s/%s\n", renderBar(vmem, vtotal), renderPct(vmem, vtotal), renderGiB(uint64(vmem)),
			renderGiB(res.MemPhysical+res.MemSwap))
		if g := len(res.GPUs); g > 0 {
			fmt.Fprintf(w, "\tGPU:  %s %.0f%% %.2f/%d gpu(s) in use\n", renderBar(st.GpuUsed, float64(g)),
				renderPct(st.GpuUsed, float64(g)), st.GpuUsed, g)
		}
		if len(st.TaskCounts) > 0 || st.Waiting > 0 {
			var counts []string
			for name, n := range st.TaskCounts {
				counts = append(counts, fmt.Sprintf("%s:%d", name, n))
			}
			sort.Strings(counts)
			fmt.Fprintf(w, "\tJOBS: %s waiting:%d\n", strings.Join(counts, " "), st.Waiting)
		}
	}
	return nil
}

// runWaitName names a WorkerJob's RunWait value as `sealing jobs` shows it.
func runWaitName(rw int) string {
	switch {
	case rw == storiface.RWRunning:
		return "running"
	case rw == storiface.RWPrepared:
		return "prepared"
	case rw == storiface.RWRetWait:
		return "ret-wait"
	case rw == storiface.RWReturned:
		return "returned"
	case rw == storiface.RWRetDone:
		return "ret-done"
	case rw > 0:
		return fmt.Sprintf("assigned(%d)", rw-1)
	}
	return fmt.Sprintf("state(%d)", rw)
}

// renderJobs prints one line per job, running first then by start time, as `sealfleet sealing jobs` shows them.
func renderJobs(w io.Writer, jobs map[uuid.UUID][]storiface.WorkerJob) error {
	type line struct {
		worker uuid.UUID
		job    storiface.WorkerJob
	}
	var lines []line
	for wid, js := range jobs {
		for _, j := range js {
			lines = append(lines, line{wid, j})
		}
	}
	rank := func(rw int) int {
		if rw == storiface.RWRunning {
			return 0
		}
		if rw == storiface.RWPrepared {
			return 1
		}
		if rw > 0 {
			return 1 + rw
		}
		return 100 - rw
	}
	sort.Slice(lines, func(i, j int) bool {
		a, b := lines[i].job, lines[j].job
		if rank(a.RunWait) != rank(b.RunWait) {
			return rank(a.RunWait) < rank(b.RunWait)
		}
		if !a.Start.Equal(b.Start) {
			return a.Start.Before(b.Start)
		}
		return a.ID.String() < b.ID.String()
	})
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "ID\tSector\tWorker\tHostname\tTask\tState\tTime")
	now := renderNow()
	for _, l := range lines {
		j := l.job
		age := "-"
		if !j.Start.IsZero() {
			age = now.Sub(j.Start).Truncate(time.Second).String()
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%s\t%s\t%s\n", j.ID.String(), j.Sector.Number, renderShortID(l.worker),
			j.Hostname, j.Task.Short(), runWaitName(j.RunWait), age)
	}
	return tw.Flush()
}

func renderShortID(id uuid.UUID) string { return id.String()[:8] }
