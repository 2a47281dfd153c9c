package api

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"
	"github.com/golang-jwt/jwt/v5"
)

// The permissions a token can carry. Each API method is tagged with the one it needs; admin implies nothing by
// itself, so admin tokens are issued with every permission (see PermsUpTo).
const (
	PermRead  auth.Permission = "read"
	PermWrite auth.Permission = "write"
	PermAdmin auth.Permission = "admin"
)

// AllPermissions lists the permissions in increasing order of power.
var AllPermissions = []auth.Permission{PermRead, PermWrite, PermAdmin}

// DefaultPerms are the permissions of a request that carries no token: none. A call without a sufficient token
// is refused.
var DefaultPerms = []auth.Permission{}

// ErrBadToken is returned when a token does not verify (bad signature, wrong algorithm, malformed or unknown
// permissions).
var ErrBadToken = errors.New("invalid API token")

// SecretSize is the length in bytes of the HS256 signing secret.
const SecretSize = 32

// PermsUpTo returns the permissions a token for level grants: the level and every weaker one ("write" gives
// read and write). An unknown level is an error that lists the accepted ones.
func PermsUpTo(level string) ([]auth.Permission, error) {
	for i, p := range AllPermissions {
		if string(p) == level {
			return append([]auth.Permission(nil), AllPermissions[:i+1]...), nil
		}
	}
	return nil, fmt.Errorf("permission %q: accepted are read, write, admin", level)
}

// claims is the JWT payload: the granted permissions.
type claims struct {
	Allow []auth.Permission `json:"Allow"`
	jwt.RegisteredClaims
}

// NewToken signs a token (HS256) granting perms with secret.
func NewToken(secret []byte, perms []auth.Permission) (string, error) {
	if len(secret) < SecretSize {
		return "", fmt.Errorf("signing token: secret has %d bytes, need %d", len(secret), SecretSize)
	}
	for _, p := range perms {
		if !validPerm(p) {
			return "", fmt.Errorf("signing token: permission %q: accepted are read, write, admin", p)
		}
	}
	tok := jwt.NewWithClaims(jwt.SigningMethodHS256, claims{Allow: perms})
	s, err := tok.SignedString(secret)
	if err != nil {
		return "", fmt.Errorf("signing token: %w", err)
	}
	return s, nil
}

// VerifyToken checks a token's HS256 signature against secret and returns the permissions it grants.
func VerifyToken(secret []byte, token string) ([]auth.Permission, error) {
	var c claims
	_, err := jwt.ParseWithClaims(token, &c, func(*jwt.Token) (any, error) { return secret, nil },
		jwt.WithValidMethods([]string{jwt.SigningMethodHS256.Alg()}))
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrBadToken, err)
	}
	for _, p := range c.Allow {
		if !validPerm(p) {
			return nil, fmt.Errorf("%w: unknown permission %q", ErrBadToken, p)
		}
	}
	return c.Allow, nil
}

func validPerm(p auth.Permission) bool {
	for _, v := range AllPermissions {
		if v == p {
			return true
		}
	}
	return false
}

// VerifyFunc checks a token and returns the permissions it grants.
type VerifyFunc func(ctx context.Context, token string) ([]auth.Permission, error)

// Verifier returns a VerifyFunc that checks tokens against secret.
func Verifier(secret []byte) VerifyFunc {
	return func(_ context.Context, token string) ([]auth.Permission, error) { return VerifyToken(secret, token) }
}

// RequirePerm wraps an HTTP handler (the /remote file server, the dashboard) so that it serves only requests
// carrying a token, as "Authorization: Bearer <token>" or a "token" query parameter, that grants perm. Others get
// 401 (no or bad token) or 403 (token without perm).
func RequirePerm(secret []byte, perm auth.Permission) func(http.Handler) http.Handler {
	return RequirePermWith(Verifier(secret), perm)
}

// RequirePermWith is RequirePerm with any token check (a worker verifies through its manager).
func RequirePermWith(verify VerifyFunc, perm auth.Permission) func(http.Handler) http.Handler {
	return func(next http.Handler) http.Handler {
		return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			perms, status, err := checkRequest(r, verify, perm)
			if err != nil {
				http.Error(w, err.Error(), status)
				return
			}
			next.ServeHTTP(w, r.WithContext(auth.WithPerm(r.Context(), perms)))
		})
	}
}

// Authorize returns a request check for handlers that take one (stores.FetchHandler's Authorizer): nil when
// the request carries a token granting perm, else an error naming what is missing.
func Authorize(verify VerifyFunc, perm auth.Permission) func(r *http.Request) error {
	return func(r *http.Request) error {
		_, _, err := checkRequest(r, verify, perm)
		return err
	}
}

// checkRequest reads the token of r ("Authorization: Bearer …" or ?token=) and checks it grants perm; on
// failure it returns the HTTP status to answer with.
func checkRequest(r *http.Request, verify VerifyFunc, perm auth.Permission) ([]auth.Permission, int, error) {
	tok := strings.TrimPrefix(r.Header.Get("Authorization"), "Bearer ")
	if tok == "" {
		tok = r.URL.Query().Get("token")
	}
	if tok == "" {
		return nil, http.StatusUnauthorized, errors.New("missing API token")
	}
	perms, err := verify(r.Context(), tok)
	if err != nil {
		return nil, http.StatusUnauthorized, err
	}
	if !hasPerm(perms, perm) {
		return nil, http.StatusForbidden, fmt.Errorf("token lacks permission %q", perm)
	}
	return perms, 0, nil
}

func hasPerm(perms []auth.Permission, want auth.Permission) bool {
	for _, p := range perms {
		if p == want {
			return true
		}
	}
	return false
}

// SecretFile is the name of the JWT signing secret in a repo dir.
const SecretFile = "jwt-secret"

// LoadOrCreateSecret reads the repo's signing secret, creating a random one (mode 0600, written to a temp name
// then renamed) if there is none.
func LoadOrCreateSecret(repoDir string) ([]byte, error) {
	p := filepath.Join(repoDir, SecretFile)
	b, err := os.ReadFile(p)
	if err == nil {
		if len(b) < SecretSize {
			return nil, fmt.Errorf("reading %s: secret has %d bytes, need %d", p, len(b), SecretSize)
		}
		return b, nil
	}
	if !errors.Is(err, os.ErrNotExist) {
		return nil, fmt.Errorf("reading %s: %w", p, err)
	}
	b = make([]byte, SecretSize)
	if _, err := rand.Read(b); err != nil {
		return nil, fmt.Errorf("generating secret: %w", err)
	}
	if err := writeFileAtomic(p, b, 0o600); err != nil {
		return nil, err
	}
	return b, nil
}

// ReadSecret reads the repo's signing secret; it is an error if there is none.
func ReadSecret(repoDir string) ([]byte, error) {
	p := filepath.Join(repoDir, SecretFile)
	b, err := os.ReadFile(p)
	if err != nil {
		return nil, fmt.Errorf("reading JWT secret %s (is the repo initialised?): %w", p, err)
	}
	if len(b) < SecretSize {
		return nil, fmt.Errorf("reading %s: secret has %d bytes, need %d", p, len(b), SecretSize)
	}
	return b, nil
}

func writeFileAtomic(p string, data []byte, mode os.FileMode) error {
	if err := os.MkdirAll(filepath.Dir(p), 0o700); err != nil {
		return fmt.Errorf("creating %s: %w", filepath.Dir(p), err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(p), "."+filepath.Base(p)+".tmp*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after the rename
	if err := tmp.Chmod(mode); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if _, err := tmp.Write(data); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	if err := os.Rename(tmp.Name(), p); err != nil {
		return fmt.Errorf("writing %s: %w", p, err)
	}
	return nil
}

// CachingVerifier remembers verify's answers for ttl, so a worker that checks tokens through its manager does
// not make a round trip per request. Failed checks are not cached. now is the clock (time.Now if nil).
func CachingVerifier(verify VerifyFunc, ttl time.Duration, now func() time.Time) VerifyFunc {
	if now == nil {
		now = time.Now
	}
	type entry struct {
		perms []auth.Permission
		until time.Time
	}
	var mu sync.Mutex
	cache := map[string]entry{}
	return func(ctx context.Context, token string) ([]auth.Permission, error) {
		mu.Lock()
		e, ok := cache[token]
		mu.Unlock()
		t := now()
		if ok && t.Before(e.until) {
			return e.perms, nil
		}
		perms, err := verify(ctx, token)
		if err != nil {
			return nil, err
		}
		mu.Lock()
		defer mu.Unlock()
		if len(cache) >= maxCachedTokens {
			for k, v := range cache {
				if !t.Before(v.until) {
					delete(cache, k)
				}
			}
			if len(cache) >= maxCachedTokens {
				clear(cache)
			}
		}
		cache[token] = entry{perms: perms, until: t.Add(ttl)}
		return perms, nil
	}
}

// maxCachedTokens bounds a CachingVerifier's memory.
const maxCachedTokens = 1024
