package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-jsonrpc"
	"github.com/filecoin-project/go-state-types/abi"
	"github.com/ipfs/go-cid"

	"sealfleet/api"
	"sealfleet/pipeline"
)

var t0 = time.Date(2026, 3, 4, 5, 6, 7, 0, time.UTC)

func testCID(t *testing.T) cid.Cid {
	t.Helper()
	// The CommD of an all-zero 2KiB sector (PROOFS.md; go-fil-commp-hashhash testdata/zero.txt).
	c, err := cid.Parse("baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy")
	if err != nil {
		t.Fatal(err)
	}
	return c
}

func sampleSectors(t *testing.T) []pipeline.SectorInfo {
	c := testCID(t)
	return []pipeline.SectorInfo{
		{Number: 0, State: pipeline.Proving, Created: t0, Updated: t0.Add(time.Minute),
			Pieces: []pipeline.Piece{{Size: 2032, CID: c}}, Ticket: bytes.Repeat([]byte{1}, 32), CommD: c, CommR: c},
		{Number: 1, State: pipeline.PreCommitFailed, RetryState: pipeline.PreCommit2, Retries: 2,
			LastError: "PreCommit2: disk\nfull", Created: t0, Updated: t0.Add(2 * time.Minute),
			NextRetry: t0.Add(3 * time.Minute),
			Pieces:    []pipeline.Piece{{Size: 127, Deal: true, DataSize: 100, CID: c}, {Size: 127}, {Size: 254}}},
		{Number: 2, State: pipeline.CommitFailed, RetryState: pipeline.Commit1, GaveUp: true, Retries: 3,
			LastError: "bad", Created: t0, Updated: t0},
	}
}

func TestRenderSectorList(t *testing.T) {
	var b bytes.Buffer
	if err := renderSectorList(&b, sampleSectors(t), t0.Add(3*time.Minute)); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(b.String()), "\n")
	tests := []struct {
		line int
		want []string
	}{
		{0, []string{"SECTOR", "STATE", "PIECES", "DEAL BYTES", "RETRIES", "UPDATED", "ERROR"}},
		{1, []string{"0", "Proving", "1", "2m0s ago"}},
		{2, []string{"1", "PreCommitFailed (retrying PreCommit2)", "3", "100", "2", "PreCommit2: disk full"}},
		{3, []string{"2", "CommitFailed (gave up on Commit1)", "bad"}},
	}
	if len(lines) != 4 {
		t.Fatalf("%d lines:\n%s", len(lines), b.String())
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(tc.line), func(t *testing.T) {
			for _, w := range tc.want {
				if !strings.Contains(lines[tc.line], w) {
					t.Errorf("line %q lacks %q", lines[tc.line], w)
				}
			}
		})
	}
}

func TestRenderSectorStatus(t *testing.T) {
	s := sampleSectors(t)[1]
	events := []pipeline.Event{
		{Time: t0, To: pipeline.WaitDeals, Message: "opened"},
		{Time: t0.Add(time.Second), From: pipeline.PreCommit2, To: pipeline.PreCommitFailed, Message: "disk full"},
	}
	tests := []struct {
		name   string
		events []pipeline.Event
		want   []string
		absent []string
	}{
		{"no log", nil, []string{"Sector:", "PreCommitFailed (retrying PreCommit2)", "Retries:", "Next retry:",
			"2026-03-04T05:09:07Z (in 1m0s)", "offset 0 size 127", "offset 127 size 127", "offset 254 size 254",
			"deal, 100 payload bytes", "not added", "Ticket:", "-"}, []string{"Log:"}},
		{"log", events, []string{"Log:", "WaitDeals", "opened", "PreCommit2 -> PreCommitFailed", "disk full"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var b bytes.Buffer
			if err := renderSectorStatus(&b, s, tc.events, t0.Add(2*time.Minute)); err != nil {
				t.Fatal(err)
			}
			for _, w := range tc.want {
				if !strings.Contains(b.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, b.String())
				}
			}
			for _, w := range tc.absent {
				if strings.Contains(b.String(), w) {
					t.Errorf("output has %q", w)
				}
			}
		})
	}
}

func TestProgressLine(t *testing.T) {
	tests := []struct {
		s    pipeline.SectorInfo
		want string
	}{
		{pipeline.SectorInfo{State: pipeline.Packing}, "[>........] 0/9"},
		{pipeline.SectorInfo{State: pipeline.PreCommit2}, "[##>......] 2/9"},
		{pipeline.SectorInfo{State: pipeline.CommitFailed, RetryState: pipeline.Commit1}, "[####!....] 4/9"},
		{pipeline.SectorInfo{State: pipeline.Proving}, "[#########] 9/9"},
	}
	for _, tc := range tests {
		t.Run(string(tc.s.State), func(t *testing.T) {
			tc.s.Created = t0
			got := progressLine(tc.s, t0.Add(90*time.Second))
			if !strings.Contains(got, tc.want) || !strings.HasSuffix(got, "1m30s") {
				t.Fatalf("progressLine = %q, want it to contain %q and end with the elapsed time", got, tc.want)
			}
		})
	}
}

func TestProgressPrinter(t *testing.T) {
	step1 := []pipeline.SectorInfo{{Number: 1, State: pipeline.Packing}, {Number: 2, State: pipeline.Packing}}
	step2 := []pipeline.SectorInfo{{Number: 1, State: pipeline.PreCommit1}, {Number: 2, State: pipeline.Packing}}
	t.Run("plain", func(t *testing.T) {
		var b bytes.Buffer
		p := newProgressPrinter(&b, false)
		p.update(step1, t0)
		p.update(step1, t0)
		p.update(step2, t0)
		want := "2026-03-04T05:06:07Z sector 1: Packing\n2026-03-04T05:06:07Z sector 2: Packing\n" +
			"2026-03-04T05:06:07Z sector 1: PreCommit1\n"
		if b.String() != want {
			t.Fatalf("got\n%q\nwant\n%q", b.String(), want)
		}
	})
	t.Run("terminal", func(t *testing.T) {
		var b bytes.Buffer
		p := newProgressPrinter(&b, true)
		p.update(step1, t0)
		if strings.Contains(b.String(), "\x1b[2A") || strings.Count(b.String(), "\x1b[2K") != 2 {
			t.Fatalf("first draw %q", b.String())
		}
		b.Reset()
		p.update(step2, t0)
		if !strings.HasPrefix(b.String(), "\x1b[2A") || strings.Count(b.String(), "\n") != 2 {
			t.Fatalf("redraw %q: want cursor up 2 then two bars", b.String())
		}
	})
}

// scriptAPI is a sectorsAPI whose SectorsStatus walks through a script of states, one step per call.
type scriptAPI struct {
	sectorsAPI
	mu     sync.Mutex
	script map[abi.SectorNumber][]pipeline.SectorInfo
}

func (s *scriptAPI) SectorsStatus(_ context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	steps, ok := s.script[n]
	if !ok {
		return pipeline.SectorInfo{}, fmt.Errorf("sector %d: %w", n, pipeline.ErrUnknownSector)
	}
	if len(steps) > 1 {
		s.script[n] = steps[1:]
	}
	return steps[0], nil
}

func TestWaitSectors(t *testing.T) {
	tests := []struct {
		name    string
		script  map[abi.SectorNumber][]pipeline.SectorInfo
		ticks   int
		wantErr string
		lines   int
	}{
		{"proving", map[abi.SectorNumber][]pipeline.SectorInfo{
			1: {{Number: 1, State: pipeline.PreCommit1}, {Number: 1, State: pipeline.PreCommit2}, {Number: 1, State: pipeline.Proving}},
		}, 2, "", 3},
		{"gave up", map[abi.SectorNumber][]pipeline.SectorInfo{
			1: {{Number: 1, State: pipeline.Commit2}, {Number: 1, State: pipeline.CommitFailed, GaveUp: true, LastError: "boom"}},
			2: {{Number: 2, State: pipeline.Proving}},
		}, 1, "sector 1 gave up in CommitFailed: boom", 3},
		{"unknown", map[abi.SectorNumber][]pipeline.SectorInfo{}, 0, "unknown sector", 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := &scriptAPI{script: tc.script}
			var nums []abi.SectorNumber
			for n := range tc.script {
				nums = append(nums, n)
			}
			if len(nums) == 0 {
				nums = []abi.SectorNumber{9}
			}
			var b bytes.Buffer
			tick := make(chan time.Time, tc.ticks)
			for range tc.ticks {
				tick <- t0
			}
			err := waitSectors(context.Background(), a, nums, newProgressPrinter(&b, false), tick, func() time.Time { return t0 })
			if (err == nil) != (tc.wantErr == "") || (err != nil && !strings.Contains(err.Error(), tc.wantErr)) {
				t.Fatalf("waitSectors = %v, want %q", err, tc.wantErr)
			}
			if got := strings.Count(b.String(), "\n"); got != tc.lines {
				t.Errorf("%d lines, want %d:\n%s", got, tc.lines, b.String())
			}
		})
	}
}

// rpcSectors serves the JSON-RPC half of the sectors API for the client test.
type rpcSectors struct {
	mu      sync.Mutex
	removed []abi.SectorNumber
	updates []string
}

func (r *rpcSectors) SectorsPledge(context.Context) (abi.SectorNumber, error) { return 7, nil }
func (r *rpcSectors) SectorsList(context.Context) ([]pipeline.SectorInfo, error) {
	return []pipeline.SectorInfo{{Number: 7, State: pipeline.Packing}}, nil
}
func (r *rpcSectors) SectorsStatus(_ context.Context, n abi.SectorNumber) (pipeline.SectorInfo, error) {
	if n != 7 {
		return pipeline.SectorInfo{}, fmt.Errorf("sector %d: %w", n, pipeline.ErrUnknownSector)
	}
	return pipeline.SectorInfo{Number: 7, State: pipeline.Packing}, nil
}
func (r *rpcSectors) SectorsEvents(context.Context, abi.SectorNumber) ([]pipeline.Event, error) {
	return []pipeline.Event{{Sector: 7, To: pipeline.Packing}}, nil
}
func (r *rpcSectors) SectorsRemove(_ context.Context, n abi.SectorNumber) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.removed = append(r.removed, n)
	return nil
}
func (r *rpcSectors) SectorsUpdateState(_ context.Context, n abi.SectorNumber, st pipeline.SectorState) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.updates = append(r.updates, fmt.Sprintf("%d %s", n, st))
	return nil
}
func (r *rpcSectors) SectorsUnseal(context.Context, abi.SectorNumber) error {
	return errors.New("no replica")
}

// TestSectorsClient runs the client against a loopback server: JSON-RPC at /rpc/v0 and the piece endpoints.
func TestSectorsClient(t *testing.T) {
	rs := &rpcSectors{}
	rpc := jsonrpc.NewServer()
	rpc.Register(api.Namespace, rs)
	var gotPiece []byte
	mux := http.NewServeMux()
	mux.Handle(api.RPCPath, rpc)
	mux.HandleFunc("POST "+pipeline.PiecesPath, func(w http.ResponseWriter, r *http.Request) {
		if r.Header.Get("Authorization") != "Bearer tok" || r.URL.Query().Get("size") != "5" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		gotPiece, _ = io.ReadAll(r.Body)
		_ = json.NewEncoder(w).Encode(pipeline.SectorPieceLocation{Sector: 7, Size: 127, DataSize: 5})
	})
	mux.HandleFunc("GET "+pipeline.ReadPath+"/{n}", func(w http.ResponseWriter, r *http.Request) {
		if r.PathValue("n") != "7" {
			http.Error(w, "sector not found", http.StatusNotFound)
			return
		}
		_, _ = w.Write([]byte("abc"))
	})
	srv := httptest.NewServer(mux)
	defer srv.Close()

	ctx := context.Background()
	c, closer, err := dialSectors(ctx, api.Info{Token: "tok", URL: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	defer closer()
	if n, err := c.SectorsPledge(ctx); err != nil || n != 7 {
		t.Errorf("pledge = %d, %v", n, err)
	}
	if l, err := c.SectorsList(ctx); err != nil || len(l) != 1 {
		t.Errorf("list = %v, %v", l, err)
	}
	if _, err := c.SectorsStatus(ctx, 8); err == nil || !strings.Contains(err.Error(), "unknown sector") {
		t.Errorf("status of unknown sector: %v", err)
	}
	if err := c.SectorsUpdateState(ctx, 7, pipeline.PreCommit1); err != nil || rs.updates[0] != "7 PreCommit1" {
		t.Errorf("update-state: %v %v", err, rs.updates)
	}
	if err := c.SectorsRemove(ctx, 7); err != nil || rs.removed[0] != 7 {
		t.Errorf("remove: %v %v", err, rs.removed)
	}
	if err := c.SectorsUnseal(ctx, 7); err == nil || !strings.Contains(err.Error(), "no replica") {
		t.Errorf("unseal error %v", err)
	}
	loc, err := c.SectorsAddPiece(ctx, strings.NewReader("hello"), 5)
	if err != nil || loc.Sector != 7 || string(gotPiece) != "hello" {
		t.Errorf("add-piece = %+v, %v (server got %q)", loc, err, gotPiece)
	}
	var out bytes.Buffer
	if err := c.SectorsRead(ctx, &out, 7, 0, 3); err != nil || out.String() != "abc" {
		t.Errorf("read = %q, %v", out.String(), err)
	}
	if err := c.SectorsRead(ctx, &out, 7, 0, 4); err == nil || !strings.Contains(err.Error(), "3 of 4") {
		t.Errorf("short read error %v", err)
	}
	if err := c.SectorsRead(ctx, &out, 8, 0, 3); err == nil || !strings.Contains(err.Error(), "404") {
		t.Errorf("read of unknown sector: %v", err)
	}
}
