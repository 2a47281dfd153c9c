package api

import (
	"net/http"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-jsonrpc/auth"
)

// MaxRequestBytes bounds the body of one JSON-RPC request over HTTP POST (the largest legitimate one carries a
// Commit1 output, tens of MiB for a 32GiB sector). A larger body is cut off at the limit and the call fails with
// an error saying so; the server never buffers more.
const MaxRequestBytes = 100 << 20

// rpcServer builds the JSON-RPC server behind every sealfleet endpoint, with the request size limit.
func rpcServer(limit int64) *jsonrpc.RPCServer {
	return jsonrpc.NewServer(jsonrpc.WithMaxRequestSize(limit))
}

// guardRPC protects an RPC endpoint before go-jsonrpc sees the request:
//   - a request without a token (no Authorization header, no "token" URL parameter) is refused with 401 at once:
//     it could call nothing, yet go-jsonrpc would buffer its whole body (up to the limit) before answering, its
//     auth handler would parse a form body looking for a token (up to 10 MB in memory, or an unbounded multipart
//     upload spilled to temporary files), and a WebSocket it opened would read messages of any size;
//   - the token is read only from the header or the URL, never from the body;
//   - the body is limited to limit bytes.
//
// Tokens that are present are checked by auth.Handler afterwards (bad or expired: 401).
func guardRPC(verify VerifyFunc, next http.HandlerFunc, limit int64) http.Handler {
	authed := &auth.Handler{Verify: verify, Next: next}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") == "" {
			tok := r.URL.Query().Get("token")
			if tok == "" {
				http.Error(w, "unauthorized: an API token is required (Authorization: Bearer <token>)", http.StatusUnauthorized)
				return
			}
			r.Header.Set("Authorization", "Bearer "+tok)
		}
		r.Body = http.MaxBytesReader(w, r.Body, limit)
		authed.ServeHTTP(w, r)
	})
}
