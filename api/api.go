// Package api defines sealfleet's JSON-RPC interfaces (Manager, Worker, WorkerReturn), the permission each
// method needs, JWT tokens, and the server and client wiring over go-jsonrpc. The RPC proxies in proxy_gen.go
// are generated from the interfaces by ./gen (`go generate ./api`).
//
// Every method's doc comment ends with a "perm:<level>" line naming the permission it needs.
package api

//go:generate go run ./gen -out proxy_gen.go

import (
	"context"
	"errors"

	"github.com/filecoin-project/go-jsonrpc/auth"
)

// Version is the API version both sides report; a client refuses a server with a different major version.
const Version = "sealfleet/1.0.0"

// ErrNotSupported is returned by a proxy method the remote side does not implement.
var ErrNotSupported = errors.New("method not supported by this API endpoint")

// Common is served by every sealfleet process.
type Common interface {
	// Version returns the API version string.
	// perm:read
	Version(ctx context.Context) (string, error)
	// AuthVerify returns the permissions a token grants (workers verify the tokens they receive this way).
	// perm:read
	AuthVerify(ctx context.Context, token string) ([]auth.Permission, error)
	// AuthNew signs a token granting perms.
	// perm:admin
	AuthNew(ctx context.Context, perms []auth.Permission) (string, error)
}
