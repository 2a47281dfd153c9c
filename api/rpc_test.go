package api

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// fakeManager answers Version (perm read) and WorkerJobs (perm admin); every other method returns
// ErrNotSupported through the embedded proxy with nil functions. Test-only.
type fakeManager struct {
	ManagerStruct
}

func (*fakeManager) Version(context.Context) (string, error) { return Version, nil }

func (*fakeManager) WorkerJobs(context.Context) (map[uuid.UUID][]storiface.WorkerJob, error) {
	return map[uuid.UUID][]storiface.WorkerJob{uuid.Nil: {{Task: storiface.TTPreCommit1}}}, nil
}

// Abort fails with a coded error, wrapped, to test that the code crosses the wire.
func (*fakeManager) Abort(context.Context, storiface.CallID) error {
	return fmt.Errorf("abort: %w", storiface.Errf(storiface.ErrCallAborted, "call gone"))
}

func secretFor(t *testing.T, b byte) []byte {
	t.Helper()
	return bytes.Repeat([]byte{b}, SecretSize)
}

func TestManagerRPCAuth(t *testing.T) {
	secret := secretFor(t, 1)
	srv := httptest.NewServer(ManagerHandler(&fakeManager{}, Verifier(secret)))
	defer srv.Close()

	token := func(perms []auth.Permission, key []byte) string {
		tok, err := NewToken(key, perms)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := []struct {
		name        string
		token       string
		scheme      string
		versionOK   bool
		adminCallOK bool
		dialFails   bool
	}{
		{name: "no token", token: "", scheme: "http"},
		{name: "bad signature", token: token(AllPermissions, secretFor(t, 2)), scheme: "http"},
		{name: "garbage token", token: "not.a.jwt", scheme: "http"},
		{name: "read token", token: token([]auth.Permission{PermRead}, secret), scheme: "http", versionOK: true},
		{name: "write token", token: token([]auth.Permission{PermRead, PermWrite}, secret), scheme: "http", versionOK: true},
		{name: "admin token", token: token(AllPermissions, secret), scheme: "http", versionOK: true, adminCallOK: true},
		{name: "admin token ws", token: token(AllPermissions, secret), scheme: "ws", versionOK: true, adminCallOK: true},
		{name: "bad token ws", token: token(AllPermissions, secretFor(t, 3)), scheme: "ws", dialFails: true},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			ctx := context.Background()
			c, closer, err := NewManagerClient(ctx, Info{Token: tc.token, URL: srv.URL},
				ClientOptions{Scheme: tc.scheme, NoReconnect: true})
			if tc.dialFails {
				if err == nil {
					closer()
					t.Fatal("dial with a bad token succeeded")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			defer closer()
			v, err := c.Version(ctx)
			if (err == nil) != tc.versionOK {
				t.Fatalf("Version: err=%v, want ok=%v", err, tc.versionOK)
			}
			if tc.versionOK && v != Version {
				t.Fatalf("Version = %q, want %q", v, Version)
			}
			jobs, err := c.WorkerJobs(ctx)
			if (err == nil) != tc.adminCallOK {
				t.Fatalf("WorkerJobs: err=%v, want ok=%v", err, tc.adminCallOK)
			}
			if tc.adminCallOK && jobs[uuid.Nil][0].Task != storiface.TTPreCommit1 {
				t.Fatalf("WorkerJobs = %v", jobs)
			}
			if !tc.adminCallOK && tc.versionOK && !strings.Contains(err.Error(), "missing permission") {
				t.Fatalf("WorkerJobs error %q does not say the permission is missing", err)
			}
			// A coded error keeps its code across the wire.
			if tc.adminCallOK {
				err := c.Abort(ctx, storiface.UndefCall)
				if storiface.CodeOf(err) != storiface.ErrCallAborted || !strings.Contains(err.Error(), "call gone") {
					t.Fatalf("Abort error %v has code %v, want %v", err, storiface.CodeOf(err), storiface.ErrCallAborted)
				}
			}
			// A method the server does not implement reports it, not a panic.
			if tc.adminCallOK {
				if _, err := c.StorageLocal(ctx); err == nil || !strings.Contains(err.Error(), ErrNotSupported.Error()) {
					t.Fatalf("StorageLocal: err=%v, want not supported", err)
				}
			}
		})
	}
}

func TestRequirePerm(t *testing.T) {
	secret := secretFor(t, 7)
	h := RequirePerm(secret, PermAdmin)(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
		w.WriteHeader(http.StatusOK)
	}))
	srv := httptest.NewServer(h)
	defer srv.Close()
	mk := func(perms []auth.Permission, key []byte) string {
		tok, err := NewToken(key, perms)
		if err != nil {
			t.Fatal(err)
		}
		return tok
	}
	cases := []struct {
		name   string
		header string
		query  string
		want   int
	}{
		{"no token", "", "", http.StatusUnauthorized},
		{"bad signature", "Bearer " + mk(AllPermissions, secretFor(t, 8)), "", http.StatusUnauthorized},
		{"read only", "Bearer " + mk([]auth.Permission{PermRead}, secret), "", http.StatusForbidden},
		{"admin header", "Bearer " + mk(AllPermissions, secret), "", http.StatusOK},
		{"admin query", "", mk(AllPermissions, secret), http.StatusOK},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			u := srv.URL + "/remote/sealed/s-t01-1"
			if tc.query != "" {
				u += "?token=" + tc.query
			}
			req, _ := http.NewRequest(http.MethodGet, u, nil)
			if tc.header != "" {
				req.Header.Set("Authorization", tc.header)
			}
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("status %d, want %d", resp.StatusCode, tc.want)
			}
		})
	}
}

func TestTokens(t *testing.T) {
	secret := secretFor(t, 9)
	cases := []struct {
		level   string
		want    []auth.Permission
		wantErr bool
	}{
		{"read", []auth.Permission{PermRead}, false},
		{"write", []auth.Permission{PermRead, PermWrite}, false},
		{"admin", AllPermissions, false},
		{"root", nil, true},
	}
	for _, tc := range cases {
		t.Run(tc.level, func(t *testing.T) {
			perms, err := PermsUpTo(tc.level)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr {
				return
			}
			tok, err := NewToken(secret, perms)
			if err != nil {
				t.Fatal(err)
			}
			got, err := VerifyToken(secret, tok)
			if err != nil {
				t.Fatal(err)
			}
			if len(got) != len(tc.want) || got[len(got)-1] != tc.want[len(tc.want)-1] {
				t.Fatalf("perms %v, want %v", got, tc.want)
			}
		})
	}
	if _, err := NewToken(secret[:8], AllPermissions); err == nil {
		t.Error("short secret accepted")
	}
	if _, err := NewToken(secret, []auth.Permission{"sudo"}); err == nil {
		t.Error("unknown permission signed")
	}
}

func TestParseInfo(t *testing.T) {
	cases := []struct {
		in      string
		token   string
		ws      string
		wantErr bool
	}{
		{in: "abc:http://127.0.0.1:2345", token: "abc", ws: "ws://127.0.0.1:2345/rpc/v0"},
		{in: "abc:https://h:1/rpc/v0", token: "abc", ws: "wss://h:1/rpc/v0"},
		{in: ":127.0.0.1:9", token: "", ws: "ws://127.0.0.1:9/rpc/v0"},
		{in: "SEALFLEET_API_INFO=abc:http://h:2", token: "abc", ws: "ws://h:2/rpc/v0"},
		{in: "abc", wantErr: true},
		{in: "abc:ftp://h:1", wantErr: true},
	}
	for _, tc := range cases {
		t.Run(tc.in, func(t *testing.T) {
			info, err := ParseInfo(tc.in)
			if (err != nil) != tc.wantErr {
				t.Fatalf("err = %v", err)
			}
			if tc.wantErr {
				return
			}
			ws, err := info.RPCAddr("ws")
			if err != nil {
				t.Fatal(err)
			}
			if info.Token != tc.token || ws != tc.ws {
				t.Fatalf("got %q %q, want %q %q", info.Token, ws, tc.token, tc.ws)
			}
		})
	}
}

func TestSecretAndEndpoint(t *testing.T) {
	dir := t.TempDir()
	t.Setenv(EnvAPIInfo, "")
	s1, err := LoadOrCreateSecret(dir)
	if err != nil {
		t.Fatal(err)
	}
	s2, err := LoadOrCreateSecret(dir)
	if err != nil || !bytes.Equal(s1, s2) {
		t.Fatalf("secret not stable: %v", err)
	}
	if err := WriteEndpoint(dir, "http://127.0.0.1:1234", s1); err != nil {
		t.Fatal(err)
	}
	info, err := ReadInfo(dir)
	if err != nil {
		t.Fatal(err)
	}
	perms, err := VerifyToken(s1, info.Token)
	if err != nil || len(perms) != len(AllPermissions) || info.URL != "http://127.0.0.1:1234" {
		t.Fatalf("ReadInfo = %+v, perms %v, err %v", info, perms, err)
	}
	t.Setenv(EnvAPIInfo, "tok:http://10.0.0.1:1")
	if info, err := ReadInfo(dir); err != nil || info.Token != "tok" {
		t.Fatalf("env override: %+v %v", info, err)
	}
}

func TestCachingVerifier(t *testing.T) {
	calls := 0
	inner := func(_ context.Context, tok string) ([]auth.Permission, error) {
		calls++
		if tok == "bad" {
			return nil, ErrBadToken
		}
		return []auth.Permission{PermRead}, nil
	}
	now := time.Unix(0, 0)
	v := CachingVerifier(inner, time.Minute, func() time.Time { return now })
	steps := []struct {
		name      string
		token     string
		advance   time.Duration
		wantErr   bool
		wantCalls int
	}{
		{"first check asks", "good", 0, false, 1},
		{"second check is cached", "good", 30 * time.Second, false, 1},
		{"expired entry asks again", "good", time.Minute, false, 2},
		{"failures are not cached", "bad", 0, true, 3},
		{"failures ask every time", "bad", 0, true, 4},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			now = now.Add(s.advance)
			_, err := v(context.Background(), s.token)
			if (err != nil) != s.wantErr || calls != s.wantCalls {
				t.Fatalf("err %v, calls %d; want err %v, calls %d", err, calls, s.wantErr, s.wantCalls)
			}
		})
	}
}
