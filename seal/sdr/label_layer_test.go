package sdr

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"math"
	"math/rand/v2"
	"runtime"
	"sync/atomic"
	"testing"
	"time"
)

// labelPaths are the two ways labelRows hashes: the SHA-NI kernels where the CPU has them, and the portable one.
var labelPaths = []struct {
	name string
	run  func(job *labelJob)
	ok   bool
}{
	{"kernel", labelRowsKernel, haveLabelKernel},
	{"generic", labelRowsGeneric, true},
}

func TestLabelRowsMatchesReference(t *testing.T) {
	// Both hashing paths, fed a gatherer's table for a chunk of nodes, must produce the labels NodeLabel's message
	// layout gives, node after node (each label feeding the next): with no parent copied (frontier 1) and with
	// every base parent below the chunk copied, for layer 1 (6 parents) and layer 2 (14).
	cfg := Config{Nodes: 1 << 11, Layers: 2, PoRepID: [32]byte{12}, Version: V1_1}
	pc := openTestCache(t, cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	rid := [32]byte{4}
	for _, path := range labelPaths {
		for _, layer := range []int{1, 2} {
			for _, copyBase := range []bool{false, true} {
				t.Run(fmt.Sprintf("%s/layer %d/copy base %v", path.name, layer, copyBase), func(t *testing.T) {
					if !path.ok {
						t.Skip("no SHA-NI on this CPU")
					}
					cur := make([]byte, cfg.Nodes*NodeSize)
					prev := make([]byte, cfg.Nodes*NodeSize)
					for i := range cur {
						cur[i], prev[i] = byte(rng.Uint32()), byte(rng.Uint32())
					}
					const chunk = 100
					lo := 1 + rng.Uint64N(cfg.Nodes-chunk-1)
					frontier := uint64(1)
					if copyBase {
						frontier = lo
					}
					want := bytes.Clone(cur)
					referenceLabels(pc, rid, layer, want, prev, lo, lo+chunk)
					scratch := testScratch(t, chunk, cfg.Nodes*NodeSize)
					job := newLayerJob(rid, layer, cur)
					g := &gatherer{pc: pc, cur: cur, prev: prev, job: job, nodes: cfg.Nodes,
						scratch: scratch}
					tab := &scratch.tables[0]
					g.fill(tab, [2]uint64{lo, lo + chunk}, frontier)
					// Overwrite the nodes being labelled: nothing may be read from them before they are computed.
					for i := lo * NodeSize; i < (lo+chunk)*NodeSize; i++ {
						cur[i] = 0xee
					}
					tab.assign(&job)
					path.run(&job)
					if !bytes.Equal(cur, want) {
						t.Fatalf("labels of nodes [%d, %d) differ from the reference", lo, lo+chunk)
					}
				})
			}
		}
	}
}

func TestLabelLayerChunking(t *testing.T) {
	// Whole layers through labelLayer (gatherer, tables, prefetch rows up to the last node), with chunks from one
	// node to more than the layer, equal the reference labels.
	cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{14}, Version: V1}
	pc := openTestCache(t, cfg)
	prev := randomLayer(cfg.Nodes, 3)
	rid := [32]byte{9, 9}
	for _, layer := range []int{1, 2, 5} {
		want := make([]byte, cfg.Nodes*NodeSize)
		referenceLabels(pc, rid, layer, want, prev, 0, cfg.Nodes)
		for _, chunk := range []uint64{1, 7, 64, 1000, 1 << 14} {
			// The scratch shaped for this layer (four tables) and for a large one (eight, huge pages).
			for _, shape := range []uint64{cfg.Nodes * NodeSize, hugeTablesLayerBytes} {
				t.Run(fmt.Sprintf("layer %d/chunk %d/scratch for %d-byte layers", layer, chunk, shape), func(t *testing.T) {
					cur := make([]byte, cfg.Nodes*NodeSize)
					if _, err := labelLayer(t.Context(), pc, rid, layer, cur, prev, nil, testScratch(t, chunk, shape)); err != nil {
						t.Fatal(err)
					}
					if !bytes.Equal(cur, want) {
						t.Fatal("layer differs from the reference labels")
					}
				})
			}
		}
	}
}

func TestLabelLayerWithoutGatherer(t *testing.T) {
	// The labeler must not wait for a gatherer that does not fill its tables: it fills its spare table for every
	// chunk after the first itself, with the labels addressed in place, and the layer is still right. Two ways a
	// gatherer fails it: stopping for good right after claiming its first chunk (as a starved thread would, in
	// the middle of a table; the labeler gives up waiting at once here), and not having started on the layer
	// (the labeler must not wait at all: it would wait an hour here).
	cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{15}, Version: V1_1}
	pc := openTestCache(t, cfg)
	prev := randomLayer(cfg.Nodes, 5)
	rid := [32]byte{3}
	const chunk = 64
	for _, tc := range []struct {
		name  string
		setup func(s *labelScratch)
		// tablesFree: the stopped gatherer is known to hold no table (the stalled one may or may not have
		// claimed one before the labeler took every chunk; TestGathererStopWhileFilling covers that case).
		tablesFree bool
	}{
		{"stalled after its first claim", func(s *labelScratch) {
			s.selfFillAfter = 0
			s.stall = new(atomic.Bool)
			s.stall.Store(true)
		}, false},
		{"not started", func(s *labelScratch) {
			s.selfFillAfter = time.Hour
			s.holdStart = new(atomic.Bool)
			s.holdStart.Store(true)
		}, true},
	} {
		for _, layer := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s/layer %d", tc.name, layer), func(t *testing.T) {
				want := make([]byte, cfg.Nodes*NodeSize)
				referenceLabels(pc, rid, layer, want, prev, 0, cfg.Nodes)
				scratch := testScratch(t, chunk, cfg.Nodes*NodeSize)
				tc.setup(scratch)
				cur := make([]byte, cfg.Nodes*NodeSize)
				st, err := labelLayer(t.Context(), pc, rid, layer, cur, prev, nil, scratch)
				if err != nil {
					t.Fatal(err)
				}
				if !bytes.Equal(cur, want) {
					t.Fatal("layer differs from the reference labels")
				}
				if chunks := cfg.Nodes / chunk; st.selfFilled != chunks-1 {
					t.Fatalf("labeler filled %d tables itself, want all %d after the first", st.selfFilled, chunks-1)
				}
				if tc.tablesFree && st.tablesInUse {
					t.Fatal("a gatherer that never started holds a table")
				}
			})
		}
	}
}

func TestLabelLayerCancelled(t *testing.T) {
	// A cancelled context stops labeling between chunks and returns its error; the gatherer is stopped too.
	cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{14}, Version: V1}
	pc := openTestCache(t, cfg)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	cur := make([]byte, cfg.Nodes*NodeSize)
	prev := make([]byte, cfg.Nodes*NodeSize)
	if _, err := labelLayer(ctx, pc, [32]byte{1}, 2, cur, prev, nil, testScratch(t, 16, cfg.Nodes*NodeSize)); !errors.Is(err, context.Canceled) {
		t.Fatalf("labelLayer after cancel: %v, want context.Canceled", err)
	}
}

// randomLayer returns a layer of nodes pseudo-random labels (not valid field elements; labeling does not care).
func randomLayer(nodes, seed uint64) []byte {
	rng := rand.New(rand.NewPCG(seed, seed+1))
	layer := make([]byte, nodes*NodeSize)
	for i := range layer {
		layer[i] = byte(rng.Uint32())
	}
	return layer
}

// referenceLabels computes the labels of nodes [lo, hi) of layer into cur in order, each with NodeLabel from
// its parents' labels in cur and prev at that moment.
func referenceLabels(pc *ParentsCache, rid [32]byte, layer int, cur, prev []byte, lo, hi uint64) {
	parentLabels := make([][32]byte, layerDegree(layer))
	for v := lo; v < hi; v++ {
		parents := pc.Parents(v)
		for s := range parentLabels {
			src := cur
			if s >= BaseDegree {
				src = prev
			}
			parentLabels[s] = [32]byte(src[uint64(parents[s])*NodeSize:])
		}
		label := NodeLabel(rid, layer, v, parentLabels)
		copy(cur[v*NodeSize:], label[:])
	}
}

func TestLabelLayerAllocationsDoNotGrowWithNodes(t *testing.T) {
	// The hot loops allocate nothing: a layer of 16× more nodes (60 more chunks of 256) makes about the same
	// number of allocations. Some are per layer and vary from run to run — the gatherer's and the writer's
	// threads end with them (they lock their threads and lower their priority), and a goroutine's first sleep
	// allocates its timer — so a few more are tolerated; one per chunk would be 60 more. A busy machine adds
	// some (more waits and sleeps), never removes any, so each size counts its fewest over five runs.
	allocs := func(nodes uint64) float64 {
		cfg := Config{Nodes: nodes, Layers: 2, PoRepID: [32]byte{13}, Version: V1_1}
		pc := openTestCache(t, cfg)
		cur := make([]byte, nodes*NodeSize)
		prev := make([]byte, nodes*NodeSize)
		fewest := math.Inf(1)
		for range 5 {
			fewest = min(fewest, testing.AllocsPerRun(1, func() {
				// New tables each run, as labelFiles makes when a starved gatherer is still filling one at the
				// end of a layer (a busy machine): the same number of allocations for both sizes.
				scratch := testScratch(t, 256, cfg.Nodes*NodeSize)
				if _, err := labelLayer(t.Context(), pc, [32]byte{1}, 2, cur, prev, nil, scratch); err != nil {
					t.Fatal(err)
				}
			}))
		}
		return fewest
	}
	small, large := allocs(1<<10), allocs(1<<14)
	if large > small+8 {
		t.Fatalf("allocations grow with the layer: %v for 2^10 nodes, %v for 2^14", small, large)
	}
}

// testScratch allocates the gatherer's tables for chunks of chunk nodes, shaped for a layer of layerBytes,
// released when the test ends.
func testScratch(tb testing.TB, chunk, layerBytes uint64) *labelScratch {
	tb.Helper()
	s, err := newLabelScratch(chunk, layerBytes, nil)
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(s.Close)
	return s
}

func TestChunkRamp(t *testing.T) {
	// Chunks start at first nodes and double up to full; they are contiguous from node 0, and chunks(n) is the
	// number of chunks whose start is below n.
	for _, tc := range []struct {
		first, full uint64
		starts      []uint64 // of the first chunks
	}{
		{256, 8192, []uint64{0, 256, 768, 1792, 3840, 7936, 16128, 24320, 32512}},
		{256, 1000, []uint64{0, 256, 768, 1768, 2768}},
		{256, 256, []uint64{0, 256, 512, 768}},
		{256, 64, []uint64{0, 64, 128, 192}},
		{256, 1, []uint64{0, 1, 2, 3}},
	} {
		r := newChunkRamp(tc.first, tc.full)
		for c, want := range tc.starts {
			if got := r.start(uint64(c)); got != want {
				t.Errorf("ramp(%d, %d): chunk %d starts at %d, want %d", tc.first, tc.full, c, got, want)
			}
		}
		for _, nodes := range []uint64{1, 2, 255, 256, 257, 1 << 10, 1 << 14, 1<<14 + 1, 1 << 20} {
			n := r.chunks(nodes)
			if r.start(n-1) >= nodes || r.start(n) < nodes {
				t.Errorf("ramp(%d, %d): %d chunks for %d nodes: chunk %d starts at %d, chunk %d at %d",
					tc.first, tc.full, n, nodes, n-1, r.start(n-1), n, r.start(n))
			}
		}
	}
}

func TestGathererPatience(t *testing.T) {
	// Each table the labeler has to fill itself halves how long it waits for the next late one, down to a
	// sixteenth; a table that is ready restores the full wait.
	cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{15}, Version: V1_1}
	pc := openTestCache(t, cfg)
	scratch := testScratch(t, 64, cfg.Nodes*NodeSize)
	const full = 4 * time.Millisecond
	scratch.selfFillAfter = full
	scratch.stall = new(atomic.Bool)
	scratch.stall.Store(true) // the gatherer claims chunk 1 and never fills anything
	cur, prev := make([]byte, cfg.Nodes*NodeSize), randomLayer(cfg.Nodes, 7)
	labelled := new(atomic.Uint64)
	labelled.Store(1)
	g := startGatherer(pc, newLayerJob([32]byte{}, 2, cur), cur, prev, scratch, labelled)
	defer g.stop()
	for g.claimed.Load() < 2 { // the gatherer has started and claimed chunk 1
		runtime.Gosched()
	}
	want := full
	for c := uint64(1); c <= 6; c++ {
		if tab := g.table(t.Context(), c); tab != &scratch.spare {
			t.Fatalf("chunk %d: got a gatherer's table, want the labeler's spare", c)
		}
		want = max(want/2, full/minPatienceDivisor)
		if g.patience != want {
			t.Fatalf("after self-filling chunk %d: patience %v, want %v", c, g.patience, want)
		}
	}
	g.filled.Store(8) // pretend chunk 7 arrived in time
	if tab := g.table(t.Context(), 7); tab != scratch.table(7) || g.patience != full {
		t.Fatalf("a table in time: got table %p (want %p), patience %v (want %v)", tab, scratch.table(7), g.patience, full)
	}
}

func TestGathererStopWhileFilling(t *testing.T) {
	// A gatherer stopped in the middle of a table (here held there by the stall hook, as a starved thread would
	// be) makes stop report the tables in use at once, without waiting for it; the tables, the layer buffers
	// and the parents cache stay mapped until it has left, even when their owners have let go.
	cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{15}, Version: V1_1}
	pc, err := OpenParentsCache(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	scratch, err := newLabelScratch(64, cfg.Nodes*NodeSize, nil)
	if err != nil {
		t.Fatal(err)
	}
	stall := new(atomic.Bool)
	stall.Store(true)
	scratch.stall = stall
	freed := new(atomic.Bool)
	scratch.arena.add(func() { freed.Store(true) })
	cur, prev := make([]byte, cfg.Nodes*NodeSize), randomLayer(cfg.Nodes, 8)
	labelled := new(atomic.Uint64)
	labelled.Store(1)
	g := startGatherer(pc, newLayerJob([32]byte{}, 2, cur), cur, prev, scratch, labelled)
	for g.claimed.Load() < 2 { // it claimed chunk 1 and holds it
		runtime.Gosched()
	}
	if g.stop() {
		t.Fatal("stop reported the tables free while the gatherer holds one")
	}
	scratch.Close()
	if err := pc.Close(); err != nil {
		t.Fatal(err)
	}
	if freed.Load() || !pc.closed() || pc.data == nil {
		t.Fatalf("released while the gatherer runs: tables freed %v, parents cache mapped %v", freed.Load(), pc.data != nil)
	}
	stall.Store(false) // the gatherer leaves (it sees quit) and lets go of everything: both get unmapped
	unmapped := func() bool {
		pc.closeMu.Lock()
		defer pc.closeMu.Unlock()
		return pc.data == nil
	}
	for !freed.Load() || !unmapped() {
		runtime.Gosched()
	}
}
