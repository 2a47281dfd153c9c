package main

import (
	"fmt"
	"os"

	"github.com/urfave/cli/v2"

	"sealfleet/resources"
)

// workerResourcesCmd prints the resource table in force for a worker started with this environment.
var workerResourcesCmd = &cli.Command{
	Name:  "resources",
	Usage: "print the resource table in force (env overrides applied) as NAME=VALUE lines",
	Flags: []cli.Flag{
		&cli.BoolFlag{Name: "all", Usage: "print every variable, not only the overridden ones"},
		&cli.BoolFlag{Name: "default", Usage: "print the default table, ignoring the environment"},
	},
	Action: func(cctx *cli.Context) error {
		def := resources.DefaultTable()
		if cctx.Bool("default") {
			for _, v := range resources.EnvVars(def) {
				fmt.Printf("%s=%s\n", v.Name, v.Value)
			}
			return nil
		}
		inForce, err := resources.ApplyEnv(def, os.LookupEnv)
		if err != nil {
			return err
		}
		vars := resources.DiffEnvVars(inForce, def)
		if cctx.Bool("all") {
			vars = resources.EnvVars(inForce)
		}
		for _, v := range vars {
			fmt.Printf("%s=%s\n", v.Name, v.Value)
		}
		return nil
	},
}

// workerCmd groups the worker commands; other worker subcommands (run, ...) join its Subcommands list.
var workerCmd = &cli.Command{
	Name:        "worker",
	Usage:       "worker process and tools",
	Subcommands: []*cli.Command{workerResourcesCmd, workerRunCmd, workerInfoCmd, workerTasksCmd, workerSetCmd, workerWaitQuietCmd, workerStopCmd, workerStorageCmd, workerExecutionsCmd},
}
