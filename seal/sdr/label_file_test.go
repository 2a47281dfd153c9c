package sdr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"testing"
	"time"
)

// openTestCache opens (generating) cfg's parents cache in a per-test directory.
func openTestCache(t *testing.T, cfg Config) *ParentsCache {
	t.Helper()
	pc, err := OpenParentsCache(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { pc.Close() })
	return pc
}

func readLayers(t *testing.T, dir string, layers int) [][]byte {
	t.Helper()
	out := make([][]byte, layers)
	for l := 1; l <= layers; l++ {
		b, err := os.ReadFile(filepath.Join(dir, LayerFileName(l)))
		if err != nil {
			t.Fatal(err)
		}
		out[l-1] = b
	}
	return out
}

func TestLabelFilesKAT(t *testing.T) {
	// The pipelined, file-based labeler against the same rust-fil-proofs KATs (stacked_vanilla.rs
	// test_stacked_porep_generate_labels) and against LabelLayersInMemory for every layer.
	for _, k := range labelKATs {
		t.Run(k.name, func(t *testing.T) {
			cfg := k.config()
			pc := openTestCache(t, cfg)
			dir := t.TempDir()
			if err := Label(t.Context(), cfg, pc, katReplicaID(), dir); err != nil {
				t.Fatal(err)
			}
			got := readLayers(t, dir, cfg.Layers)
			last := got[cfg.Layers-1][(cfg.Nodes-1)*NodeSize:]
			if !bytes.Equal(last, k.want()) {
				t.Fatalf("last label %x, want %x", last, k.want())
			}
			g, _ := NewGraph(cfg)
			want, err := LabelLayersInMemory(cfg, g, katReplicaID())
			if err != nil {
				t.Fatal(err)
			}
			for l := range want {
				if !bytes.Equal(got[l], want[l]) {
					t.Fatalf("layer %d differs from the in-memory labels", l+1)
				}
			}
		})
	}
}

func TestLabelFilesMatchInMemoryLarger(t *testing.T) {
	tests := []struct {
		version    APIVersion
		chunkNodes uint64 // layer files streamed in chunks of this many nodes
	}{
		{V1, maxWriteChunkNodes},
		{V1_1, maxWriteChunkNodes},
		{V1_1, 1000}, // several chunks and a partial last one
		{V1, 1 << 10},
	}
	for _, tc := range tests {
		v := tc.version
		t.Run(fmt.Sprint(v, "/", tc.chunkNodes), func(t *testing.T) {
			cfg := Config{Nodes: 1 << 13, Layers: 3, PoRepID: [32]byte{byte(v) + 40}, Version: v}
			pc := openTestCache(t, cfg)
			rid := [32]byte{1, 2, 3}
			dir := t.TempDir()
			if _, err := labelFiles(t.Context(), cfg, pc, rid, dir, tc.chunkNodes); err != nil {
				t.Fatal(err)
			}
			g, _ := NewGraph(cfg)
			want, _ := LabelLayersInMemory(cfg, g, rid)
			for l, got := range readLayers(t, dir, cfg.Layers) {
				if !bytes.Equal(got, want[l]) {
					t.Fatalf("layer %d differs", l+1)
				}
			}
		})
	}
}

func TestLabelFilesStarvedGathererDoesNotHoldUpTheNextLayer(t *testing.T) {
	// The first layer's gatherer stops for good in the middle of a table (as a starved thread would): the
	// labeler fills every later table of that layer itself, does not wait for the gatherer when the layer ends,
	// gives the next layers new tables, and every layer is right. (Whether the gatherer claims a chunk before
	// the labeler has taken them all depends on scheduling; the labels must be right either way.
	// TestGathererStopWhileFilling covers stop itself.) The later layers' labelers wait as long as it takes
	// for their gatherers, so that on a loaded machine those are not caught filling a table too, which would
	// rightly cost another set of tables.
	cfg := Config{Nodes: 1 << 12, Layers: 3, PoRepID: [32]byte{41}, Version: V1_1}
	pc := openTestCache(t, cfg)
	rid := [32]byte{5, 6}
	var made []*labelScratch
	scratchMade = func(s *labelScratch) {
		if len(made) == 0 {
			s.selfFillAfter = 0
			s.stall = new(atomic.Bool)
			s.stall.Store(true) // never released: the gatherer leaves only when it is stopped
		} else {
			s.selfFillAfter = time.Minute
		}
		made = append(made, s)
	}
	t.Cleanup(func() { scratchMade = nil })
	dir := t.TempDir()
	if _, err := labelFiles(t.Context(), cfg, pc, rid, dir, 1<<10); err != nil {
		t.Fatal(err)
	}
	if len(made) > 2 {
		t.Fatalf("%d sets of tables, want at most 2 (new ones once, after the starved gatherer's layer)", len(made))
	}
	g, _ := NewGraph(cfg)
	want, _ := LabelLayersInMemory(cfg, g, rid)
	for l, got := range readLayers(t, dir, cfg.Layers) {
		if !bytes.Equal(got, want[l]) {
			t.Fatalf("layer %d differs", l+1)
		}
	}
}

func TestLabelResumes(t *testing.T) {
	cfg := Config{Nodes: 1 << 10, Layers: 4, PoRepID: [32]byte{77}, Version: V1_1}
	rid := [32]byte{5}
	pc := openTestCache(t, cfg)
	g, _ := NewGraph(cfg)
	want, _ := LabelLayersInMemory(cfg, g, rid)

	tests := []struct {
		name string
		// prepare leaves the directory as a crashed or foreign run would
		prepare func(t *testing.T, dir string)
	}{
		{"two layers done, temp file of the third left", func(t *testing.T, dir string) {
			two := cfg
			two.Layers = 2
			if err := Label(t.Context(), two, pc, rid, dir); err != nil {
				t.Fatal(err)
			}
			writeFile(t, filepath.Join(dir, LayerFileName(3)+layerTempSuffix), []byte("partial"))
		}},
		{"layer 2 truncated", func(t *testing.T, dir string) {
			labelAll(t, cfg, pc, rid, dir)
			if err := os.Truncate(filepath.Join(dir, LayerFileName(2)), 100); err != nil {
				t.Fatal(err)
			}
		}},
		{"layer 3 corrupted at its last node", func(t *testing.T, dir string) {
			labelAll(t, cfg, pc, rid, dir)
			path := filepath.Join(dir, LayerFileName(3))
			b, _ := os.ReadFile(path)
			b[len(b)-1] ^= 0x01
			writeFile(t, path, b)
		}},
		{"layers of another replica", func(t *testing.T, dir string) {
			labelAll(t, cfg, pc, [32]byte{6}, dir)
		}},
		{"layer 2 missing, layer 3 present", func(t *testing.T, dir string) {
			labelAll(t, cfg, pc, rid, dir)
			mustRemove(t, filepath.Join(dir, LayerFileName(2)))
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			tc.prepare(t, dir)
			if err := Label(t.Context(), cfg, pc, rid, dir); err != nil {
				t.Fatal(err)
			}
			for l, got := range readLayers(t, dir, cfg.Layers) {
				if !bytes.Equal(got, want[l]) {
					t.Fatalf("layer %d wrong after resume", l+1)
				}
			}
			if left, _ := filepath.Glob(filepath.Join(dir, "*"+layerTempSuffix)); len(left) != 0 {
				t.Fatalf("temporary files left: %v", left)
			}
		})
	}
}

func labelAll(t *testing.T, cfg Config, pc *ParentsCache, rid [32]byte, dir string) {
	t.Helper()
	if err := Label(t.Context(), cfg, pc, rid, dir); err != nil {
		t.Fatal(err)
	}
}

func writeFile(t *testing.T, path string, b []byte) {
	t.Helper()
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

// cancelAfter is a context whose Err starts reporting Canceled after it has been asked n times; it makes
// cancellation in the middle of a layer deterministic.
type cancelAfter struct {
	context.Context
	left atomic.Int64
}

func (c *cancelAfter) Err() error {
	if c.left.Add(-1) < 0 {
		return context.Canceled
	}
	return nil
}

func TestLabelCancelled(t *testing.T) {
	// Cancellation at various points must return context.Canceled and leave only complete layer files.
	cfg := Config{Nodes: 1 << 12, Layers: 2, PoRepID: [32]byte{78}, Version: V1_1}
	pc := openTestCache(t, cfg)
	for _, calls := range []int64{0, 1, 2, 3, 4, 6, 8} {
		t.Run(fmt.Sprint(calls), func(t *testing.T) {
			ctx := &cancelAfter{Context: context.Background()}
			ctx.left.Store(calls)
			dir := t.TempDir()
			// Chunks of 1000 nodes: each goroutine asks the context every 1000 nodes.
			_, err := labelFiles(ctx, cfg, pc, [32]byte{1}, dir, 1000)
			if !errors.Is(err, context.Canceled) {
				t.Fatalf("err = %v, want context.Canceled", err)
			}
			left, _ := os.ReadDir(dir)
			for i, e := range left {
				st, _ := e.Info()
				if e.Name() != LayerFileName(i+1) || uint64(st.Size()) != cfg.Nodes*NodeSize {
					t.Fatalf("after cancel: %s (%d bytes) is not a complete layer", e.Name(), st.Size())
				}
			}
			if calls == 0 && len(left) != 0 {
				t.Fatalf("cancelled before start but left %d files", len(left))
			}
		})
	}
}

func TestLabelRejectsMismatchedCache(t *testing.T) {
	cfg := Config{Nodes: 64, Layers: 2, PoRepID: [32]byte{1}, Version: V1_1}
	pc := openTestCache(t, cfg)
	other := cfg
	other.PoRepID[0] = 2
	if err := Label(t.Context(), other, pc, [32]byte{}, t.TempDir()); err == nil {
		t.Fatal("accepted a parents cache of another graph")
	}
	if err := Label(t.Context(), cfg, nil, [32]byte{}, t.TempDir()); err == nil {
		t.Fatal("accepted a nil parents cache")
	}
	closed, err := OpenParentsCache(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	closed.Close()
	if err := Label(t.Context(), cfg, closed, [32]byte{}, t.TempDir()); err == nil {
		t.Fatal("accepted a closed parents cache")
	}
}
