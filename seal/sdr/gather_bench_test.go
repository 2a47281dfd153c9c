package sdr

import (
	"fmt"
	"testing"
)

func BenchmarkGatherFill(b *testing.B) {
	// The gatherer's cost per node of layer 2 (tables and copies), for layers in the caches (8MiB sector) and
	// spread over memory (128MiB-sized layers).
	for _, nodes := range []uint64{1 << 18, 1 << 22} {
		b.Run(fmt.Sprint(nodes), func(b *testing.B) {
			cfg := Config{Nodes: nodes, Layers: 2, PoRepID: [32]byte{6}, Version: V1_1}
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
			scratch := testScratch(b, gatherChunkNodes, cfg.Nodes*NodeSize)
			g := &gatherer{pc: pc, cur: cur, prev: prev, degree: TotalParents, nodes: nodes, scratch: scratch}
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
