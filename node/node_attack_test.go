package node

import (
	"bytes"
	"context"
	"io"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/golang-jwt/jwt/v5"
)

// TestNodeAttackSurface sends hostile requests to every HTTP endpoint of a running node on loopback: no token,
// bad and expired tokens, tokens with too little permission, path traversal on /remote, /pieces and /piece-data,
// malformed and oversized bodies. Each must be refused with the right status; the node must keep serving and
// no sector may be created by a refused request.
func TestNodeAttackSurface(t *testing.T) {
	cfg := testConfig("2KiB")
	cfg.Sealing.WaitDealsDelay = Duration(time.Hour)
	n := startNode(t, t.TempDir(), cfg, t.TempDir())
	read, _ := n.Token("read")
	write, _ := n.Token("write")
	admin := n.AdminToken()
	expired := expiredToken(t, admin, n.secret)
	rpc := func(method, params string) []byte {
		return []byte(`{"jsonrpc":"2.0","id":1,"method":"Sealfleet.` + method + `","params":` + params + `}`)
	}
	tests := []struct {
		name, method, path, token string
		body                      []byte
		want                      int
		wantInBody                string
	}{
		{"rpc without token", "POST", "/rpc/v0", "", rpc("SectorsList", "[]"), 401, ""},
		{"rpc with a forged token", "POST", "/rpc/v0", "e30.e30.x", rpc("SectorsList", "[]"), 401, ""},
		{"rpc with an expired token", "POST", "/rpc/v0", expired, rpc("SectorsList", "[]"), 401, ""},
		{"rpc read method with read token", "POST", "/rpc/v0", read, rpc("SectorsList", "[]"), 200, `"result"`},
		{"rpc write method with read token", "POST", "/rpc/v0", read, rpc("SectorsPledge", "[]"), 200, "missing permission"},
		{"rpc admin method with write token", "POST", "/rpc/v0", write, rpc("SectorsRemove", "[0]"), 200, "missing permission"},
		{"rpc admin index method with write token", "POST", "/rpc/v0", write, rpc("StorageDeclareSector", `["x",{"Miner":1,"Number":1},2,true]`), 200, "missing permission"},
		{"rpc garbage", "POST", "/rpc/v0", admin, []byte("{{{{"), 500, "Parse error"}, // go-jsonrpc answers 500 + -32700
		{"rpc oversized", "POST", "/rpc/v0", "", bytes.Repeat([]byte("a"), 8<<20), 401, ""},
		{"remote without token", "GET", "/remote/stat/x", "", nil, 401, ""},
		{"remote with write token", "GET", "/remote/stat/x", write, nil, 401, ""},
		{"remote dot dot", "GET", "/remote/sealed/../../../../etc/passwd", admin, nil, 0, ""}, // the mux cleans it away from /remote
		{"remote encoded dot dot", "GET", "/remote/sealed/%2e%2e%2f%2e%2e%2fetc%2fpasswd", admin, nil, 400, ""},
		{"remote absolute name", "GET", "/remote/sealed/%2Fetc%2Fpasswd", admin, nil, 400, ""},
		{"remote unknown sector", "GET", "/remote/sealed/s-t01000-999", admin, nil, 404, ""},
		{"remote delete with write token", "DELETE", "/remote/sealed/s-t01000-0", write, nil, 401, ""},
		{"pieces without token", "POST", "/pieces?size=10", "", make([]byte, 10), 401, ""},
		{"pieces with read token", "POST", "/pieces?size=10", read, make([]byte, 10), 401, ""},
		{"pieces size too large", "POST", "/pieces?size=5000", write, make([]byte, 5000), 400, ""},
		{"pieces size mismatch", "POST", "/pieces?size=11", write, make([]byte, 10), 400, ""},
		{"pieces no size", "POST", "/pieces", write, make([]byte, 10), 400, ""},
		{"pieces read traversal", "GET", "/pieces/read/..%2F..%2Fetc%2Fpasswd?offset=0&size=127", read, nil, 400, ""},
		{"pieces read unknown", "GET", "/pieces/read/99?offset=0&size=127", read, nil, 404, ""},
		{"pieces read without token", "GET", "/pieces/read/0?offset=0&size=127", "", nil, 401, ""},
		{"piece-data without token", "GET", "/piece-data/" + strings.Repeat("0", 32), "", nil, 401, ""},
		{"piece-data with write token", "GET", "/piece-data/" + strings.Repeat("0", 32), write, nil, 401, ""},
		{"piece-data traversal", "GET", "/piece-data/..%2F..%2F..%2Fetc%2Fpasswd", admin, nil, 400, ""},
		{"piece-data dot dot", "GET", "/piece-data/../config.toml", admin, nil, 0, ""},
		{"piece-data unknown", "GET", "/piece-data/" + strings.Repeat("0", 32), admin, nil, 404, ""},
		{"dashboard api without token", "GET", "/api/overview", "", nil, 401, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := attackDo(t, tc.method, n.URL()+tc.path, tc.token, tc.body)
			if tc.want != 0 && code != tc.want {
				t.Fatalf("%s %s: %d %.300s, want %d", tc.method, tc.path, code, body, tc.want)
			}
			if tc.want == 0 && code < 400 {
				t.Fatalf("%s %s: %d %.300s, want a refusal", tc.method, tc.path, code, body)
			}
			if tc.wantInBody != "" && !bytes.Contains(body, []byte(tc.wantInBody)) {
				t.Fatalf("%s %s: %.300s, want it to contain %q", tc.method, tc.path, body, tc.wantInBody)
			}
			for _, leak := range []string{"root:x:0:0", "[API]", "[Sealing]"} {
				if bytes.Contains(body, []byte(leak)) {
					t.Fatalf("%s %s leaked %q", tc.method, tc.path, leak)
				}
			}
		})
	}
	list, err := n.Pipeline().List(context.Background())
	if err != nil || len(list) != 0 {
		t.Fatalf("refused requests created %d sectors (%v)", len(list), err)
	}
	if code, _ := attackDo(t, "POST", n.URL()+"/rpc/v0", admin, rpc("Version", "[]")); code != 200 {
		t.Fatalf("node stopped serving: %d", code)
	}
}

// expiredToken re-signs the claims of a valid token with secret and an expiry in the past.
func expiredToken(t *testing.T, valid string, secret []byte) string {
	t.Helper()
	var c jwt.MapClaims
	p := jwt.NewParser()
	if _, _, err := p.ParseUnverified(valid, &c); err != nil {
		t.Fatal(err)
	}
	c["exp"] = time.Now().Add(-time.Minute).Unix()
	tok, err := jwt.NewWithClaims(jwt.SigningMethodHS256, c).SignedString(secret)
	if err != nil {
		t.Fatal(err)
	}
	return tok
}

// attackDo is httpDo without failing on a dropped connection (reported as status 0).
func attackDo(t *testing.T, method, url, token string, body []byte) (int, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, bytes.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if token != "" {
		req.Header.Set("Authorization", "Bearer "+token)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return 0, []byte(err.Error())
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(io.LimitReader(resp.Body, 1<<20))
	return resp.StatusCode, b
}
