package main

import (
	"os"
	"strings"
	"time"

	"github.com/urfave/cli/v2"

	"sealfleet/seal"
	"sealfleet/seal/native"
)

// Environment variables that configure the sealing backend of `worker run` and `run`.
const (
	// envC2Command, when set, is the command line of an external C2 prover (see native.ExternalProver); without it
	// C2 uses the vanilla prover, whose proofs the Filecoin chain does not accept.
	envC2Command = "SEALFLEET_C2_COMMAND"
	// envC2Timeout bounds one external C2 run (a Go duration, default 2h).
	envC2Timeout = "SEALFLEET_C2_TIMEOUT"
)

// newSealBackend builds the native sealing backend. The parents cache lives in $SEALFLEET_PARENT_CACHE (default
// ~/.sealfleet/parents, see seal/sdr).
func newSealBackend(*cli.Context) (seal.Backend, error) {
	return native.New(native.Config{Prover: proverFromEnv()}), nil
}

// proverFromEnv returns the external prover configured by the environment, or nil for the vanilla prover.
func proverFromEnv() native.Prover {
	cmd := strings.Fields(os.Getenv(envC2Command))
	if len(cmd) == 0 {
		return nil
	}
	timeout, _ := time.ParseDuration(os.Getenv(envC2Timeout))
	return native.ExternalProver{Command: cmd, Timeout: timeout}
}
