package main

import "github.com/urfave/cli/v2"

// benchCmd groups the performance benchmarks whose figures go to BENCHMARKS.md.
var benchCmd = &cli.Command{
	Name:        "bench",
	Usage:       "measure sealing stages and the scheduler on this machine",
	Subcommands: []*cli.Command{benchPieceCmd, benchPC2Cmd, benchPC1Cmd, benchSchedCmd, benchFetchCmd},
}
