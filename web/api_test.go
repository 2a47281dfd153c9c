package web_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"sealfleet/web"
	"sealfleet/web/webtest"
)

func TestAPI_Overview(t *testing.T) {
	f := newFixture(t, webtest.Demo{})
	now := t0
	f.src.SetWorker(web.Worker{ID: "a", Hostname: "h1", Enabled: true, CPUUsed: 8, CPUTotal: 32, MemUsed: 1 << 30, MemTotal: 4 << 30,
		Jobs: []web.WorkerJob{{ID: "j1", Task: "PC1", Sector: "s-t01000-1"}}}, now)
	f.src.SetWorker(web.Worker{ID: "b", Hostname: "h2", CPUTotal: 32, GPUTotal: 1}, now)
	f.src.SetSectorState("s-t01000-1", 1, "PreCommit1", "", now)
	f.src.SetSectorState("s-t01000-2", 2, "Proving", "", now)
	f.src.SetSectorState("s-t01000-3", 3, "Proving", "", now)
	f.src.SetStoragePath(web.StoragePath{ID: "p1", Capacity: 100, Used: 40, Reserved: 10, Available: 50, Sectors: 2, Healthy: true}, now)
	f.src.SetStoragePath(web.StoragePath{ID: "p2", Capacity: 100, Used: 10, Available: 90, Sectors: 1}, now)
	f.src.SetQueue([]web.QueuedRequest{
		{ID: "r1", Task: "PC2", Queued: now.Add(-90 * time.Second)},
		{ID: "r2", Task: "PC2", Queued: now.Add(-30 * time.Second)},
		{ID: "r3", Task: "C2", Queued: now},
	}, now)
	c := f.client(t)
	f.login(t, c, readToken)
	var ov web.Overview
	if code := getJSON(t, c, f.http.URL+"/api/overview", &ov); code != http.StatusOK {
		t.Fatalf("status %d", code)
	}
	// expected values worked out from the fixture above
	if w := ov.Workers; w.Total != 2 || w.Enabled != 1 || w.Busy != 1 || w.CPUUsed != 8 || w.CPUTotal != 64 || w.GPUTotal != 1 {
		t.Errorf("workers summary %+v", w)
	}
	if ov.Total != 3 || len(ov.Running) != 1 || ov.Running[0] != (web.TaskCount{Task: "PC1", Count: 1}) {
		t.Errorf("sectors total %d, running %+v", ov.Total, ov.Running)
	}
	if q := ov.Queue; q.Total != 3 || q.OldestWait != 90 || q.ByTask[0] != (web.TaskCount{Task: "PC2", Count: 2}) {
		t.Errorf("queue summary %+v", q)
	}
	if s := ov.Storage; s.Paths != 2 || s.Healthy != 1 || s.Capacity != 200 || s.Used != 50 || s.Reserved != 10 || s.Sectors != 3 {
		t.Errorf("storage summary %+v", s)
	}
}

func TestAPI_PagesAndWindows(t *testing.T) {
	f := newFixture(t, webtest.Demo{Workers: 30, Sectors: 300, Seed: 1})
	c := f.client(t)
	f.login(t, c, readToken)
	u := f.http.URL

	t.Run("workers page sorted by host", func(t *testing.T) {
		var p web.WorkerPage
		getJSON(t, c, u+"/api/workers?offset=10&limit=5", &p)
		if p.Total != 30 || len(p.Workers) != 5 || p.Workers[0].Hostname != "seal-010.dc1" || p.Workers[4].Hostname != "seal-014.dc1" {
			t.Fatalf("page total %d, %d workers, first %q", p.Total, len(p.Workers), p.Workers[0].Hostname)
		}
		getJSON(t, c, u+"/api/workers?q=seal-02", &p)
		if p.Total != 10 {
			t.Fatalf("filter seal-02: %d workers, want 10", p.Total)
		}
	})
	t.Run("timeline returns only the page's lanes and the window's jobs", func(t *testing.T) {
		from, to := t0.Add(-2*time.Hour), t0
		var tl web.Timeline
		getJSON(t, c, u+"/api/timeline?limit=4&from="+from.Format(time.RFC3339)+"&to="+to.Format(time.RFC3339), &tl)
		if tl.Total != 30 || len(tl.Lanes) != 4 {
			t.Fatalf("lanes %d of %d, want 4 of 30", len(tl.Lanes), tl.Total)
		}
		if len(tl.Jobs) == 0 || tl.MinSpanMs != 2*3600*1000/1600 {
			t.Fatalf("%d jobs, min span %d ms in the last two hours of the demo", len(tl.Jobs), tl.MinSpanMs)
		}
		// at 100 px for two hours a pixel is 72 s: only jobs that lived at least that long are returned
		var coarse web.Timeline
		getJSON(t, c, u+"/api/timeline?px=100&limit=4&from="+from.Format(time.RFC3339)+"&to="+to.Format(time.RFC3339), &coarse)
		for _, j := range coarse.Jobs {
			if j.End != 0 && j.End-j.Queued < 72_000 {
				t.Fatalf("px=100: job %s lived %d ms, under a pixel", j.ID, j.End-j.Queued)
			}
		}
		if len(coarse.Jobs) > len(tl.Jobs) {
			t.Fatalf("px=100 returned more jobs (%d) than px=1600 (%d)", len(coarse.Jobs), len(tl.Jobs))
		}
		lanes := map[string]bool{}
		for _, l := range tl.Lanes {
			lanes[l.ID] = true
		}
		for _, j := range tl.Jobs {
			if !lanes[j.Worker] {
				t.Fatalf("job %s on worker %s outside the page", j.ID, j.Worker)
			}
			if j.Queued >= to.UnixMilli() || (j.End != 0 && j.End <= from.UnixMilli()) {
				t.Fatalf("job %s [%d, %d) outside the window", j.ID, j.Queued, j.End)
			}
		}
	})
	t.Run("sectors newest first, filtered by state", func(t *testing.T) {
		var p web.SectorPage
		getJSON(t, c, u+"/api/sectors?limit=3", &p)
		if p.Total != 300 || len(p.Sectors) != 3 || p.Sectors[0].Number != 300 || p.Sectors[2].Number != 298 {
			t.Fatalf("page %+v", p)
		}
		getJSON(t, c, u+"/api/sectors?state=Proving&limit=500", &p)
		for _, s := range p.Sectors {
			if s.State != "Proving" {
				t.Fatalf("sector %s in %s in the Proving page", s.ID, s.State)
			}
		}
		if p.Total == 0 || p.Total != len(p.Sectors) {
			t.Fatalf("Proving: total %d, page %d", p.Total, len(p.Sectors))
		}
	})
	t.Run("sector events", func(t *testing.T) {
		var ev struct {
			Sector string
			Events []web.SectorEvent
		}
		getJSON(t, c, u+"/api/sectors/s-t01000-1/events", &ev)
		if len(ev.Events) < 2 || ev.Events[0].To != "Packing" || ev.Events[1].From != "Packing" {
			t.Fatalf("events %+v", ev.Events)
		}
		if code := getJSON(t, c, u+"/api/sectors/s-t01000-99999/events", nil); code != http.StatusNotFound {
			t.Fatalf("unknown sector: %d, want 404", code)
		}
	})
	t.Run("queue groups reasons", func(t *testing.T) {
		var q web.QueueView
		getJSON(t, c, u+"/api/queue?limit=2", &q)
		if q.Summary.Total == 0 || len(q.Requests) != 2 {
			t.Fatalf("queue %+v", q.Summary)
		}
		n := 0
		for i, g := range q.Requests[0].Reasons {
			n += g.Count
			if i > 0 && g.Count > q.Requests[0].Reasons[i-1].Count {
				t.Fatal("reason groups not sorted by count")
			}
			if len(g.Workers) > 8 {
				t.Fatalf("reason group lists %d workers", len(g.Workers))
			}
		}
		if n != 30 {
			t.Fatalf("reasons cover %d workers, want 30", n)
		}
		var one web.QueueRequestView
		getJSON(t, c, u+"/api/queue/"+q.Requests[1].ID, &one)
		if one.ID != q.Requests[1].ID || len(one.Rejections) != 30 || one.Rejections[0].Worker != "w-0000" {
			t.Fatalf("request %s: %d rejections, first %+v", one.ID, len(one.Rejections), one.Rejections)
		}
		if code := getJSON(t, c, u+"/api/queue/no-such-request", nil); code != http.StatusNotFound {
			t.Fatalf("unknown request: %d, want 404", code)
		}
	})
}

func TestAPI_BadParameters(t *testing.T) {
	f := newFixture(t, webtest.Demo{Workers: 2, Sectors: 5})
	c := f.client(t)
	f.login(t, c, readToken)
	for _, tc := range []struct {
		path, field string
	}{
		{"/api/workers?limit=0", "limit"},
		{"/api/workers?offset=-1", "offset"},
		{"/api/sectors?limit=abc", "limit"},
		{"/api/timeline?from=yesterday", "from"},
		{"/api/timeline?from=2000&to=1000", "window"},
		{"/api/timeline?limit=1000", "limit"},
		{"/api/timeline?px=5", "px"},
		{"/api/queue?limit=9999", "limit"},
	} {
		t.Run(tc.path, func(t *testing.T) {
			resp, err := c.Get(f.http.URL + tc.path)
			if err != nil {
				t.Fatal(err)
			}
			defer resp.Body.Close()
			var body struct{ Error string }
			_ = decode(resp, &body)
			if resp.StatusCode != http.StatusBadRequest || !strings.Contains(body.Error, tc.field) {
				t.Fatalf("status %d, error %q: want 400 naming %s", resp.StatusCode, body.Error, tc.field)
			}
		})
	}
}
