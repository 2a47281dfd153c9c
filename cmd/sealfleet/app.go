package main

import "github.com/urfave/cli/v2"

// newApp builds the CLI. Each command group lives in its own file and is listed here.
func newApp() *cli.App {
	return &cli.App{
		Name:  "sealfleet",
		Usage: "a Filecoin sealing cluster: manager, workers and a native Go sealer",
		Commands: []*cli.Command{
			proofsCmd,
			benchCmd,
			sectorsCmd,
			authCmd,
			sealingCmd,
			simCmd,
			workerCmd,
			storageCmd,
			runCmd,
			configCmd,
			chaosCmd,
		},
	}
}
