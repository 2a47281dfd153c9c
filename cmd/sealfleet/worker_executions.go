package main

import (
	"fmt"
	"os"
	"time"

	"github.com/urfave/cli/v2"

	"sealfleet/storiface"
	"sealfleet/worker"
)

// workerExecutionsCmd prints a worker's execution record, read straight from its database (the worker may be
// running or not).
var workerExecutionsCmd = &cli.Command{
	Name:  "executions",
	Usage: "print the worker's execution record (every execution of a call's work: finished, failed, cut by a restart, running), read from its database",
	Flags: []cli.Flag{workerRepoFlag, sealingJSONFlag},
	Action: func(cctx *cli.Context) error {
		log, err := worker.ReadExecutionsRepo(cctx.Context, cctx.String("worker-repo"))
		if err != nil {
			return err
		}
		sum := log.Summary()
		if cctx.Bool("json") {
			if log.Boots == nil {
				log.Boots = []worker.Boot{}
			}
			if log.Executions == nil {
				log.Executions = []worker.Execution{}
			}
			return printJSON(os.Stdout, struct {
				worker.ExecutionLog
				Summary worker.ExecutionSummary `json:"summary"`
			}{log, sum})
		}
		printExecutions(log, sum)
		return nil
	},
}

// printExecutions writes the record for people: one line per execution, then the counts.
func printExecutions(log worker.ExecutionLog, sum worker.ExecutionSummary) {
	boots := map[string]int64{}
	for _, b := range log.Boots {
		boots[b.ID] = b.Seq
	}
	fmt.Printf("%-23s %-5s %-12s %-8s %-4s %-6s %-24s %s\n", "STARTED", "TASK", "SECTOR", "STATE", "BOOT", "PID", "WORK", "CALL")
	for _, e := range log.Executions {
		work := e.WorkID
		if i := len(work) - 64; i > 0 {
			work = e.Task.Short() + "/" + work[i:i+16]
		}
		if work == "" {
			work = "-"
		}
		fmt.Printf("%-23s %-5s %-12s %-8s %-4d %-6d %-24s %s\n", e.Started.Format("2006-01-02 15:04:05.000"),
			e.Task.Short(), storiface.SectorName(e.Sector), e.State, boots[e.Boot], e.PID, work, e.Call)
		if e.ErrCode != nil {
			fmt.Printf("    error (%s): %s\n", *e.ErrCode, e.ErrMsg)
		}
	}
	cur := "none"
	if n := len(log.Boots); n > 0 {
		b := log.Boots[n-1]
		cur = fmt.Sprintf("#%d (pid %d, since %s)", b.Seq, b.PID, b.Started.Format(time.DateTime))
	}
	fmt.Printf("boots %d, current %s\n", len(log.Boots), cur)
	fmt.Printf("executions %d: finished %d, failed %d, cut %d, running %d\n", sum.Executions, sum.Finished, sum.Failed,
		sum.Cut, sum.Running)
	fmt.Printf("work IDs %d, most finished executions of one work ID %d\n", sum.WorkIDs, sum.MaxFinishedPerWorkID)
	for _, w := range sum.FinishedTwice {
		fmt.Printf("FINISHED MORE THAN ONCE: %s\n", w)
	}
}
