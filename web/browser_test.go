package web_test

import (
	"context"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"

	"sealfleet/web"
	"sealfleet/web/webtest"
	"sealfleet/web/webtest/browsertest"
)

// newBrowser starts headless Chromium with a fresh profile and returns a tab context.
func newBrowser(t *testing.T) context.Context { return browsertest.New(t, 50*time.Second) }

// artifactDir is where screenshots go: $SEALFLEET_ARTIFACTS/web if set, else a temp dir.
func artifactDir(t *testing.T) string { return browsertest.ArtifactDir(t, "web") }

func screenshot(t *testing.T, ctx context.Context, dir, name string) {
	t.Helper()
	browsertest.Screenshot(t, ctx, dir, name)
}

func watchPageErrors(t *testing.T, ctx context.Context) { browsertest.WatchPageErrors(t, ctx) }

func mustRun(t *testing.T, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	browsertest.MustRun(t, ctx, actions...)
}

// waitFor polls a JavaScript predicate until it is true (10 s at most).
func waitFor(expr string) chromedp.Action { return browsertest.WaitFor(expr, 10*time.Second) }

// showView switches the dashboard's view.
func showView(name string) chromedp.Action { return browsertest.ShowView(name) }

func colorScheme(v string) chromedp.Action {
	return emulation.SetEmulatedMedia().WithFeatures([]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: v}})
}

// TestBrowser drives the dashboard in headless Chromium: a request without a token is refused, the login page
// takes a token, and the workers, a sector moving through states, the Gantt chart, storage and queue views render.
func TestBrowser(t *testing.T) {
	ctx := newBrowser(t)
	f := newFixture(t, webtest.Demo{Workers: 24, Sectors: 400, Seed: 7})
	dir := artifactDir(t)
	base := f.http.URL
	watchPageErrors(t, ctx)
	mustRun(t, ctx, colorScheme("dark"))

	t.Run("without a token the API refuses and pages go to login", func(t *testing.T) {
		var body, loc string
		mustRun(t, ctx, chromedp.Navigate(base+"/api/workers"), chromedp.Text("body", &body))
		if !strings.Contains(body, "unauthorized") {
			t.Fatalf("/api/workers without token: %q", body)
		}
		mustRun(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("#token"), chromedp.Location(&loc))
		if !strings.HasSuffix(loc, "/login") {
			t.Fatalf("landed on %s, want /login", loc)
		}
	})
	t.Run("a bad token is refused", func(t *testing.T) {
		var msg string
		mustRun(t, ctx, chromedp.SendKeys("#token", "forged"), chromedp.Click("#login-submit"),
			chromedp.WaitVisible("#login-error"), chromedp.Text("#login-error", &msg))
		if !strings.Contains(msg, "refused") {
			t.Fatalf("error shown: %q", msg)
		}
		screenshot(t, ctx, dir, "01-login-refused")
	})
	t.Run("login shows the overview", func(t *testing.T) {
		mustRun(t, ctx, chromedp.SendKeys("#token", readToken), chromedp.Click("#login-submit"),
			chromedp.WaitVisible("#card-workers"), waitFor(`document.querySelector('#live').classList.contains('on')`))
		var workers string
		mustRun(t, ctx, chromedp.Text("#card-workers .value", &workers))
		if workers != "23 / 24" { // the demo disables one worker in 37
			t.Fatalf("workers card %q, want 23 / 24", workers)
		}
		// a tick re-renders the overview from the pushed summary and stamps the live indicator
		f.src.SetWorker(web.Worker{ID: "w-extra", Hostname: "seal-extra", Enabled: true}, t0)
		f.tick <- t0
		mustRun(t, ctx, waitFor(`document.querySelector('#card-workers .value').textContent === '24 / 25'`),
			waitFor(`document.querySelector('#live').textContent.startsWith('live · ')`))
		f.src.RemoveWorker("w-extra", t0)
		screenshot(t, ctx, dir, "02-overview")
	})
	t.Run("workers", func(t *testing.T) {
		mustRun(t, ctx, showView("workers"), waitFor(`document.querySelectorAll('#wk-table tbody tr[data-id]').length === 24`))
		screenshot(t, ctx, dir, "03-workers")
	})
	t.Run("a sector moves through states", func(t *testing.T) {
		checkSectorMoves(t, ctx, f.src)
		screenshot(t, ctx, dir, "04-sectors")
	})
	t.Run("timeline draws the jobs", func(t *testing.T) {
		checkTimeline(t, ctx)
		screenshot(t, ctx, dir, "05-timeline")
	})
	t.Run("storage and queue", func(t *testing.T) {
		mustRun(t, ctx, showView("storage"), chromedp.WaitVisible("#st-table tbody tr[data-id]"))
		screenshot(t, ctx, dir, "06-storage")
		mustRun(t, ctx, showView("queue"), chromedp.WaitVisible("#qu-table tbody tr[data-id] .reason"),
			chromedp.Click("#qu-table tbody tr:first-child .per-worker-toggle summary"),
			waitFor(`document.querySelectorAll('#qu-table tbody tr:first-child .per-worker tr').length === 24`))
		screenshot(t, ctx, dir, "07-queue")
	})
	t.Run("light theme", func(t *testing.T) {
		mustRun(t, ctx, colorScheme("light"), showView("overview"), chromedp.WaitVisible("#card-workers"))
		screenshot(t, ctx, dir, "08-overview-light")
	})
}

// checkSectorMoves adds a sector and drives it through states while the Sectors view is open: its row must
// follow each state and its open event log must grow by one entry per change, newest first.
func checkSectorMoves(t *testing.T, ctx context.Context, src *webtest.MemSource) {
	const id = "s-t01000-5000"
	row := fmt.Sprintf(`document.querySelector('#sc-table tr[data-id="%s"]')`, id)
	mustRun(t, ctx, showView("sectors"), chromedp.WaitVisible("#sc-table tbody tr[data-id]"))
	src.SetSectorState(id, 5000, "Packing", "", t0)
	mustRun(t, ctx, waitFor(row+` !== null`), chromedp.Click(fmt.Sprintf(`#sc-table tr[data-id="%s"]`, id)),
		waitFor(`document.querySelectorAll('#sc-events li').length === 1`))
	for i, st := range []string{"PreCommit1", "PreCommit2", "WaitSeed"} {
		src.SetSectorState(id, 5000, st, "", t0.Add(time.Duration(i+1)*time.Minute))
		mustRun(t, ctx, waitFor(fmt.Sprintf(`%s.querySelector('.state').textContent === %q`, row, st)),
			waitFor(fmt.Sprintf(`document.querySelectorAll('#sc-events li').length === %d`, i+2)))
	}
	var top string
	mustRun(t, ctx, chromedp.Text("#sc-events li:first-child b", &top))
	if top != "WaitSeed" {
		t.Fatalf("newest event %q, want WaitSeed", top)
	}
}

// checkTimeline opens the timeline and checks that bars of the main task types and waiting times are drawn.
func checkTimeline(t *testing.T, ctx context.Context) {
	var tasks []string
	var waits int
	mustRun(t, ctx, showView("timeline"), waitFor(`document.querySelectorAll('#tl-chart svg g.job rect.run').length > 10`),
		chromedp.Evaluate(`[...new Set([...document.querySelectorAll('#tl-chart svg g.job')].map(g => g.dataset.task))].sort()`, &tasks),
		chromedp.Evaluate(`document.querySelectorAll('#tl-chart svg rect.wait').length`, &waits))
	for _, want := range []string{"C2", "PC1", "PC2"} {
		if !strings.Contains(strings.Join(tasks, ","), want) {
			t.Fatalf("tasks drawn %v, missing %s", tasks, want)
		}
	}
	if waits == 0 {
		t.Fatal("no waiting time drawn")
	}
	// the worker filter narrows the lanes: seal-020.dc1 … seal-023.dc1
	mustRun(t, ctx, chromedp.SendKeys("#tl-filter", "seal-02"),
		waitFor(`document.querySelectorAll('#tl-chart svg .lane-label').length === 4`),
		chromedp.SetValue("#tl-filter", ""), chromedp.Evaluate(`document.querySelector('#tl-filter').dispatchEvent(new Event('input'))`, nil),
		waitFor(`document.querySelectorAll('#tl-chart svg .lane-label').length === 24`))
}
