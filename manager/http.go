package manager

import (
	"net/http"

	"sealfleet/api"
	"sealfleet/seal/partialfile"
	"sealfleet/stores"
)

// Handler returns the manager node's HTTP surface: the Manager API at /rpc/v0 (HTTP and WebSocket, tokens
// checked with the manager's secret) and, when local is given, the node's sector files at /remote for admin
// tokens. allocated answers /remote's allocated-range requests; nil means partialfile.Allocated, which reads the
// unsealed file's allocation trailer. `sealfleet run` mounts it next to its own handlers (metrics, dashboard).
func (m *Manager) Handler(local *stores.Local, allocated stores.AllocatedFunc) http.Handler {
	verify := api.Verifier(m.deps.Secret)
	mux := http.NewServeMux()
	mux.Handle(api.RPCPath, api.ManagerHandler(m, verify))
	if local != nil {
		if allocated == nil {
			allocated = partialfile.Allocated
		}
		mux.Handle("/remote/", stores.NewFetchHandler(local, api.Authorize(verify, api.PermAdmin), allocated))
	}
	return mux
}
