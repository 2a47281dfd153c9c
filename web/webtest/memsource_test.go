package webtest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"sealfleet/web"
)

var t0 = time.Date(2026, 11, 23, 12, 0, 0, 0, time.UTC)

func TestSectorsPagesAndEvents(t *testing.T) {
	m := NewMemSource("A", "B")
	for n := range uint64(10) {
		m.SetSectorState(fmt.Sprint("s", n), n, "A", "", t0)
	}
	m.SetSectorState("s3", 3, "B", "", t0.Add(time.Minute))
	m.SetSectorState("s7", 7, "C", "boom", t0.Add(time.Minute))
	ctx := context.Background()
	counts, _ := m.SectorCounts(ctx)
	if want := []web.StateCount{{State: "A", Count: 8}, {State: "B", Count: 1}, {State: "C", Count: 1}}; !slices.Equal(counts, want) {
		t.Fatalf("counts %v, want %v", counts, want)
	}
	for _, tc := range []struct {
		q    web.SectorQuery
		want []uint64
		tot  int
	}{
		{web.SectorQuery{Limit: 3}, []uint64{9, 8, 7}, 10},
		{web.SectorQuery{Offset: 8, Limit: 5}, []uint64{1, 0}, 10},
		{web.SectorQuery{State: "A", Offset: 1, Limit: 3}, []uint64{8, 6, 5}, 8},
		{web.SectorQuery{State: "B"}, []uint64{3}, 1},
		{web.SectorQuery{State: "none"}, nil, 0},
		{web.SectorQuery{Offset: 50, Limit: 5}, nil, 10},
	} {
		t.Run(fmt.Sprintf("%+v", tc.q), func(t *testing.T) {
			p, err := m.Sectors(ctx, tc.q)
			if err != nil {
				t.Fatal(err)
			}
			var got []uint64
			for _, s := range p.Sectors {
				got = append(got, s.Number)
			}
			if p.Total != tc.tot || !slices.Equal(got, tc.want) {
				t.Fatalf("total %d, page %v; want %d, %v", p.Total, got, tc.tot, tc.want)
			}
		})
	}
	ev, err := m.SectorEvents(ctx, "s7")
	if err != nil || len(ev) != 2 || ev[1].From != "A" || ev[1].To != "C" || ev[1].Message != "boom" {
		t.Fatalf("events %+v, %v", ev, err)
	}
	if _, err := m.SectorEvents(ctx, "nope"); !errors.Is(err, web.ErrNotFound) {
		t.Fatalf("unknown sector: %v", err)
	}
}

func TestSubscribeClosesWithContext(t *testing.T) {
	m := NewMemSource()
	ctx, cancel := context.WithCancel(context.Background())
	ch, err := m.Subscribe(ctx)
	if err != nil {
		t.Fatal(err)
	}
	m.SetQueue(nil, t0)
	if c := <-ch; c.Kind != web.ChangeQueue {
		t.Fatalf("got %+v", c)
	}
	cancel()
	for range ch { // drains, then ends when the channel is closed
	}
}
