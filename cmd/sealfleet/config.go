package main

import (
	"fmt"

	"github.com/urfave/cli/v2"

	"sealfleet/node"
)

var configCmd = &cli.Command{
	Name:        "config",
	Usage:       "the node's config.toml",
	Subcommands: []*cli.Command{configDefaultCmd},
}

var configDefaultCmd = &cli.Command{
	Name:  "default",
	Usage: "print the default config.toml with every key documented (save it as <repo>/config.toml to edit)",
	Action: func(cctx *cli.Context) error {
		_, err := fmt.Fprint(cctx.App.Writer, node.DefaultConfigText())
		return err
	},
}
