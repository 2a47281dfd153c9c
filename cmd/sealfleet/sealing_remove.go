package main

import (
	"fmt"

	"github.com/google/uuid"
	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/storiface"
)

// sealingRemoveWorkerCmd takes a worker out of the manager's scheduler.
var sealingRemoveWorkerCmd = &cli.Command{
	Name: "remove-worker",
	Usage: "remove a worker that vanished and will not come back: its waiting tasks return to the queue and the " +
		"operations waiting for its running calls are scheduled on other workers",
	ArgsUsage: "<worker ID as `sealing workers` prints it (a UUID)>",
	Action: oneArgManagerAction("remove-worker", "worker ID", parseWorkerID,
		func(cctx *cli.Context, m api.Manager, id storiface.WorkerID) error {
			if err := m.WorkerRemove(cctx.Context, id); err != nil {
				return fmt.Errorf("remove-worker %s: %w", id, err)
			}
			fmt.Fprintf(cctx.App.Writer, "removed worker %s\n", id)
			return nil
		}),
}

// parseWorkerID parses a worker ID: the UUID `sealing workers` prints.
func parseWorkerID(s string) (storiface.WorkerID, error) {
	u, err := uuid.Parse(s)
	if err != nil {
		return storiface.WorkerID{}, fmt.Errorf("worker ID %q: want a UUID as `sealing workers` prints it: %w", s, err)
	}
	return storiface.WorkerID(u), nil
}
