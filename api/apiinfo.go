package api

import (
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
)

// Environment variables and repo files the CLI reads to reach a manager.
const (
	// EnvAPIInfo holds "<token>:<url>", e.g. "eyJ…:http://127.0.0.1:2345"; it overrides the repo files.
	EnvAPIInfo = "SEALFLEET_API_INFO"
	// EnvWorkerAPIInfo holds "<token>:<url>" of a worker's API for the `sealfleet worker` commands.
	EnvWorkerAPIInfo = "SEALFLEET_WORKER_API_INFO"
	// EnvRepo names the repo dir when no --repo flag is given.
	EnvRepo = "SEALFLEET_REPO"
	// EndpointFile, in the repo dir, holds the base URL the running manager serves its API on.
	EndpointFile = "api"
	// TokenFile, in the repo dir, holds an admin token written by the manager at start.
	TokenFile = "token"
	// RPCPath is where both the manager and workers serve JSON-RPC.
	RPCPath = "/rpc/v0"
)

// DefaultRepo returns the repo dir to use when no --repo flag is given: $SEALFLEET_REPO, else ~/.sealfleet.
func DefaultRepo() string {
	if r := os.Getenv(EnvRepo); r != "" {
		return r
	}
	home, err := os.UserHomeDir()
	if err != nil {
		return ".sealfleet"
	}
	return filepath.Join(home, ".sealfleet")
}

// Info is how a client reaches an API: a token and the server's base URL (scheme http(s) or ws(s), no path).
type Info struct {
	Token string
	URL   string
}

// ParseInfo parses "<token>:<url>" (the token may be empty: ":http://host:port"). A leading
// "SEALFLEET_API_INFO=" or "SEALFLEET_WORKER_API_INFO=", as `auth api-info` prints it, is accepted.
func ParseInfo(s string) (Info, error) {
	s = strings.TrimSpace(s)
	for _, name := range []string{EnvAPIInfo, EnvWorkerAPIInfo} {
		s = strings.TrimPrefix(s, name+"=")
	}
	tok, rest, ok := strings.Cut(s, ":")
	if !ok || rest == "" {
		return Info{}, fmt.Errorf("API info %q: want <token>:<url>, e.g. eyJ…:http://127.0.0.1:2345", s)
	}
	if _, err := baseURL(rest); err != nil {
		return Info{}, fmt.Errorf("API info: %w", err)
	}
	return Info{Token: tok, URL: rest}, nil
}

// String formats the info as ParseInfo reads it.
func (i Info) String() string { return i.Token + ":" + i.URL }

// Header returns the HTTP header that carries the token.
func (i Info) Header() http.Header {
	h := http.Header{}
	if i.Token != "" {
		h.Set("Authorization", "Bearer "+i.Token)
	}
	return h
}

// RPCAddr returns the JSON-RPC address for scheme "ws" (WebSocket, needed for reverse calls and cancellation)
// or "http".
func (i Info) RPCAddr(scheme string) (string, error) {
	u, err := baseURL(i.URL)
	if err != nil {
		return "", err
	}
	secure := u.Scheme == "https" || u.Scheme == "wss"
	switch {
	case scheme == "ws" && secure:
		u.Scheme = "wss"
	case scheme == "ws":
		u.Scheme = "ws"
	case secure:
		u.Scheme = "https"
	default:
		u.Scheme = "http"
	}
	u.Path = RPCPath
	return u.String(), nil
}

// baseURL parses a server URL, accepting a bare "host:port" as http, and dropping a trailing /rpc/v0.
func baseURL(s string) (*url.URL, error) {
	if !strings.Contains(s, "://") {
		s = "http://" + s
	}
	u, err := url.Parse(s)
	if err != nil {
		return nil, fmt.Errorf("server URL %q: %w", s, err)
	}
	switch u.Scheme {
	case "http", "https", "ws", "wss":
	default:
		return nil, fmt.Errorf("server URL %q: scheme must be http, https, ws or wss", s)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("server URL %q: no host", s)
	}
	u.Path = strings.TrimSuffix(strings.TrimSuffix(u.Path, "/"), RPCPath)
	return u, nil
}

// ReadInfo returns how to reach the manager: $SEALFLEET_API_INFO if set, otherwise the repo's endpoint file with
// the repo's token file (or, without one, an admin token signed with the repo's secret).
func ReadInfo(repoDir string) (Info, error) {
	return readInfo(repoDir, EnvAPIInfo)
}

// ReadWorkerInfo returns how to reach a worker: $SEALFLEET_WORKER_API_INFO if set, otherwise the endpoint and
// token files `sealfleet worker run` wrote in the worker's repo dir.
func ReadWorkerInfo(workerRepo string) (Info, error) {
	return readInfo(workerRepo, EnvWorkerAPIInfo)
}

func readInfo(repoDir, envName string) (Info, error) {
	if env := os.Getenv(envName); env != "" {
		return ParseInfo(env)
	}
	ep, err := os.ReadFile(filepath.Join(repoDir, EndpointFile))
	if err != nil {
		return Info{}, fmt.Errorf("reading the API endpoint (is the daemon running with repo %s, or is %s set?): %w",
			repoDir, envName, err)
	}
	info := Info{URL: strings.TrimSpace(string(ep))}
	if _, err := baseURL(info.URL); err != nil {
		return Info{}, fmt.Errorf("endpoint file in %s: %w", repoDir, err)
	}
	tok, err := os.ReadFile(filepath.Join(repoDir, TokenFile))
	switch {
	case err == nil:
		info.Token = strings.TrimSpace(string(tok))
	case errors.Is(err, os.ErrNotExist):
		secret, err := ReadSecret(repoDir)
		if err != nil {
			return Info{}, err
		}
		if info.Token, err = NewToken(secret, AllPermissions); err != nil {
			return Info{}, err
		}
	default:
		return Info{}, fmt.Errorf("reading token in %s: %w", repoDir, err)
	}
	return info, nil
}

// WriteEndpoint records, in the repo dir, the base URL a manager serves on and an admin token for local CLIs.
func WriteEndpoint(repoDir, baseURL string, secret []byte) error {
	tok, err := NewToken(secret, AllPermissions)
	if err != nil {
		return err
	}
	return WriteEndpointToken(repoDir, baseURL, tok)
}

// WriteEndpointToken records a base URL and a token in a repo dir (a worker writes the token it was given).
func WriteEndpointToken(repoDir, baseURL, tok string) error {
	if err := writeFileAtomic(filepath.Join(repoDir, TokenFile), []byte(tok), 0o600); err != nil {
		return err
	}
	return writeFileAtomic(filepath.Join(repoDir, EndpointFile), []byte(baseURL), 0o644)
}
