package sdr

import (
	"crypto/sha256"
	"fmt"
	"os"
	"runtime"
	"testing"
	"time"
	"unsafe"
)

func BenchmarkGraphParents(b *testing.B) {
	cfg := Config{Nodes: 1 << 24, Layers: 2, PoRepID: [32]byte{7}, Version: V1_1}
	g, err := NewGraph(cfg)
	if err != nil {
		b.Fatal(err)
	}
	var p [TotalParents]uint32
	b.Run("base", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			g.BaseParents(uint64(i)%cfg.Nodes+2, (*[BaseDegree]uint32)(p[:BaseDegree]))
		}
	})
	b.Run("expander", func(b *testing.B) {
		for i := 0; i < b.N; i++ {
			g.ExpanderParents(uint64(i)%cfg.Nodes, (*[ExpDegree]uint32)(p[BaseDegree:]))
		}
	})
}

func BenchmarkSHA256Chain1248(b *testing.B) {
	// The SHA-256 floor of one label (ShaNsPerNode) with crypto/sha256 and with the SHA-NI label kernel.
	b.Run("stdlib", func(b *testing.B) {
		var msg [msgLen]byte
		b.SetBytes(msgLen)
		for i := 0; i < b.N; i++ {
			h := sha256.Sum256(msg[:])
			copy(msg[prefixLen:], h[:])
		}
	})
	b.Run("kernel", func(b *testing.B) {
		if !haveLabelKernel {
			b.Skip("no SHA-NI on this CPU")
		}
		var buf [NodeSize]byte
		b.SetBytes(msgLen)
		defer reportThreadCPU(b)()
		shaChainKernel(&buf, b.N)
	})
	b.Run("labeler-chain", func(b *testing.B) {
		// The labeling kernel with every parent slot of every node addressing its predecessor's label, starting
		// from the precomputed first block as in labeling: the 19-compression chain the labeling core runs, with
		// every label in the first-level cache.
		if !haveLabelKernel {
			b.Skip("no SHA-NI on this CPU")
		}
		const nodes = gatherChunkNodes
		cur := make([]byte, (nodes+1)*NodeSize)
		scratch := testScratch(b, nodes, uint64(len(cur)))
		t := &scratch.tables[0]
		t.lo, t.hi = 1, nodes+1
		for i := range t.rows[:(nodes+prefetchDistance)*TotalParents] {
			v := min(uint64(i/TotalParents), nodes-1)
			t.rows[i] = unsafe.Pointer(&cur[v*NodeSize])
		}
		job := newLayerJob([32]byte{1}, 2, cur)
		t.assign(&job)
		writeStarts(&job)
		b.SetBytes(msgLen)
		defer reportThreadCPU(b)()
		for i := 0; i < b.N; i += nodes {
			labelRowsKernel(&job)
		}
		b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64((b.N+nodes-1)/nodes*nodes), "ns/node")
	})
}

func BenchmarkLabel8MiB(b *testing.B) {
	cfg := Config{Nodes: 1 << 18, Layers: 2, PoRepID: [32]byte{6}, Version: V1_1}
	pc, err := OpenParentsCache(b.TempDir(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	dir := b.TempDir()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		os.RemoveAll(dir)
		if err := Label(b.Context(), cfg, pc, [32]byte{byte(i)}, dir); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(cfg.Nodes*uint64(cfg.Layers)), "ns/node")
}

// benchLayers sets up layer 2 of a V1_1 graph of nodes nodes for the labeling benchmarks: its parents cache,
// two filled layer buffers and the gatherer's tables, all released when the benchmark ends.
func benchLayers(b *testing.B, nodes uint64) (pc *ParentsCache, cur, prev []byte, scratch *labelScratch) {
	b.Helper()
	cfg := Config{Nodes: nodes, Layers: 2, PoRepID: [32]byte{6}, Version: V1_1}
	pc, err := OpenParentsCache(b.TempDir(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() { pc.Close() })
	cur, freeCur, _ := allocLayer(cfg.Nodes * NodeSize)
	b.Cleanup(freeCur)
	prev, freePrev, _ := allocLayer(cfg.Nodes * NodeSize)
	b.Cleanup(freePrev)
	for i := range prev {
		prev[i], cur[i] = byte(i), byte(i>>8)
	}
	return pc, cur, prev, testScratch(b, gatherChunkNodes, cfg.Nodes*NodeSize)
}

func BenchmarkLabelLayer(b *testing.B) {
	// Layer 2 of an 8MiB graph (layers in the caches) and of a 128MiB-sized one (parents' labels spread over two
	// 128 MiB layers, as in 512MiB and 32GiB sectors): wall and labeling-thread CPU ns per label, the gatherer
	// running beside the labeler, no layer files. Compare with BenchmarkSHA256Chain1248/kernel.
	for _, nodes := range []uint64{1 << 18, 1 << 22} {
		b.Run(fmt.Sprint(nodes), func(b *testing.B) {
			pc, cur, prev, scratch := benchLayers(b, nodes)
			var cpu time.Duration
			b.ResetTimer()
			for i := 0; i < b.N; i++ {
				st, err := labelLayer(b.Context(), pc, [32]byte{1}, 2, cur, prev, nil, scratch)
				if err != nil {
					b.Fatal(err)
				}
				cpu += st.hasherCPU
			}
			perNode := float64(b.N) * float64(nodes)
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/perNode, "ns/node")
			b.ReportMetric(float64(cpu.Nanoseconds())/perNode, "cpu-ns/node")
		})
	}
}

func BenchmarkGatherFill(b *testing.B) {
	// The gatherer's cost per node of layer 2 (tables and copies), for layers in the caches (8MiB sector) and
	// spread over memory (128MiB-sized layers).
	for _, nodes := range []uint64{1 << 18, 1 << 22} {
		b.Run(fmt.Sprint(nodes), func(b *testing.B) {
			pc, cur, prev, scratch := benchLayers(b, nodes)
			g := &gatherer{pc: pc, cur: cur, prev: prev, job: newLayerJob([32]byte{1}, 2, cur),
				nodes: nodes, scratch: scratch}
			b.ResetTimer()
			lo := uint64(1)
			for i := 0; i < b.N; i += gatherChunkNodes {
				if lo+gatherChunkNodes > nodes {
					lo = 2 * gatherChunkNodes
				}
				g.fill(&scratch.tables[0], [2]uint64{lo, lo + gatherChunkNodes}, lo-gatherChunkNodes)
				lo += gatherChunkNodes
			}
		})
	}
}

// reportThreadCPU locks the benchmark to its thread and returns a function that reports the thread's CPU time
// per operation as "cpu-ns/op": on a machine shared with other work it moves less than wall time.
func reportThreadCPU(b *testing.B) func() {
	runtime.LockOSThread()
	start := threadCPU()
	return func() {
		b.ReportMetric(float64((threadCPU()-start).Nanoseconds())/float64(b.N), "cpu-ns/op")
		runtime.UnlockOSThread()
	}
}

func BenchmarkWriteStarts(b *testing.B) {
	// The gatherer's cost per node for the labels' first blocks (writeStarts), a chunk at a time.
	starts := make([]byte, gatherChunkNodes*startSize)
	job := newLayerJob([32]byte{1}, 2, nil)
	job.starts = unsafe.SliceData(starts)
	b.ResetTimer()
	for i := 0; i < b.N; i += gatherChunkNodes {
		job.lo, job.hi = uint64(i)+1, uint64(i)+1+gatherChunkNodes
		writeStarts(&job)
	}
}
