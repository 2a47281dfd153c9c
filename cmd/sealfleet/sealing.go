package main

import (
	"context"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"
	"github.com/urfave/cli/v2"

	"sealfleet/api"
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
	Name:   "jobs",
	Usage:  "list the jobs of every worker: running, prepared, assigned, ret-wait",
	Flags:  []cli.Flag{sealingJSONFlag},
	Action: managerQueryAction(api.Manager.WorkerJobs, renderJobs),
}

var sealingWorkersCmd = &cli.Command{
	Name:   "workers",
	Usage:  "list the workers with their tasks and resource use",
	Flags:  []cli.Flag{sealingJSONFlag},
	Action: managerQueryAction(api.Manager.WorkerStats, renderWorkers),
}

var sealingAbortCmd = &cli.Command{
	Name:      "abort",
	Usage:     "abort a running call (its operation fails with an aborted error; the worker cancels it)",
	ArgsUsage: "<call-id as `sealing jobs` prints it: miner-number-uuid>",
	Action: oneArgManagerAction("abort", "call ID", parseCallID,
		func(cctx *cli.Context, m api.Manager, id storiface.CallID) error {
			return m.Abort(cctx.Context, id)
		}),
}

// managerQueryAction returns the action of a read-only sealing command: it dials the manager, fetches the
// answer with query and prints it as JSON when --json is set, else with render. Errors from dialing and
// from query are returned as they are.
func managerQueryAction[T any](query func(api.Manager, context.Context) (T, error), render func(io.Writer, T) error) cli.ActionFunc {
	return func(cctx *cli.Context) error {
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		v, err := query(m, cctx.Context)
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return printJSON(os.Stdout, v)
		}
		return render(os.Stdout, v)
	}
}

// oneArgManagerAction returns the action of a command that takes exactly one argument: it fails with
// "<cmd>: want exactly one <what>, got N arguments" on any other count, parses the argument with parse
// (returning its error unchanged), dials the manager and runs do with the parsed value.
func oneArgManagerAction[T any](cmd, what string, parse func(string) (T, error), do func(cctx *cli.Context, m api.Manager, arg T) error) cli.ActionFunc {
	return func(cctx *cli.Context) error {
		if cctx.NArg() != 1 {
			return fmt.Errorf("%s: want exactly one %s, got %d arguments", cmd, what, cctx.NArg())
		}
		arg, err := parse(cctx.Args().First())
		if err != nil {
			return err
		}
		m, closer, err := dialManager(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return do(cctx, m, arg)
	}
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
