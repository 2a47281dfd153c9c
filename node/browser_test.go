package node

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/emulation"
	"github.com/chromedp/chromedp"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/api"
	"sealfleet/seal"
	"sealfleet/seal/native"
	"sealfleet/storiface"
	"sealfleet/web/webtest/browsertest"
)

// domWait bounds each wait on a DOM condition; a 2KiB sector reaches Proving in seconds even under -race.
const domWait = 40 * time.Second

// TestBrowserDashboard opens the dashboard of a real in-process node (native backend, embedded local worker)
// in headless Chromium: without a token the node refuses, a read token logs in, and a 2KiB sector pledged over
// the node's JSON-RPC API is shown moving through its states to Proving, next to the embedded worker's row and
// the timeline bars of the sector's tasks. Page exceptions, console errors and CSP violations fail the test.
func TestBrowserDashboard(t *testing.T) {
	if testing.Short() {
		t.Skip("starts Chromium and seals a sector")
	}
	ctx := browsertest.New(t, 90*time.Second)
	gate := &pc1Gate{entered: make(chan storiface.SectorRef, 1), open: make(chan struct{})}
	n := startGatedNode(t, gate)
	base := n.URL()
	dir := browsertest.ArtifactDir(t, "node")
	browsertest.WatchPageErrors(t, ctx)
	browsertest.MustRun(t, ctx, emulation.SetEmulatedMedia().WithFeatures(
		[]*emulation.MediaFeature{{Name: "prefers-color-scheme", Value: "dark"}}))

	t.Run("without a token the node refuses", func(t *testing.T) {
		if code, body := attackDo(t, http.MethodGet, base+"/api/workers", "", nil); code != http.StatusUnauthorized {
			t.Fatalf("GET /api/workers without token: %d %q, want 401", code, body)
		}
		var loc string
		browsertest.MustRun(t, ctx, chromedp.Navigate(base+"/"), chromedp.WaitVisible("#token"), chromedp.Location(&loc))
		if !strings.HasSuffix(loc, "/login") {
			t.Fatalf("landed on %s, want /login", loc)
		}
	})
	t.Run("a read token logs in", func(t *testing.T) {
		perms, err := api.PermsUpTo("read")
		if err != nil {
			t.Fatal(err)
		}
		read, err := api.NewToken(n.secret, perms)
		if err != nil {
			t.Fatal(err)
		}
		browsertest.MustRun(t, ctx, chromedp.SendKeys("#token", read), chromedp.Click("#login-submit"),
			chromedp.WaitVisible("#card-workers"),
			browsertest.WaitFor(`document.querySelector('#live').classList.contains('on')`, domWait))
	})
	t.Run("the embedded worker has a row", func(t *testing.T) {
		var cells []string
		browsertest.MustRun(t, ctx, browsertest.ShowView("workers"),
			browsertest.WaitFor(`document.querySelectorAll('#wk-table tbody tr[data-id]').length === 1`, domWait),
			chromedp.Evaluate(`[...document.querySelectorAll('#wk-table tbody tr[data-id] td')].map(td => td.textContent)`, &cells))
		if len(cells) < 3 || cells[1] != "enabled" || !strings.Contains(cells[2], "PC1") {
			t.Fatalf("worker row %q: want enabled with PC1 among its tasks", cells)
		}
		browsertest.Screenshot(t, ctx, dir, "01-workers-idle")
	})

	checkPledgeShown(t, ctx, n, gate, dir)
	t.Run("overview counts the sector", func(t *testing.T) {
		browsertest.MustRun(t, ctx, browsertest.ShowView("overview"), chromedp.WaitVisible("#card-workers"))
		browsertest.Screenshot(t, ctx, dir, "06-overview")
		browsertest.MustRun(t, ctx, browsertest.ShowView("storage"), chromedp.WaitVisible("#st-table tbody tr[data-id]"))
		browsertest.Screenshot(t, ctx, dir, "07-storage")
	})
}

// checkPledgeShown opens the Sectors view, records every state the page shows in each sector row, pledges a
// sector over JSON-RPC with a write token and follows it on the page: while its PreCommit1 is held at the gate,
// the row reads PreCommit1, the embedded worker's row lists the running PC1 job and the timeline draws its bar
// (2KiB tasks take milliseconds: the node records every job from the scheduler's OnJob hook, but the worker row
// lists only current jobs and the timeline leaves out jobs narrower than its minimum span, so the task is held);
// after the gate opens the row reaches Proving and the
// sector's event log ends in Proving.
func checkPledgeShown(t *testing.T, ctx context.Context, n *runningNode, gate *pc1Gate, dir string) {
	t.Helper()
	pcfg, _ := n.cfg.PipelineConfig()
	browsertest.MustRun(t, ctx, browsertest.ShowView("sectors"), chromedp.WaitVisible("#sc-table tbody"),
		chromedp.Evaluate(`window.__seen = {};
			new MutationObserver(() => {
				document.querySelectorAll('#sc-table tbody tr[data-id]').forEach((tr) => {
					const s = tr.querySelector('.state').textContent, l = (window.__seen[tr.dataset.id] ||= []);
					if (l[l.length - 1] !== s) l.push(s);
				});
			}).observe(document.querySelector('#sc-table tbody'), { childList: true, subtree: true, characterData: true });`, nil))
	num := pledgeRPC(t, n)
	id := storiface.SectorName(abi.SectorID{Miner: pcfg.Miner, Number: num})
	select {
	case ref := <-gate.entered:
		if ref.ID.Number != num {
			t.Fatalf("PreCommit1 of sector %d entered, want %d", ref.ID.Number, num)
		}
	case <-time.After(domWait):
		t.Fatalf("PreCommit1 of sector %d not called within %s", num, domWait)
	}
	row := fmt.Sprintf(`document.querySelector('#sc-table tr[data-id="%s"]')`, id)
	// a click through the DOM: the row is replaced on every state change, so a node id chromedp resolved may be
	// gone by the time it clicks
	selectRow := chromedp.Evaluate(row+`.click()`, nil)
	browsertest.MustRun(t, ctx, browsertest.WaitFor(row+` !== null`, domWait), selectRow,
		browsertest.WaitFor(row+`.querySelector('.state').textContent === 'PreCommit1'`, domWait),
		browsertest.WaitFor(`document.querySelectorAll('#sc-events li').length > 0`, domWait))
	browsertest.Screenshot(t, ctx, dir, "02-sector-precommit1")

	t.Run("the worker row lists the running PC1", func(t *testing.T) {
		browsertest.MustRun(t, ctx, browsertest.ShowView("workers"), browsertest.WaitFor(fmt.Sprintf(
			`[...document.querySelectorAll('#wk-table tbody tr[data-id] td:last-child div')].some(d => d.textContent.includes('PC1') && d.textContent.includes(%q))`, id), domWait))
		browsertest.Screenshot(t, ctx, dir, "03-worker-running")
	})
	t.Run("the timeline draws the PC1 bar", func(t *testing.T) {
		bar := fmt.Sprintf(`#tl-chart svg g.job[data-sector=%q][data-task="PC1"] rect.run`, id)
		browsertest.MustRun(t, ctx, browsertest.ShowView("timeline"),
			browsertest.WaitFor(fmt.Sprintf(`document.querySelector('%s') !== null`, bar), domWait))
		browsertest.Screenshot(t, ctx, dir, "04-timeline")
	})
	close(gate.open)

	browsertest.MustRun(t, ctx, browsertest.ShowView("sectors"),
		browsertest.WaitFor(row+` !== null && `+row+`.querySelector('.state').textContent === 'Proving'`, domWait),
		selectRow, // re-reads the event log: changes while another view was open were not applied to it
		browsertest.WaitFor(`document.querySelector('#sc-events li:first-child b').textContent === 'Proving'`, domWait),
		browsertest.WaitFor(`[...document.querySelectorAll('#sc-states .stage')].some(s => s.dataset.state === 'Proving' && s.textContent.startsWith('1'))`, domWait))
	var seen, events []string
	browsertest.MustRun(t, ctx, chromedp.Evaluate(fmt.Sprintf(`window.__seen[%q] || []`, id), &seen),
		chromedp.Evaluate(`[...document.querySelectorAll('#sc-events li b')].map(b => b.textContent).reverse()`, &events))
	t.Logf("row states shown: %v; event log: %v", seen, events)
	if len(seen) < 2 || !contains(seen, "PreCommit1") || seen[len(seen)-1] != "Proving" {
		t.Errorf("row of %s showed states %v: want PreCommit1 (held) and then Proving", id, seen)
	}
	for _, want := range []string{"PreCommit1", "PreCommit2", "Commit2", "Proving"} {
		if !contains(events, want) {
			t.Errorf("event log %v lacks %s", events, want)
		}
	}
	browsertest.Screenshot(t, ctx, dir, "05-sector-proving")
}

// pc1Gate holds every PreCommit1 call of the backend until open is closed, announcing the call on entered.
type pc1Gate struct {
	entered chan storiface.SectorRef
	open    chan struct{}
}

// gatedPC1Backend is a backend whose PreCommit1 waits at a pc1Gate.
type gatedPC1Backend struct {
	seal.Backend
	gate *pc1Gate
}

func (b gatedPC1Backend) SealPreCommit1(ctx context.Context, s storiface.SectorRef, p storiface.SectorPaths,
	ticket abi.SealRandomness, pieces []abi.PieceInfo) (storiface.PreCommit1Out, error) {
	select {
	case b.gate.entered <- s:
	default:
	}
	select {
	case <-b.gate.open:
	case <-ctx.Done():
		return nil, ctx.Err()
	}
	return b.Backend.SealPreCommit1(ctx, s, p, ticket, pieces)
}

// startGatedNode is startNode (2KiB, workers polled every 50 ms) with the native backend behind gate.
func startGatedNode(t *testing.T, gate *pc1Gate) *runningNode {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	b := gatedPC1Backend{Backend: native.New(native.Config{ParentsCacheDir: t.TempDir(), Logger: quiet}), gate: gate}
	n, err := New(ctx, testConfig("2KiB"), Options{Repo: t.TempDir(), Logger: quiet, Backend: b,
		ObserveInterval: 50 * time.Millisecond})
	if err != nil {
		cancel()
		t.Fatal(err)
	}
	done := make(chan error, 1)
	go func() { done <- n.Run(ctx) }()
	rn := &runningNode{Node: n}
	var once sync.Once
	rn.stop = func() {
		once.Do(func() {
			select {
			case <-gate.open:
			default:
				close(gate.open)
			}
			cancel()
			if err := <-done; err != nil {
				t.Errorf("Run: %v", err)
			}
			n.Close()
		})
	}
	t.Cleanup(rn.stop)
	return rn
}

// pledgeRPC pledges one committed-capacity sector through the node's JSON-RPC API with a write token.
func pledgeRPC(t *testing.T, n *runningNode) abi.SectorNumber {
	t.Helper()
	write, err := n.Token("write")
	if err != nil {
		t.Fatal(err)
	}
	req := fmt.Sprintf(`{"jsonrpc":"2.0","id":1,"method":"%s.SectorsPledge","params":[]}`, api.Namespace)
	code, body := httpDo(t, http.MethodPost, n.URL()+"/rpc/v0", write, []byte(req))
	var resp struct {
		Result *abi.SectorNumber `json:"result"`
		Error  *struct {
			Message string `json:"message"`
		} `json:"error"`
	}
	if err := json.Unmarshal(body, &resp); err != nil || code != http.StatusOK || resp.Result == nil {
		t.Fatalf("SectorsPledge over RPC: %d %s (%v)", code, body, err)
	}
	return *resp.Result
}

func contains(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}
