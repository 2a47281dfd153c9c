package web_test

import (
	"context"
	"fmt"
	"net/http"
	"testing"

	"sealfleet/web"
	"sealfleet/web/webtest"
)

// groupedSource serves the queue as a large-fleet source does: Queue gives grouped Reasons and no per-worker
// Rejections; QueuedRequest gives one request's Rejections.
type groupedSource struct {
	*webtest.MemSource
}

func (g groupedSource) Queue(ctx context.Context) ([]web.QueuedRequest, error) {
	q, err := g.MemSource.Queue(ctx)
	for i := range q {
		q[i].Reasons = []web.ReasonGroup{{Reason: "grouped", Count: len(q[i].Rejections), Workers: []string{"w-0000"}}}
		q[i].Rejections = nil
	}
	return q, err
}

func (g groupedSource) QueuedRequest(ctx context.Context, id string) (web.QueuedRequest, error) {
	q, err := g.MemSource.Queue(ctx)
	if err != nil {
		return web.QueuedRequest{}, err
	}
	for _, r := range q {
		if r.ID == id {
			return r, nil
		}
	}
	return web.QueuedRequest{}, fmt.Errorf("request %q: %w", id, web.ErrNotFound)
}

func TestAPI_QueueGroupedSource(t *testing.T) {
	f := newFixtureWith(t, webtest.Demo{Workers: 30, Sectors: 300, Seed: 1},
		func(m *webtest.MemSource) web.Source { return groupedSource{m} })
	c := f.client(t)
	f.login(t, c, readToken)
	u := f.http.URL
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"list uses the source's groups", func(t *testing.T) {
			var q web.QueueView
			getJSON(t, c, u+"/api/queue?limit=2", &q)
			if len(q.Requests) != 2 || len(q.Requests[0].Reasons) != 1 || q.Requests[0].Reasons[0].Reason != "grouped" ||
				q.Requests[0].Reasons[0].Count != 30 {
				t.Fatalf("queue %+v", q.Requests)
			}
			var one web.QueueRequestView
			getJSON(t, c, u+"/api/queue/"+q.Requests[1].ID, &one)
			if one.ID != q.Requests[1].ID || len(one.Rejections) != 30 || one.Rejections[0].Worker != "w-0000" {
				t.Fatalf("request %s: %d rejections", one.ID, len(one.Rejections))
			}
		}},
		{"unknown request is 404", func(t *testing.T) {
			if code := getJSON(t, c, u+"/api/queue/no-such-request", nil); code != http.StatusNotFound {
				t.Fatalf("unknown request: %d, want 404", code)
			}
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, tc.run)
	}
}

// mergedSource merges the queue's requests by task type, as a source that groups alike requests does: one entry
// per task with Count.
type mergedSource struct {
	*webtest.MemSource
}

func (g mergedSource) Queue(ctx context.Context) ([]web.QueuedRequest, error) {
	q, err := g.MemSource.Queue(ctx)
	var out []web.QueuedRequest
	at := map[string]int{}
	for _, r := range q {
		if i, ok := at[r.Task]; ok {
			out[i].Count++
			continue
		}
		at[r.Task] = len(out)
		r.Count = 1
		out = append(out, r)
	}
	return out, err
}

func TestAPI_QueueMergedSource(t *testing.T) {
	f := newFixtureWith(t, webtest.Demo{Workers: 30, Sectors: 300, Seed: 1},
		func(m *webtest.MemSource) web.Source { return mergedSource{m} })
	c := f.client(t)
	f.login(t, c, readToken)
	all, err := f.src.Queue(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	merged, _ := mergedSource{f.src}.Queue(context.Background())
	if len(merged) >= len(all) {
		t.Fatalf("demo queue of %d requests merges into %d entries: the test merges nothing", len(all), len(merged))
	}
	var q web.QueueView
	getJSON(t, c, f.http.URL+"/api/queue?limit=200", &q)
	rows := 0
	for _, r := range q.Requests {
		rows += r.Count
	}
	byTask := 0
	for _, tc := range q.Summary.ByTask {
		byTask += tc.Count
	}
	if q.Summary.Total != len(all) || q.Summary.Rows != len(merged) || len(q.Requests) != len(merged) ||
		rows != len(all) || byTask != len(all) {
		t.Fatalf("summary %+v with %d rows counting %d; want total %d (also by task), %d rows", q.Summary,
			len(q.Requests), rows, len(all), len(merged))
	}
}
