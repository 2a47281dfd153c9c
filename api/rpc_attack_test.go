package api

import (
	"bytes"
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/golang-jwt/jwt/v5"
)

// attackServer serves a fake manager's API on loopback with a body limit of limit bytes.
func attackServer(t *testing.T, secret []byte, limit int64) *httptest.Server {
	t.Helper()
	var p ManagerStruct
	auth.PermissionedProxy(AllPermissions, DefaultPerms, &fakeManager{}, &p.Internal)
	codeErrors(&p.Internal)
	srv := httptest.NewServer(rpcHandlerLimit(&p, Verifier(secret), limit))
	t.Cleanup(srv.Close)
	return srv
}

// countingReader yields n bytes of fill (after prefix) and counts how many the server consumed.
type countingReader struct {
	prefix []byte
	n      int64
	fill   byte
	read   atomic.Int64
}

func (c *countingReader) Read(b []byte) (int, error) {
	done := c.read.Load()
	if done >= c.n {
		return 0, io.EOF
	}
	k := int64(len(b))
	if k > c.n-done {
		k = c.n - done
	}
	for i := range b[:k] {
		if off := done + int64(i); off < int64(len(c.prefix)) {
			b[i] = c.prefix[off]
		} else {
			b[i] = c.fill
		}
	}
	c.read.Add(k)
	return int(k), nil
}

// post sends body to the server's /rpc/v0 with the given Authorization header and returns status and body.
func post(t *testing.T, url, authz string, body io.Reader, hdr map[string]string) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(http.MethodPost, url+"/rpc/v0", body)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Content-Type", "application/json")
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	if authz != "" {
		req.Header.Set("Authorization", authz)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error()) // the server may close the connection on an oversized body
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}

// rpcCall is a JSON-RPC 2.0 request body.
func rpcCall(method string, params string) string {
	return `{"jsonrpc":"2.0","id":1,"method":"Sealfleet.` + method + `","params":` + params + `}`
}

// mustServe checks the server still answers a well-formed call with an admin token.
func mustServe(t *testing.T, url, admin string) {
	t.Helper()
	code, body := post(t, url, "Bearer "+admin, strings.NewReader(rpcCall("Version", "[]")), nil)
	if code != 200 || !bytes.Contains(body, []byte(Version)) {
		t.Fatalf("server no longer serves Version: %d %s", code, body)
	}
}

func TestRPCRefusesMalformedRequests(t *testing.T) {
	secret := secretFor(t, 1)
	srv := attackServer(t, secret, MaxRequestBytes)
	admin, err := NewToken(secret, AllPermissions)
	if err != nil {
		t.Fatal(err)
	}
	deep := strings.Repeat("[", 100_000) + strings.Repeat("]", 100_000)
	tests := []struct{ name, body string }{
		{"empty", ""},
		{"not json", "hello"},
		{"truncated", `{"jsonrpc":"2.0","id":1,"method":"Sealfleet.Version"`},
		{"empty batch", `[]`},
		{"null", `null`},
		{"no method", `{"jsonrpc":"2.0","id":1}`},
		{"unknown method", rpcCall("NoSuchMethod", "[]")},
		{"other namespace", `{"jsonrpc":"2.0","id":1,"method":"Filecoin.Version","params":[]}`},
		{"params not an array", rpcCall("Abort", `"x"`)},
		{"too many params", rpcCall("Version", `[1,2,3]`)},
		{"wrong param type", rpcCall("Abort", `[{"Sector":"x","ID":7}]`)},
		{"bad uuid", rpcCall("Abort", `[{"Sector":{"Miner":1,"Number":1},"ID":"zz"}]`)},
		{"huge number", rpcCall("Abort", `[{"Sector":{"Miner":1e400,"Number":-1}}]`)},
		{"deep nesting", rpcCall("Abort", "["+deep+"]")},
		{"id object", `{"jsonrpc":"2.0","id":{"a":[1]},"method":"Sealfleet.Version","params":[]}`},
		{"invalid utf8", "{\"jsonrpc\":\"2.0\",\"id\":1,\"method\":\"Sealfleet.\xff\xfe\",\"params\":[]}"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, srv.URL, "Bearer "+admin, strings.NewReader(tc.body), nil)
			if code >= 500 && !bytes.Contains(body, []byte(`"error"`)) {
				t.Fatalf("status %d without a JSON-RPC error: %s", code, body)
			}
			if code == 200 && bytes.Contains(body, []byte(`"result"`)) && tc.name != "id object" {
				t.Fatalf("a malformed request succeeded: %s", body)
			}
			mustServe(t, srv.URL, admin)
		})
	}
}

func TestRPCBodyLimits(t *testing.T) {
	secret := secretFor(t, 1)
	const limit = 1 << 20
	srv := attackServer(t, secret, limit)
	admin, err := NewToken(secret, AllPermissions)
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name     string
		authz    string
		hdr      map[string]string
		size     int64
		wantCode int // 0: any refusal (an RPC error or a closed connection)
		maxRead  int64
	}{
		// The call is refused once the limit is passed; the server reads at most the limit plus what the HTTP
		// server drains after a handler (256 KiB) and socket buffers.
		{"authorised, 8x the limit", "Bearer " + admin, nil, 8 * limit, 0, limit + 4<<20},
		// Without a token nothing of the body is read beyond what the HTTP server drains.
		{"no token, 64 MiB JSON", "", nil, 64 << 20, 401, 8 << 20},
		{"no token, 64 MiB multipart form", "", map[string]string{"Content-Type": "multipart/form-data; boundary=x"}, 64 << 20, 401, 8 << 20},
		{"no token, 64 MiB urlencoded form", "", map[string]string{"Content-Type": "application/x-www-form-urlencoded"}, 64 << 20, 401, 8 << 20},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := &countingReader{prefix: []byte(`{"jsonrpc":"2.0","id":1,"method":"Sealfleet.Abort","params":["`), n: tc.size, fill: 'a'}
			if tc.hdr != nil {
				r.prefix = []byte("--x\r\nContent-Disposition: form-data; name=\"token\"; filename=\"t\"\r\n\r\n")
			}
			code, body := post(t, srv.URL, tc.authz, r, tc.hdr)
			if tc.wantCode != 0 && code != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", code, tc.wantCode, body)
			}
			if code == 200 && !bytes.Contains(body, []byte("request bigger than maximum")) && !bytes.Contains(body, []byte(`"error"`)) {
				t.Fatalf("oversized request was not refused: %d %.200s", code, body)
			}
			if got := r.read.Load(); got > tc.maxRead {
				t.Fatalf("server consumed %d bytes of a %d-byte body, want at most %d", got, tc.size, tc.maxRead)
			}
			mustServe(t, srv.URL, admin)
		})
	}
}

func TestRPCRefusesBadTokens(t *testing.T) {
	secret := secretFor(t, 1)
	srv := attackServer(t, secret, MaxRequestBytes)
	sign := func(method jwt.SigningMethod, key any, c jwt.Claims) string {
		s, err := jwt.NewWithClaims(method, c).SignedString(key)
		if err != nil {
			t.Fatal(err)
		}
		return s
	}
	allow := func(exp time.Time, perms ...auth.Permission) jwt.Claims {
		c := claims{Allow: perms}
		if !exp.IsZero() {
			c.ExpiresAt = jwt.NewNumericDate(exp)
		}
		return c
	}
	now := time.Now()
	read := sign(jwt.SigningMethodHS256, secret, allow(time.Time{}, PermRead))
	write := sign(jwt.SigningMethodHS256, secret, allow(time.Time{}, PermRead, PermWrite))
	admin := sign(jwt.SigningMethodHS256, secret, allow(time.Time{}, AllPermissions...))
	tests := []struct {
		name      string
		authz     string
		query     string
		method    string
		wantCode  int
		wantInErr string // for status 200: the JSON-RPC error must contain this ("" = the call succeeds)
	}{
		{"no token", "", "", "Version", 401, ""},
		{"not bearer", "Basic " + admin, "", "Version", 401, ""},
		{"garbage", "Bearer not.a.jwt", "", "Version", 401, ""},
		{"wrong secret", "Bearer " + sign(jwt.SigningMethodHS256, secretFor(t, 2), allow(time.Time{}, AllPermissions...)), "", "Version", 401, ""},
		{"expired", "Bearer " + sign(jwt.SigningMethodHS256, secret, allow(now.Add(-time.Minute), AllPermissions...)), "", "Version", 401, ""},
		{"alg none", "Bearer " + sign(jwt.SigningMethodNone, jwt.UnsafeAllowNoneSignatureType, allow(time.Time{}, AllPermissions...)), "", "Version", 401, ""},
		{"HS512 with the secret", "Bearer " + sign(jwt.SigningMethodHS512, secret, allow(time.Time{}, AllPermissions...)), "", "Version", 401, ""},
		{"unknown permission", "Bearer " + sign(jwt.SigningMethodHS256, secret, allow(time.Time{}, "root")), "", "Version", 401, ""},
		{"bad token in query", "", "token=not.a.jwt", "Version", 401, ""},
		{"read token, read method", "Bearer " + read, "", "Version", 200, ""},
		{"read token in query", "", "token=" + read, "Version", 200, ""},
		{"read token, admin method", "Bearer " + read, "", "WorkerJobs", 200, "missing permission"},
		{"write token, admin method", "Bearer " + write, "", "WorkerJobs", 200, "missing permission"},
		{"not yet expired", "Bearer " + sign(jwt.SigningMethodHS256, secret, allow(now.Add(time.Hour), AllPermissions...)), "", "WorkerJobs", 200, ""},
		{"admin token, admin method", "Bearer " + admin, "", "WorkerJobs", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			url := srv.URL
			req, _ := http.NewRequest(http.MethodPost, url+"/rpc/v0?"+tc.query, strings.NewReader(rpcCall(tc.method, "[]")))
			if tc.authz != "" {
				req.Header.Set("Authorization", tc.authz)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != tc.wantCode {
				t.Fatalf("status %d, want %d: %s", resp.StatusCode, tc.wantCode, body)
			}
			if tc.wantCode != 200 {
				return
			}
			var out struct {
				Result json.RawMessage
				Error  *struct{ Message string }
			}
			if err := json.Unmarshal(body, &out); err != nil {
				t.Fatalf("answer %s: %v", body, err)
			}
			switch {
			case tc.wantInErr == "" && out.Error != nil:
				t.Fatalf("call failed: %s", out.Error.Message)
			case tc.wantInErr != "" && (out.Error == nil || !strings.Contains(out.Error.Message, tc.wantInErr)):
				t.Fatalf("answer %s, want an error containing %q", body, tc.wantInErr)
			}
		})
	}
}

func TestRPCWebSocketNeedsAToken(t *testing.T) {
	secret := secretFor(t, 1)
	srv := attackServer(t, secret, MaxRequestBytes)
	_, _, err := NewManagerClient(context.Background(), Info{URL: srv.URL}, ClientOptions{Scheme: "ws", NoReconnect: true})
	if err == nil {
		t.Fatal("a WebSocket without a token was accepted")
	}
	req, _ := http.NewRequest(http.MethodGet, srv.URL+"/rpc/v0", nil)
	req.Header.Set("Connection", "Upgrade")
	req.Header.Set("Upgrade", "websocket")
	req.Header.Set("Sec-WebSocket-Version", "13")
	req.Header.Set("Sec-WebSocket-Key", "dGhlIHNhbXBsZSBub25jZQ==")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusUnauthorized {
		t.Fatalf("upgrade without a token: %d, want 401", resp.StatusCode)
	}
}
