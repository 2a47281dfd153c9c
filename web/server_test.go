package web_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"io"
	"log/slog"
	"net/http"
	"net/http/cookiejar"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"
	"time"

	"sealfleet/web"
	"sealfleet/web/webtest"
)

// Tokens the test authorizer knows.
const (
	readToken  = "tok-read.abc_DEF-123"
	writeToken = "tok-write-only"
)

func testAuth(token string) ([]string, error) {
	switch token {
	case readToken:
		return []string{"read"}, nil
	case writeToken:
		return []string{"write"}, nil
	}
	return nil, errors.New("invalid signature")
}

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

type fixture struct {
	src  *webtest.MemSource
	srv  *web.Server
	http *httptest.Server
	tick chan time.Time
}

// newFixture starts a dashboard on loopback over a small demo cluster, with a fixed clock and a manual tick.
func newFixture(t *testing.T, d webtest.Demo) *fixture {
	t.Helper()
	return newFixtureWith(t, d, func(m *webtest.MemSource) web.Source { return m })
}

// newFixtureWith is newFixture serving the demo through wrap's Source.
func newFixtureWith(t *testing.T, d webtest.Demo, wrap func(*webtest.MemSource) web.Source) *fixture {
	t.Helper()
	src := webtest.NewMemSource(webtest.DemoStates...)
	d.Now = t0
	webtest.Populate(src, d)
	tick := make(chan time.Time)
	srv, err := web.New(web.Config{Source: wrap(src), Authorize: testAuth, Now: func() time.Time { return t0 }, Tick: tick,
		Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { defer close(done); _ = srv.Run(ctx) }()
	// Wait until Run has subscribed to the source, so that no change made by a test is lost. (This used to send
	// a tick, which Run dropped while no stream was connected — unless the test's stream connected before Run
	// looked, and then the test got that tick before its own event.)
	<-src.Subscribed()
	hs := httptest.NewServer(srv)
	t.Cleanup(func() { cancel(); <-done; hs.Close() })
	return &fixture{src: src, srv: srv, http: hs, tick: tick}
}

// client returns an HTTP client that keeps cookies and does not follow redirects.
func (f *fixture) client(t *testing.T) *http.Client {
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
}

func (f *fixture) login(t *testing.T, c *http.Client, token string) *http.Response {
	t.Helper()
	resp, err := c.PostForm(f.http.URL+"/login", url.Values{"token": {token}})
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp
}

func getJSON(t *testing.T, c *http.Client, u string, v any) int {
	t.Helper()
	resp, err := c.Get(u)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if v != nil && resp.StatusCode == http.StatusOK {
		if err := json.NewDecoder(resp.Body).Decode(v); err != nil {
			t.Fatalf("decoding %s: %v", u, err)
		}
	}
	return resp.StatusCode
}

func TestNew_Validates(t *testing.T) {
	src := webtest.NewMemSource()
	for _, tc := range []struct {
		name string
		cfg  web.Config
		want string
	}{
		{"no source", web.Config{Authorize: testAuth}, "Source"},
		{"no authorizer", web.Config{Source: src}, "Authorize"},
		{"negative tick", web.Config{Source: src, Authorize: testAuth, TickInterval: -time.Second}, "TickInterval"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := web.New(tc.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("New: got %v, want an error naming %s", err, tc.want)
			}
		})
	}
}

func TestAuth_RefusesWithoutToken(t *testing.T) {
	f := newFixture(t, webtest.Demo{Workers: 4, Sectors: 20})
	c := f.client(t)
	for _, tc := range []struct {
		path string
		want int
	}{
		{"/", http.StatusSeeOther},
		{"/nope", http.StatusSeeOther},
		{"/static/app.js", http.StatusUnauthorized},
		{"/static/index.html", http.StatusUnauthorized},
		{"/api/overview", http.StatusUnauthorized},
		{"/api/workers", http.StatusUnauthorized},
		{"/api/timeline", http.StatusUnauthorized},
		{"/api/sectors", http.StatusUnauthorized},
		{"/api/sectors/s-t01000-1/events", http.StatusUnauthorized},
		{"/api/storage", http.StatusUnauthorized},
		{"/api/queue", http.StatusUnauthorized},
		{"/api/events", http.StatusUnauthorized},
		{"/login", http.StatusOK},
		{"/static/style.css", http.StatusOK},
		{"/static/favicon.svg", http.StatusOK},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Get(f.http.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != tc.want {
				t.Fatalf("GET %s without token: status %d, want %d", tc.path, resp.StatusCode, tc.want)
			}
			if tc.want == http.StatusSeeOther && resp.Header.Get("Location") != "/login" {
				t.Fatalf("redirect to %q, want /login", resp.Header.Get("Location"))
			}
		})
	}
}

func TestAuth_Login(t *testing.T) {
	f := newFixture(t, webtest.Demo{Workers: 4, Sectors: 20})
	for _, tc := range []struct {
		name   string
		token  string
		status int
	}{
		{"unknown token", "forged", http.StatusUnauthorized},
		{"token without read", writeToken, http.StatusUnauthorized},
		{"empty", "", http.StatusBadRequest},
		{"not cookie-safe", "a;b", http.StatusBadRequest},
		{"read token", readToken, http.StatusSeeOther},
	} {
		t.Run(tc.name, func(t *testing.T) {
			c := f.client(t)
			resp := f.login(t, c, tc.token)
			if resp.StatusCode != tc.status {
				t.Fatalf("login status %d, want %d", resp.StatusCode, tc.status)
			}
			cookies := resp.Cookies()
			if tc.status != http.StatusSeeOther {
				if len(cookies) != 0 {
					t.Fatalf("refused login set cookies %v", cookies)
				}
				return
			}
			if len(cookies) != 1 || cookies[0].Name != web.CookieName || !cookies[0].HttpOnly ||
				cookies[0].SameSite != http.SameSiteStrictMode || cookies[0].Path != "/" {
				t.Fatalf("cookie %+v: want one HttpOnly SameSite=Strict %s cookie on /", cookies, web.CookieName)
			}
			if code := getJSON(t, c, f.http.URL+"/api/overview", nil); code != http.StatusOK {
				t.Fatalf("overview after login: %d", code)
			}
			if code := getJSON(t, c, f.http.URL+"/static/", nil); code != http.StatusNotFound {
				t.Fatalf("GET /static/: %d, want 404 (no listing)", code)
			}
			resp, err := c.Get(f.http.URL + "/")
			if err != nil {
				t.Fatal(err)
			}
			body, _ := io.ReadAll(resp.Body)
			resp.Body.Close()
			if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "/static/app.js") {
				t.Fatalf("index after login: %d", resp.StatusCode)
			}
			// the login page sends a signed-in browser to the dashboard
			if resp, err = c.Get(f.http.URL + "/login"); err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if resp.StatusCode != http.StatusSeeOther || resp.Header.Get("Location") != "/" {
				t.Fatalf("GET /login when signed in: %d to %q, want 303 to /", resp.StatusCode, resp.Header.Get("Location"))
			}
			// logout clears the cookie
			resp, err = c.Post(f.http.URL+"/logout", "", nil)
			if err != nil {
				t.Fatal(err)
			}
			resp.Body.Close()
			if code := getJSON(t, c, f.http.URL+"/api/overview", nil); code != http.StatusUnauthorized {
				t.Fatalf("overview after logout: %d, want 401", code)
			}
		})
	}
}

func TestAuth_BearerHeader(t *testing.T) {
	f := newFixture(t, webtest.Demo{Workers: 2, Sectors: 5})
	for _, tc := range []struct {
		header string
		want   int
	}{
		{"Bearer " + readToken, http.StatusOK},
		{"Bearer " + writeToken, http.StatusUnauthorized},
		{"Basic " + readToken, http.StatusUnauthorized},
	} {
		t.Run(tc.header, func(t *testing.T) {
			req, _ := http.NewRequest(http.MethodGet, f.http.URL+"/api/storage", nil)
			req.Header.Set("Authorization", tc.header)
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

// sseReader reads server-sent events from a stream.
type sseReader struct{ r *bufio.Reader }

// next returns the next event's name and data, skipping comments.
func (s sseReader) next(t *testing.T) (string, string) {
	t.Helper()
	var name, data string
	for {
		line, err := s.r.ReadString('\n')
		if err != nil {
			t.Fatalf("reading event stream: %v", err)
		}
		line = strings.TrimRight(line, "\n")
		switch {
		case line == "" && name != "":
			return name, data
		case strings.HasPrefix(line, "event: "):
			name = strings.TrimPrefix(line, "event: ")
		case strings.HasPrefix(line, "data: "):
			data = strings.TrimPrefix(line, "data: ")
		}
	}
}

func TestEvents_PushesChangesAndTicks(t *testing.T) {
	f := newFixture(t, webtest.Demo{Workers: 3, Sectors: 10})
	c := f.client(t)
	f.login(t, c, readToken)
	resp, err := c.Get(f.http.URL + "/api/events")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	if ct := resp.Header.Get("Content-Type"); ct != "text/event-stream" {
		t.Fatalf("content type %q", ct)
	}
	// the stream is registered once its first bytes arrived
	br := bufio.NewReader(resp.Body)
	if line, err := br.ReadString('\n'); err != nil || !strings.HasPrefix(line, "retry:") {
		t.Fatalf("first line %q, %v", line, err)
	}
	ev := sseReader{br}

	f.src.SetSectorState("s-t01000-999", 999, "Packing", "", t0)
	name, data := ev.next(t)
	var ch web.Change
	if err := json.Unmarshal([]byte(data), &ch); err != nil {
		t.Fatal(err)
	}
	if name != "sector" || ch.Sector != "s-t01000-999" || ch.To != "Packing" || ch.From != "" {
		t.Fatalf("got %s %+v, want the new sector's change", name, ch)
	}
	f.src.SetSectorState("s-t01000-999", 999, "PreCommit1", "", t0.Add(time.Minute))
	if name, data = ev.next(t); name != "sector" || !strings.Contains(data, `"from":"Packing"`) {
		t.Fatalf("got %s %s, want Packing -> PreCommit1", name, data)
	}

	f.tick <- t0
	name, data = ev.next(t)
	var ov web.Overview
	if err := json.Unmarshal([]byte(data), &ov); err != nil {
		t.Fatal(err)
	}
	if name != "tick" || ov.Workers.Total != 3 {
		t.Fatalf("got %s with %d workers, want a tick with 3", name, ov.Workers.Total)
	}
}

func decode(resp *http.Response, v any) error { return json.NewDecoder(resp.Body).Decode(v) }
