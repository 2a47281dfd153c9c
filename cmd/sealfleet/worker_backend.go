package main

import (
	"errors"
	"net/http"

	"github.com/urfave/cli/v2"

	"sealfleet/seal"
	"sealfleet/stores"
)

// newSealBackend builds the sealing backend a worker runs calls with. The native backend (seal/native) has not
// landed in this tree yet, so `worker run` cannot seal; this is where it is wired once it exists.
func newSealBackend(*cli.Context) (seal.Backend, error) {
	return nil, errors.New("no sealing backend is built into this binary yet (seal/native is pending); " +
		"`sealfleet worker run` cannot start without one")
}

// newWorkerStore is the store a worker acquires files through. Until stores.Remote lands it is the local paths
// alone: files held by other nodes cannot be fetched.
func newWorkerStore(local *stores.Local, _ stores.SectorIndex, _ http.Header) stores.Store {
	return local
}

// newRemoteHandler serves this worker's files at /remote; nil until stores.FetchHandler lands.
var newRemoteHandler func(local *stores.Local) http.Handler
