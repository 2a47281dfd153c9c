package web_test

import (
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"runtime"
	"sync"
	"syscall"
	"testing"
	"time"

	"sealfleet/web"
	"sealfleet/web/webtest"
)

var (
	benchOnce sync.Once
	benchSrv  *web.Server
)

// benchServer is a dashboard over 1,000 workers and 100,000 sectors of history (600,000 jobs), built once.
func benchServer(b *testing.B) *web.Server {
	benchOnce.Do(func() {
		src := webtest.NewMemSource(webtest.DemoStates...)
		webtest.Populate(src, webtest.Demo{Workers: 1000, Sectors: 100_000, Now: t0, Seed: 42})
		srv, err := web.New(web.Config{Source: src, Authorize: testAuth, Now: func() time.Time { return t0 },
			Tick: make(chan time.Time), Logger: slog.New(slog.NewTextHandler(io.Discard, nil))})
		if err != nil {
			b.Fatal(err)
		}
		benchSrv = srv
		runtime.GC() // measure the endpoints, not the collection of the fixture's garbage
	})
	return benchSrv
}

// BenchmarkEndpoints measures each dashboard endpoint, authorization included, against the in-memory source;
// the target is under 50 ms per request.
func BenchmarkEndpoints(b *testing.B) {
	srv := benchServer(b)
	from, to := t0.Add(-6*time.Hour).UnixMilli(), t0.UnixMilli()
	for _, bc := range []struct{ name, path string }{
		{"overview", "/api/overview"},
		{"workers-page", "/api/workers?offset=500&limit=50"},
		{"workers-filter", "/api/workers?q=seal-9"},
		{"timeline-6h-40lanes", "/api/timeline?limit=40&from=" + itoa(from) + "&to=" + itoa(to)},
		{"timeline-24h-40lanes", "/api/timeline?limit=40&from=" + itoa(to-24*3600*1000) + "&to=" + itoa(to)},
		{"timeline-3d-40lanes", "/api/timeline?limit=40&from=" + itoa(to-3*24*3600*1000) + "&to=" + itoa(to)},
		{"timeline-7d-20lanes", "/api/timeline?limit=20&from=" + itoa(to-7*24*3600*1000) + "&to=" + itoa(to)},
		{"timeline-7d-40lanes", "/api/timeline?limit=40&from=" + itoa(to-7*24*3600*1000) + "&to=" + itoa(to)},
		{"timeline-7d-100lanes", "/api/timeline?limit=100&from=" + itoa(to-7*24*3600*1000) + "&to=" + itoa(to)},
		{"sectors-page", "/api/sectors?offset=0&limit=50"},
		{"sectors-state-deep", "/api/sectors?state=Proving&offset=90000&limit=50"},
		{"sector-events", "/api/sectors/s-t01000-50000/events"},
		{"storage", "/api/storage"},
		{"queue-page", "/api/queue?limit=25"},
		{"index", "/"},
	} {
		b.Run(bc.name, func(b *testing.B) {
			req := httptest.NewRequest(http.MethodGet, bc.path, nil)
			req.AddCookie(&http.Cookie{Name: web.CookieName, Value: readToken})
			var size int
			b.ReportAllocs()
			cpu0 := cpuTime()
			for b.Loop() {
				rec := httptest.NewRecorder()
				srv.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					b.Fatalf("%s: status %d: %s", bc.path, rec.Code, rec.Body.String())
				}
				size = rec.Body.Len()
			}
			b.ReportMetric(float64(size), "bytes/resp")
			// CPU time of the whole process (GC included) per request: steadier than wall time on a shared machine
			b.ReportMetric(float64((cpuTime()-cpu0).Nanoseconds())/float64(b.N), "cpu-ns/op")
		})
	}
}

// cpuTime is the user+system CPU time this process has used.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		return 0
	}
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

func itoa(n int64) string { return time.UnixMilli(n).UTC().Format(time.RFC3339) }
