package api

import (
	"context"
	"fmt"
	"net/http"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-jsonrpc/auth"
)

// Namespace is the JSON-RPC method namespace: methods are called as "Sealfleet.<Method>".
const Namespace = "Sealfleet"

// ManagerHandler serves m's API over HTTP POST and WebSocket, checking each call's permission against the JWT in
// the Authorization header (or token query parameter) as verify (Verifier(secret) on the manager) reads it. A
// request without a token or with a bad one gets 401; a call the token's permissions do not cover fails with a
// "missing permission" error. Request bodies are limited to MaxRequestBytes (see guardRPC).
func ManagerHandler(m Manager, verify VerifyFunc) http.Handler {
	var p ManagerStruct
	auth.PermissionedProxy(AllPermissions, DefaultPerms, m, &p.Internal)
	codeErrors(&p.Internal)
	return rpcHandler(&p, verify)
}

// ManagerHandlerWith is ManagerHandler with more methods served under the same namespace: each of extra is a
// permissioned proxy (a struct of func fields tagged `perm:"..."`, filled by auth.PermissionedProxy), as the
// all-in-one node does for the pipeline's Sectors* methods. Method names must not clash with the Manager API's.
func ManagerHandlerWith(m Manager, verify VerifyFunc, extra ...any) http.Handler {
	var p ManagerStruct
	auth.PermissionedProxy(AllPermissions, DefaultPerms, m, &p.Internal)
	codeErrors(&p.Internal)
	srv := rpcServer(MaxRequestBytes)
	srv.Register(Namespace, &p)
	for _, e := range extra {
		srv.Register(Namespace, e)
	}
	return guardRPC(verify, srv.ServeHTTP, MaxRequestBytes)
}

// WorkerHandler serves w's API like ManagerHandler.
func WorkerHandler(w Worker, verify VerifyFunc) http.Handler {
	var p WorkerStruct
	auth.PermissionedProxy(AllPermissions, DefaultPerms, w, &p.Internal)
	codeErrors(&p.Internal)
	return rpcHandler(&p, verify)
}

func rpcHandler(proxy any, verify VerifyFunc) http.Handler {
	return rpcHandlerLimit(proxy, verify, MaxRequestBytes)
}

// rpcHandlerLimit is rpcHandler with a request body limit of limit bytes.
func rpcHandlerLimit(proxy any, verify VerifyFunc, limit int64) http.Handler {
	srv := rpcServer(limit)
	srv.Register(Namespace, proxy)
	return guardRPC(verify, srv.ServeHTTP, limit)
}

// ClientCloser closes an RPC client's connection.
type ClientCloser = jsonrpc.ClientCloser

// ClientOptions tune an RPC client.
type ClientOptions struct {
	// Scheme is "ws" (default: WebSocket, reconnecting, with request cancellation) or "http".
	Scheme string
	// Timeout bounds each call on a WebSocket connection (default 30s; long calls such as StorageLock need more).
	Timeout time.Duration
	// NoReconnect makes a WebSocket client fail instead of reconnecting when the connection drops.
	NoReconnect bool
}

func (o ClientOptions) jsonrpcOpts() []jsonrpc.Option {
	var out []jsonrpc.Option
	if o.Timeout > 0 {
		out = append(out, jsonrpc.WithTimeout(o.Timeout))
	}
	if o.NoReconnect {
		out = append(out, jsonrpc.WithNoReconnect())
	}
	out = append(out, jsonrpc.WithReconnectBackoff(100*time.Millisecond, 5*time.Second), jsonrpc.WithErrors(rpcErrors()))
	return out
}

// NewManagerClient dials a manager's API.
func NewManagerClient(ctx context.Context, info Info, opts ClientOptions) (Manager, ClientCloser, error) {
	var c ManagerStruct
	closer, err := dial(ctx, info, opts, &c.Internal)
	if err != nil {
		return nil, nil, err
	}
	return &c, closer, nil
}

// NewWorkerClient dials a worker's API.
func NewWorkerClient(ctx context.Context, info Info, opts ClientOptions) (Worker, ClientCloser, error) {
	var c WorkerStruct
	closer, err := dial(ctx, info, opts, &c.Internal)
	if err != nil {
		return nil, nil, err
	}
	return &c, closer, nil
}

func dial(ctx context.Context, info Info, opts ClientOptions, internal any) (ClientCloser, error) {
	scheme := opts.Scheme
	if scheme == "" {
		scheme = "ws"
	}
	addr, err := info.RPCAddr(scheme)
	if err != nil {
		return nil, err
	}
	closer, err := jsonrpc.NewMergeClient(ctx, addr, Namespace, []any{internal}, info.Header(), opts.jsonrpcOpts()...)
	if err != nil {
		return nil, fmt.Errorf("dialing %s: %w", addr, err)
	}
	return closer, nil
}
