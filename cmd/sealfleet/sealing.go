package main

import (
	"fmt"
	"os"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/urfave/cli/v2"

	"sealfleet/storiface"
)

// sealingCmd groups the scheduler and job inspection commands.
var sealingCmd = &cli.Command{
	Name:        "sealing",
	Usage:       "inspect and steer the manager's scheduler: jobs, workers, sched-diag, abort, remove-worker",
	Flags:       []cli.Flag{managerRepoFlag},
	Subcommands: []*cli.Command{sealingJobsCmd, sealingWorkersCmd, sealingSchedDiagCmd, sealingAbortCmd, sealingRemoveWorkerCmd},
}

var sealingJSONFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"}

var sealingJobsCmd = &cli.Command{
	Name:  "jobs",
	Usage: "list the jobs of every worker: running, prepared, assigned, ret-wait",
	Flags: []cli.Flag{sealingJSONFlag},
	Action: func(cctx *cli.Context) error {
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		jobs, err := m.WorkerJobs(cctx.Context)
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return printJSON(os.Stdout, jobs)
		}
		return renderJobs(os.Stdout, jobs)
	},
}

var sealingWorkersCmd = &cli.Command{
	Name:  "workers",
	Usage: "list the workers with their tasks and resource use",
	Flags: []cli.Flag{sealingJSONFlag},
	Action: func(cctx *cli.Context) error {
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		stats, err := m.WorkerStats(cctx.Context)
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return printJSON(os.Stdout, stats)
		}
		return renderWorkers(os.Stdout, stats)
	},
}

var sealingSchedDiagCmd = &cli.Command{
	Name:  "sched-diag",
	Usage: "explain the scheduler: each waiting request and why each worker did not take it",
	Flags: []cli.Flag{sealingJSONFlag},
	Action: func(cctx *cli.Context) error {
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		diag, err := m.SchedDiag(cctx.Context)
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return printJSON(os.Stdout, diag)
		}
		return renderSchedDiag(os.Stdout, diag)
	},
}

var sealingAbortCmd = &cli.Command{
	Name:      "abort",
	Usage:     "abort a running call (its operation fails with an aborted error; the worker cancels it)",
	ArgsUsage: "<call-id as `sealing jobs` prints it: miner-number-uuid>",
	Action: func(cctx *cli.Context) error {
		if cctx.NArg() != 1 {
			return fmt.Errorf("abort: want exactly one call ID, got %d arguments", cctx.NArg())
		}
		id, err := parseCallID(cctx.Args().First())
		if err != nil {
			return err
		}
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return m.Abort(cctx.Context, id)
	},
}

// parseCallID parses storiface.CallID.String(): "<miner>-<number>-<uuid>".
func parseCallID(s string) (storiface.CallID, error) {
	parts := strings.SplitN(s, "-", 3)
	if len(parts) != 3 {
		return storiface.UndefCall, fmt.Errorf("call ID %q: want <miner>-<number>-<uuid>", s)
	}
	miner, err := strconv.ParseUint(parts[0], 10, 64)
	if err != nil {
		return storiface.UndefCall, fmt.Errorf("call ID %q: miner: %w", s, err)
	}
	num, err := strconv.ParseUint(parts[1], 10, 64)
	if err != nil {
		return storiface.UndefCall, fmt.Errorf("call ID %q: sector number: %w", s, err)
	}
	u, err := uuid.Parse(parts[2])
	if err != nil {
		return storiface.UndefCall, fmt.Errorf("call ID %q: uuid: %w", s, err)
	}
	return storiface.CallID{Sector: abi.SectorID{Miner: abi.ActorID(miner), Number: abi.SectorNumber(num)}, ID: u}, nil
}
