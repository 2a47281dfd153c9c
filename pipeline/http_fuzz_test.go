package pipeline

import (
	"bytes"
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"testing"
	"time"

	"sealfleet/db"
)

// FuzzPieceHandlerQuery sends arbitrary paths and queries to the /pieces handler of a running pipeline that holds
// no sector: every request must be answered (no panic) with a client-error status naming what was wrong, never a
// 5xx, and none may create a sector. POST bodies are empty, so a request can only get past the query checks with
// size=0, which the pipeline must refuse as bad input.
func FuzzPieceHandlerQuery(f *testing.F) {
	d, err := db.OpenSQLite(filepath.Join(f.TempDir(), "sealfleet.db"))
	if err != nil {
		f.Fatal(err)
	}
	f.Cleanup(func() { d.Close() })
	p, err := New(testConfig(), d, newFakeSealer(), newMemPieceStore(),
		newFakeClock(time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)), WithLogger(slog.New(slog.DiscardHandler)), WithReader(&fakeReader{}))
	if err != nil {
		f.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- p.Run(ctx) }()
	f.Cleanup(func() { cancel(); <-done })
	h := Handler(p, func(*http.Request, string) error { return nil })
	for _, s := range []string{
		"/pieces?size=0", "/pieces?size=10", "/pieces?size=-1", "/pieces?size=18446744073709551615", "/pieces?size=1e3",
		"/pieces/read/0?offset=0&size=127", "/pieces/read/18446744073709551615?offset=18446744073709551615&size=18446744073709551615",
		"/pieces/read/1?offset=127&size=0", "/pieces/read/..%2F?offset=0&size=1", "/pieces/read/1?offset=0&offset=1&size=1",
	} {
		f.Add(s, false)
		f.Add(s, true)
	}
	f.Fuzz(func(t *testing.T, target string, post bool) {
		method := http.MethodGet
		if post {
			method = http.MethodPost
		}
		req, err := http.NewRequest(method, "http://manager"+target, bytes.NewReader(nil))
		if err != nil {
			return
		}
		rec := httptest.NewRecorder()
		h.ServeHTTP(rec, req)
		switch rec.Code {
		case http.StatusBadRequest, http.StatusNotFound, http.StatusMethodNotAllowed, http.StatusMovedPermanently, http.StatusTemporaryRedirect:
		default:
			t.Fatalf("%s %q: status %d: %s", method, target, rec.Code, rec.Body.Bytes())
		}
		if list, err := p.List(context.Background()); err != nil || len(list) != 0 {
			t.Fatalf("%s %q created a sector (%d listed, %v)", method, target, len(list), err)
		}
	})
}
