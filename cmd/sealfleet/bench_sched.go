package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/urfave/cli/v2"

	"sealfleet/sched"
)

// benchSchedCmd times one full scheduling pass of the decision core.
var benchSchedCmd = &cli.Command{
	Name:  "sched",
	Usage: "time one full scheduling pass over W workers and R queued requests",
	Flags: []cli.Flag{
		&cli.IntFlag{Name: "workers", Value: 200, Usage: "number of workers"},
		&cli.IntFlag{Name: "requests", Value: 400, Usage: "number of queued requests"},
		&cli.IntFlag{Name: "repeat", Value: 5, Usage: "runs; the median pass time is reported"},
		&cli.BoolFlag{Name: "starved", Usage: "run the pass with every request past the starvation bound"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		w, r, n := cctx.Int("workers"), cctx.Int("requests"), cctx.Int("repeat")
		if w < 1 || r < 0 || n < 1 {
			return fmt.Errorf("--workers must be >= 1, --requests >= 0, --repeat >= 1")
		}
		var runs []sched.BenchResult
		for i := 0; i < n; i++ {
			res, err := sched.BenchPass(w, r, cctx.Bool("starved"))
			if err != nil {
				return fmt.Errorf("bench sched: %w", err)
			}
			runs = append(runs, res)
		}
		sort.Slice(runs, func(i, j int) bool { return runs[i].PassMicros < runs[j].PassMicros })
		med := runs[len(runs)/2]
		if cctx.Bool("json") {
			return json.NewEncoder(os.Stdout).Encode(med)
		}
		fmt.Printf("workers %d requests %d: full pass %.1f µs wall, %.1f µs CPU (median of %d), %d assigned\n",
			med.Workers, med.Requests, med.PassMicros, med.PassCPUMicros, n, med.Assigned)
		return nil
	},
}
