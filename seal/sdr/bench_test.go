package sdr

import (
	"crypto/sha256"
	"os"
	"testing"
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
	var msg [msgLen]byte
	b.SetBytes(msgLen)
	for i := 0; i < b.N; i++ {
		h := sha256.Sum256(msg[:])
		copy(msg[prefixLen:], h[:])
	}
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

func BenchmarkGatherFill(b *testing.B) {
	// One message gathered by the gatherer in layer 2 of a 128MiB-sized graph (previous-layer reads miss the
	// caches, as in 512MiB and 32GiB sectors).
	cfg := Config{Nodes: 1 << 22, Layers: 2, PoRepID: [32]byte{6}, Version: V1_1}
	pc, err := OpenParentsCache(b.TempDir(), cfg)
	if err != nil {
		b.Fatal(err)
	}
	defer pc.Close()
	cur, freeCur, _ := allocLayer(cfg.Nodes * NodeSize)
	defer freeCur()
	prev, freePrev, _ := allocLayer(cfg.Nodes * NodeSize)
	defer freePrev()
	for i := range prev {
		prev[i], cur[i] = byte(i), byte(i>>8)
	}
	l := &layerLabeler{cfg: cfg, pc: pc, layer: 2, degree: TotalParents, cur: cur, prev: prev,
		ring: make([]ringSlot, ringSize)}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		v := uint64(i)%(cfg.Nodes-1) + 1
		if ahead := v + prefetchDistance; ahead < cfg.Nodes {
			l.prefetch(ahead) // as the gatherer does
		}
		l.fill(&l.ring[v%ringSize], v, v-min(v, 64))
	}
}
