package main

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/google/uuid"
	"github.com/urfave/cli/v2"

	"sealfleet/sched"
)

var sealingSchedDiagRequestFlag = &cli.StringFlag{Name: "request",
	Usage: "explain one waiting request (a UUID from sched-diag's IDs) with every worker's reason"}

var sealingSchedDiagCmd = &cli.Command{
	Name: "sched-diag",
	Usage: "explain the scheduler: the waiting requests, grouped when every worker answers them alike, and why the " +
		"workers did not take them (--request ID: one request, every worker)",
	Flags: []cli.Flag{sealingJSONFlag, sealingSchedDiagRequestFlag},
	Action: func(cctx *cli.Context) error {
		if cctx.NArg() != 0 {
			return fmt.Errorf("sched-diag: takes no arguments (one request: --request ID), got %d", cctx.NArg())
		}
		var id uuid.UUID
		one := cctx.IsSet(sealingSchedDiagRequestFlag.Name)
		if one {
			var err error
			if id, err = uuid.Parse(cctx.String(sealingSchedDiagRequestFlag.Name)); err != nil {
				return fmt.Errorf("--request %q: want a request UUID as sched-diag lists it: %w",
					cctx.String(sealingSchedDiagRequestFlag.Name), err)
			}
		}
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		w := cctx.App.Writer
		if !one {
			d, err := m.SchedDiag(cctx.Context)
			if err != nil {
				return err
			}
			if cctx.Bool("json") {
				return printJSON(w, d)
			}
			return renderSchedDiag(w, d)
		}
		dr, err := m.SchedDiagRequest(cctx.Context, id)
		if err != nil {
			return fmt.Errorf("explaining request %s: %w", id, err)
		}
		if cctx.Bool("json") {
			return printJSON(w, dr)
		}
		return renderSchedDiagRequest(w, dr)
	},
}

// renderDiagReasons prints r's per-worker answers when it has them (one request explained), else its reasons
// grouped: the count of workers and a few of them.
func renderDiagReasons(w io.Writer, r sched.DiagRequest) {
	if len(r.Rejections) > 0 {
		for _, rej := range r.Rejections {
			detail := ""
			if rej.Detail != "" {
				detail = ": " + rej.Detail
			}
			fmt.Fprintf(w, "\t%-12s %s%s\n", rej.Hostname, rej.Reason, detail)
		}
		return
	}
	for _, g := range r.Reasons {
		hosts := strings.Join(g.Hostnames, ", ")
		if more := g.Count - len(g.Hostnames); more > 0 {
			hosts += fmt.Sprintf(", +%d more", more)
		}
		detail := ""
		if g.Detail != "" {
			detail = "; e.g. " + g.Detail
		}
		fmt.Fprintf(w, "\t%-20s %d worker(s): %s%s\n", g.Reason, g.Count, hosts, detail)
	}
}

// renderDiagHeader prints the line naming a request or group: its first request's ID (in full, for
// `sched-diag --request`), task, sector, priority, state and wait; for a group, how many requests and the other
// sectors listed.
func renderDiagHeader(w io.Writer, r sched.DiagRequest, now time.Time) {
	extra := ""
	if r.Reserved {
		extra = ", holds a starvation reservation"
	}
	if r.Count > 1 {
		nums := make([]string, 0, len(r.Sectors))
		for _, s := range r.Sectors[min(1, len(r.Sectors)):] {
			nums = append(nums, fmt.Sprint(s.Number))
		}
		if more := r.Count - max(1, len(r.Sectors)); more > 0 {
			nums = append(nums, fmt.Sprintf("+%d more", more))
		}
		extra += fmt.Sprintf(" (×%d; also sectors %s)", r.Count, strings.Join(nums, ", "))
	}
	fmt.Fprintf(w, "%s %s sector %d prio %d %s for %s%s\n", r.ID, r.Task.Short(), r.Sector.Number,
		r.Priority, r.State, now.Sub(r.Added).Truncate(time.Second), extra)
}

// renderSchedDiag prints each waiting request or group with its workers' reasons, then the windows and
// assignments, as `sealfleet sealing sched-diag` shows them.
func renderSchedDiag(w io.Writer, d sched.DiagInfo) error {
	now := renderNow()
	waiting := d.Waiting
	if waiting == 0 {
		waiting = len(d.Requests) // an answer from a manager that does not group
	}
	fmt.Fprintf(w, "Waiting requests: %d in %d group(s)\n", waiting, len(d.Requests))
	for _, r := range d.Requests {
		renderDiagHeader(w, r, now)
		renderDiagReasons(w, r)
	}
	fmt.Fprintf(w, "Windows:\n")
	tw := tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "\tWorker\tHostname\tWindow\tTasks\tUtilization")
	for _, win := range d.OpenWindows {
		fmt.Fprintf(tw, "\t%s\t%s\t%d\t%d\t%.0f%%\n", renderShortID(uuid.UUID(win.Worker)), win.Hostname, win.Window,
			len(win.Tasks), 100*win.Utilization)
	}
	if err := tw.Flush(); err != nil {
		return err
	}
	fmt.Fprintf(w, "Assignments: %d\n", len(d.Assignments))
	tw = tabwriter.NewWriter(w, 2, 4, 2, ' ', 0)
	for _, a := range d.Assignments {
		fmt.Fprintf(tw, "\t%s\t%s\tsector %d\t%s\t%s\n", renderShortID(a.ID), a.Task.Short(), a.Sector.Number, a.Hostname,
			a.State)
	}
	return tw.Flush()
}

// renderSchedDiagRequest prints one request (`sched-diag --request ID`): its line, then every worker's reason.
func renderSchedDiagRequest(w io.Writer, r sched.DiagRequest) error {
	renderDiagHeader(w, r, renderNow())
	renderDiagReasons(w, r)
	return nil
}
