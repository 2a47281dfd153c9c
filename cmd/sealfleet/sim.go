package main

import (
	"encoding/json"
	"fmt"
	"os"
	"sort"

	"github.com/urfave/cli/v2"

	"sealfleet/sim"
)

// simCmd runs the real scheduler core against a simulated cluster in virtual time.
var simCmd = &cli.Command{
	Name:  "sim",
	Usage: "simulate a sealing cluster with the real scheduler core (see sim/scenarios)",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "scenario", Required: true, Usage: "scenario JSON file"},
		&cli.StringFlag{Name: "assigner", Value: "utilization", Usage: "utilization or spread"},
		&cli.BoolFlag{Name: "json", Usage: "print JSON"},
	},
	Action: func(cctx *cli.Context) error {
		sc, err := sim.LoadScenario(cctx.String("scenario"))
		if err != nil {
			return err
		}
		res, err := sim.Run(sc, cctx.String("assigner"))
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return json.NewEncoder(os.Stdout).Encode(res)
		}
		fmt.Printf("assigner %s, %d sectors\n", res.Assigner, res.Sectors)
		fmt.Printf("makespan      %.0f s\nlower bound   %.0f s\nratio         %.3f\n", res.MakespanSeconds,
			res.LowerBoundSeconds, res.Ratio)
		fmt.Printf("max idle with eligible work %.0f s\nfetched       %.0f GiB\n", res.MaxIdleWithEligibleWorkSecond,
			res.FetchedGiB)
		groups := make([]string, 0, len(res.Utilization))
		for g := range res.Utilization {
			groups = append(groups, g)
		}
		sort.Strings(groups)
		for _, g := range groups {
			fmt.Printf("utilization %-12s %5.1f %%\n", g, 100*res.Utilization[g])
		}
		fmt.Printf("scheduling passes %d, mean %.1f µs\n", res.SchedulingPasses, res.MeanPassMicros)
		return nil
	},
}
