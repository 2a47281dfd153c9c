// Package browsertest drives sealfleet's dashboard in headless Chromium for tests: it starts the browser, fails
// a test on page errors (exceptions, console errors, CSP violations), polls DOM conditions with a bounded
// deadline and saves screenshots. It is test support, kept apart from package webtest so that the demo binary
// does not link chromedp.
package browsertest

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	goruntime "runtime"
	"strings"
	"sync"
	"testing"
	"time"

	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath is where Debian's chromium package installs the browser (CI installs it in .ci/run).
const ChromiumPath = "/usr/bin/chromium"

// New starts headless Chromium with a fresh profile and returns a tab context that lives until the test ends
// or timeout passes. It skips the test when ChromiumPath is missing.
func New(t testing.TB, timeout time.Duration) context.Context {
	t.Helper()
	if _, err := os.Stat(ChromiumPath); err != nil {
		t.Skipf("browser tests need %s (apt-get install -y chromium): %v", ChromiumPath, err)
	}
	// a profile dir of our own: Chromium's helper processes may still write to it for a moment after the
	// browser exits, which would fail t.TempDir's strict cleanup; it is removed best-effort instead
	profile, err := os.MkdirTemp("", "sealfleet-chromium-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = os.RemoveAll(profile) })
	launcher := keepThread(t) // Chromium is started on it: see keptThread
	opts := []chromedp.ExecAllocatorOption{
		chromedp.ExecPath(ChromiumPath),
		chromedp.Flag("headless", true),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.Flag("disable-dev-shm-usage", true),
		chromedp.NoFirstRun,
		chromedp.UserDataDir(profile),
		chromedp.WindowSize(1440, 900),
	}
	ctx, cancel := context.WithTimeout(context.Background(), timeout)
	t.Cleanup(cancel)
	actx, acancel := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(acancel)
	// cdproto v0.0.0-20241022 predates some enum values newer Chromium sends; those decode errors are noise
	errorf := func(format string, args ...any) {
		if msg := fmt.Sprintf(format, args...); !strings.Contains(msg, "could not unmarshal event") {
			t.Logf("chromedp: %s", msg)
		}
	}
	bctx, bcancel := chromedp.NewContext(actx, chromedp.WithLogf(t.Logf), chromedp.WithErrorf(errorf))
	t.Cleanup(bcancel)
	if err := launcher.run(func() error { return chromedp.Run(bctx) }); err != nil {
		t.Fatalf("starting %s: %v", ChromiumPath, err)
	}
	return bctx
}

// keptThread runs functions on one OS thread that stays alive until the test's cleanups have stopped the
// browser; Chromium is started on it.
//
// chromedp starts Chromium with a parent-death signal (SIGKILL), and Linux sends that signal when the thread
// that forked the child exits, not the process (golang.org/issue/27505). Go ends a thread when a goroutine
// locked to it returns without unlocking, which sealfleet's PC1 gatherer does on purpose (its thread has the
// idle scheduling class, which an unprivileged thread cannot undo). Forked from an ordinary thread of the
// pool, the browser died whenever a later gatherer happened to run on that thread and ended: the dashboard
// test lost its tab ("context canceled", the DevTools connection at EOF) just after a sector's PreCommit1.
type keptThread struct{ calls chan func() }

// keepThread locks a new goroutine to its thread until the test's cleanups end. Call it before registering
// the browser's cleanups: cleanups run last-in first-out, so the thread is released after they have run.
func keepThread(t testing.TB) *keptThread {
	k := &keptThread{calls: make(chan func())}
	done := make(chan struct{})
	go func() {
		goruntime.LockOSThread()
		defer goruntime.UnlockOSThread()
		for {
			select {
			case f := <-k.calls:
				f()
			case <-done:
				return
			}
		}
	}()
	t.Cleanup(func() { close(done) })
	return k
}

// run runs f on the kept thread and returns its error.
func (k *keptThread) run(f func() error) error {
	errc := make(chan error, 1)
	k.calls <- func() { errc <- f() }
	return <-errc
}

// ArtifactDir is where screenshots go: $SEALFLEET_ARTIFACTS/sub if that variable is set (created), else a
// temp dir of the test.
func ArtifactDir(t testing.TB, sub string) string {
	t.Helper()
	if d := os.Getenv("SEALFLEET_ARTIFACTS"); d != "" {
		dir := filepath.Join(d, sub)
		if err := os.MkdirAll(dir, 0o755); err != nil {
			t.Fatal(err)
		}
		return dir
	}
	return t.TempDir()
}

// Screenshot saves a full-page PNG of the tab as dir/name.png (written to a temp name, then renamed).
func Screenshot(t testing.TB, ctx context.Context, dir, name string) {
	t.Helper()
	var png []byte
	if err := chromedp.Run(ctx, chromedp.FullScreenshot(&png, 100)); err != nil {
		t.Fatalf("screenshot %s: %v", name, err)
	}
	p := filepath.Join(dir, name+".png")
	if err := os.WriteFile(p+".tmp", png, 0o644); err != nil {
		t.Fatal(err)
	}
	if err := os.Rename(p+".tmp", p); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot %s", p)
}

// WatchPageErrors fails the test at its end if the page threw, logged a console error or reported a security
// (CSP) violation. Network errors of requests to /api/ and /login are not counted: tests refuse those on
// purpose.
func WatchPageErrors(t testing.TB, ctx context.Context) {
	var mu sync.Mutex
	var pageErrors []string
	chromedp.ListenTarget(ctx, func(ev any) {
		mu.Lock()
		defer mu.Unlock()
		switch e := ev.(type) {
		case *runtime.EventExceptionThrown:
			pageErrors = append(pageErrors, "exception: "+e.ExceptionDetails.Error())
		case *runtime.EventConsoleAPICalled:
			if e.Type == runtime.APITypeError {
				var args []string
				for _, a := range e.Args {
					args = append(args, string(a.Value)+a.Description)
				}
				pageErrors = append(pageErrors, "console.error: "+strings.Join(args, " "))
			}
		case *cdplog.EventEntryAdded:
			if e.Entry.Level == cdplog.LevelError && !strings.Contains(e.Entry.URL, "/api/") && !strings.Contains(e.Entry.URL, "/login") {
				pageErrors = append(pageErrors, fmt.Sprintf("%s: %s (%s)", e.Entry.Source, e.Entry.Text, e.Entry.URL))
			}
		}
	})
	t.Cleanup(func() {
		mu.Lock()
		defer mu.Unlock()
		for _, e := range pageErrors {
			t.Errorf("page error: %s", e)
		}
	})
}

// MustRun runs actions in the tab and fails the test on an error.
func MustRun(t testing.TB, ctx context.Context, actions ...chromedp.Action) {
	t.Helper()
	if err := chromedp.Run(ctx, actions...); err != nil {
		t.Fatal(err)
	}
}

// WaitFor polls a JavaScript predicate until it is true, failing the action after timeout.
func WaitFor(expr string, timeout time.Duration) chromedp.Action {
	return chromedp.Poll(expr, nil, chromedp.WithPollingTimeout(timeout))
}

// ShowView switches the dashboard's view: a same-document navigation the page follows through location.hash.
func ShowView(name string) chromedp.Action {
	return chromedp.Evaluate(fmt.Sprintf(`location.hash = %q`, "#"+name), nil)
}
