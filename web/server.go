// Package web serves sealfleet's dashboard: an embedded single-page UI at "/", small JSON endpoints under
// "/api/" that return only what a view shows (counts, one time window, one page), and server-sent events at
// "/api/events" that push deltas as the cluster changes. Everything except the login page and its assets needs a
// token with the "read" permission, checked by an injected Authorizer and kept in an HttpOnly, SameSite=Strict
// cookie.
//
// The dashboard reads the cluster through the narrow Source interface; it imports no manager, scheduler, store
// or pipeline package.
package web

import (
	"context"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"
)

//go:embed static
var staticFS embed.FS

// Authorizer checks a token and returns the permissions it grants (e.g. "read", "write", "admin").
type Authorizer func(token string) (perms []string, err error)

// Config configures a Server. Source and Authorize are required.
type Config struct {
	Source    Source
	Authorize Authorizer
	// Logger receives request errors; nil means slog.Default().
	Logger *slog.Logger
	// Now is the clock; nil means time.Now.
	Now func() time.Time
	// Tick drives the periodic summary pushed to event streams; nil means a ticker every TickInterval.
	Tick <-chan time.Time
	// TickInterval is the period of the default ticker; 0 means 5 s.
	TickInterval time.Duration
	// SecureCookie sets the Secure attribute on the token cookie (set it when served over HTTPS).
	SecureCookie bool
}

// Server is the dashboard's http.Handler. Call Run to start pushing live updates.
type Server struct {
	src    Source
	auth   Authorizer
	log    *slog.Logger
	now    func() time.Time
	tick   <-chan time.Time
	period time.Duration
	secure bool
	mux    *http.ServeMux
	hub    *hub
}

var _ http.Handler = (*Server)(nil)

// New validates cfg and builds a Server.
func New(cfg Config) (*Server, error) {
	if cfg.Source == nil {
		return nil, errors.New("web config: Source is required")
	}
	if cfg.Authorize == nil {
		return nil, errors.New("web config: Authorize is required (a func(token) ([]string, error))")
	}
	if cfg.TickInterval < 0 {
		return nil, fmt.Errorf("web config: TickInterval %s must be >= 0", cfg.TickInterval)
	}
	s := &Server{
		src: cfg.Source, auth: cfg.Authorize, log: cfg.Logger, now: cfg.Now, tick: cfg.Tick,
		period: cfg.TickInterval, secure: cfg.SecureCookie, mux: http.NewServeMux(),
	}
	if s.log == nil {
		s.log = slog.Default()
	}
	s.log = s.log.With("component", "web")
	if s.now == nil {
		s.now = time.Now
	}
	if s.period == 0 {
		s.period = 5 * time.Second
	}
	s.hub = newHub()
	if err := s.routes(); err != nil {
		return nil, err
	}
	return s, nil
}

func (s *Server) routes() error {
	static, err := fs.Sub(staticFS, "static")
	if err != nil {
		return fmt.Errorf("embedded assets: %w", err)
	}
	fileServer := http.FileServerFS(static)
	files := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path == "" || strings.HasSuffix(r.URL.Path, "/") { // no directory listings
			http.NotFound(w, r)
			return
		}
		fileServer.ServeHTTP(w, r)
	})
	// public: the login page and the assets it uses
	s.mux.HandleFunc("GET /login", s.loginPage)
	s.mux.HandleFunc("POST /login", s.login)
	s.mux.HandleFunc("POST /logout", s.logout)
	for _, name := range publicAssets {
		s.mux.Handle("GET /static/"+name, http.StripPrefix("/static/", files))
	}
	// everything else needs a read token
	s.mux.Handle("GET /static/", s.requireRead(http.StripPrefix("/static/", files)))
	s.mux.Handle("GET /{$}", s.requireRead(http.HandlerFunc(s.index)))
	s.mux.Handle("GET /api/overview", s.requireRead(apiFunc(s.overview)))
	s.mux.Handle("GET /api/workers", s.requireRead(apiFunc(s.workers)))
	s.mux.Handle("GET /api/timeline", s.requireRead(apiFunc(s.timeline)))
	s.mux.Handle("GET /api/sectors", s.requireRead(apiFunc(s.sectors)))
	s.mux.Handle("GET /api/sectors/{id}/events", s.requireRead(apiFunc(s.sectorEvents)))
	s.mux.Handle("GET /api/storage", s.requireRead(apiFunc(s.storage)))
	s.mux.Handle("GET /api/queue", s.requireRead(apiFunc(s.queue)))
	s.mux.Handle("GET /api/queue/{id}", s.requireRead(apiFunc(s.queueRequest)))
	s.mux.Handle("GET /api/events", s.requireRead(http.HandlerFunc(s.events)))
	s.mux.Handle("/", s.requireRead(http.NotFoundHandler()))
	return nil
}

// publicAssets are the static files the login page needs; they are served without a token.
var publicAssets = []string{"style.css", "favicon.svg"}

// ServeHTTP implements http.Handler.
func (s *Server) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("X-Content-Type-Options", "nosniff")
	w.Header().Set("X-Frame-Options", "DENY")
	w.Header().Set("Content-Security-Policy",
		"default-src 'self'; img-src 'self' data:; style-src 'self'; script-src 'self'; connect-src 'self'; frame-ancestors 'none'")
	s.mux.ServeHTTP(w, r)
}

func (s *Server) index(w http.ResponseWriter, r *http.Request) {
	w.Header().Set("Cache-Control", "no-store")
	http.ServeFileFS(w, r, staticFS, "static/index.html")
}

// Run subscribes to the Source and pushes changes and periodic summaries to the connected event streams until
// ctx is done. It returns ctx's error, or the error of the subscription.
func (s *Server) Run(ctx context.Context) error {
	changes, err := s.src.Subscribe(ctx)
	if err != nil {
		return fmt.Errorf("subscribing to dashboard source: %w", err)
	}
	tick := s.tick
	if tick == nil {
		t := time.NewTicker(s.period)
		defer t.Stop()
		tick = t.C
	}
	for {
		select {
		case <-ctx.Done():
			s.hub.closeAll()
			return ctx.Err()
		case c, ok := <-changes:
			if !ok {
				changes = nil // the source is gone; keep ticking until ctx ends
				continue
			}
			s.hub.publish(encodeEvent(string(c.Kind), c))
		case <-tick:
			if s.hub.count() == 0 {
				continue
			}
			ov, err := s.buildOverview(ctx)
			if err != nil {
				s.log.Warn("building tick summary", "err", err)
				continue
			}
			s.hub.publish(encodeEvent("tick", ov))
		}
	}
}

// apiFunc adapts a handler returning a value or an error to JSON responses.
type apiFunc func(r *http.Request) (any, error)

// errBadRequest marks an error as the client's fault (HTTP 400).
var errBadRequest = errors.New("bad request")

// ServeHTTP writes f's value as JSON (rawJSON as is), or its error as {"error": …} with 400 for bad requests,
// 404 for ErrNotFound and 500 otherwise.
func (f apiFunc) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	v, err := f(r)
	if err != nil {
		code := http.StatusInternalServerError
		switch {
		case errors.Is(err, errBadRequest):
			code = http.StatusBadRequest
		case errors.Is(err, ErrNotFound):
			code = http.StatusNotFound
		}
		writeJSON(w, code, map[string]string{"error": err.Error()})
		return
	}
	if raw, ok := v.(rawJSON); ok {
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(raw) // the client may have gone; nothing to do about it
		return
	}
	writeJSON(w, http.StatusOK, v)
}

func writeJSON(w http.ResponseWriter, code int, v any) {
	w.Header().Set("Content-Type", "application/json")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(v) // the client may have gone; nothing to do about it
}
