package main

import (
	"errors"

	"github.com/urfave/cli/v2"

	"sealfleet/seal"
)

// newSealBackend builds the sealing backend a worker runs calls with. The native backend (seal/native) has not
// landed in this tree yet, so `worker run` cannot seal; this is where it is wired once it exists.
func newSealBackend(*cli.Context) (seal.Backend, error) {
	return nil, errors.New("no sealing backend is built into this binary yet (seal/native is pending); " +
		"`sealfleet worker run` cannot start without one")
}
