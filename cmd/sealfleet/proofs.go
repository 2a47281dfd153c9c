package main

import "github.com/urfave/cli/v2"

// proofsCmd groups the offline proof tools: commitments, parents cache, seal, verify, unseal.
var proofsCmd = &cli.Command{
	Name:        "proofs",
	Usage:       "offline proof tools (commitments, parents cache, seal, verify, unseal)",
	Subcommands: []*cli.Command{proofsCommPCmd, proofsCommDCmd, proofsParentsCmd, proofsSealCmd, proofsVerifyCmd, proofsUnsealCmd},
}
