package sdr

import (
	"math"
	"math/bits"
	"testing"
)

func TestBaseParentsProperties(t *testing.T) {
	// storage-proofs-core drgraph.rs graph_bucket_aux: nodes 0 and 1 have all-zero parents, no node references
	// itself, and the immediate predecessor sits in slot 5 (V1) or slot 0 (V1_1).
	tests := []struct {
		name    string
		version APIVersion
		porep   byte
		predIdx int
	}{
		{"V1", V1, 0, BaseDegree - 1},
		{"V1_1", V1_1, 5, 0},
	}
	for _, tc := range tests {
		for _, n := range []uint64{4, 16, 256, 2048} {
			t.Run(tc.name, func(t *testing.T) {
				g, err := NewGraph(Config{Nodes: n, Layers: 2, PoRepID: [32]byte{tc.porep}, Version: tc.version})
				if err != nil {
					t.Fatal(err)
				}
				var p [BaseDegree]uint32
				for v := uint64(0); v < n; v++ {
					g.BaseParents(v, &p)
					if v < 2 {
						if p != [BaseDegree]uint32{} {
							t.Fatalf("node %d: parents %v, want zeros", v, p)
						}
						continue
					}
					if uint64(p[tc.predIdx]) != v-1 {
						t.Fatalf("node %d: slot %d = %d, want predecessor", v, tc.predIdx, p[tc.predIdx])
					}
					for _, q := range p {
						if uint64(q) >= v {
							t.Fatalf("node %d: parent %d not before it", v, q)
						}
					}
				}
			})
		}
	}
}

func TestBucketCountMatchesFloat(t *testing.T) {
	// The reference computes ceil(log2(metaNode as f64)); the integer form must agree wherever it is used.
	for _, v := range []uint64{2, 3, 4, 5, 6, 7, 100, 1 << 20, 1<<20 + 1, 1<<30 - 1, 1 << 30, 1<<31 - 1} {
		m := v * (BaseDegree - 1)
		for _, x := range []uint64{m - 1, m, m + 1} {
			if x < 2 {
				continue
			}
			want := uint64(math.Ceil(math.Log2(float64(x))))
			if got := uint64(bits.Len64(x - 1)); got != want {
				t.Fatalf("x=%d: %d vs %d", x, got, want)
			}
		}
	}
}

func TestExpanderParentsInRange(t *testing.T) {
	for _, v := range []APIVersion{V1, V1_1} {
		cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{byte(v)}, Version: v}
		g, err := NewGraph(cfg)
		if err != nil {
			t.Fatal(err)
		}
		// Each expander slot index 8v+i is used exactly once, so every node is an expander parent exactly
		// ExpDegree times over the whole graph.
		count := make([]int, cfg.Nodes)
		var p [ExpDegree]uint32
		for n := uint64(0); n < cfg.Nodes; n++ {
			g.ExpanderParents(n, &p)
			for _, q := range p {
				count[q]++
			}
		}
		for n, c := range count {
			if c != ExpDegree {
				t.Fatalf("%v: node %d is an expander parent %d times", v, n, c)
			}
		}
	}
}

func TestNodeLabelMatchesLayers(t *testing.T) {
	cfg := labelKATs[2].config()
	cfg.Layers = 3
	g, err := NewGraph(cfg)
	if err != nil {
		t.Fatal(err)
	}
	rid := katReplicaID()
	layers, err := LabelLayersInMemory(cfg, g, rid)
	if err != nil {
		t.Fatal(err)
	}
	var parents [TotalParents]uint32
	for l := 1; l <= cfg.Layers; l++ {
		t.Run("", func(t *testing.T) {
			for v := uint64(0); v < cfg.Nodes; v++ {
				g.Parents(v, &parents)
				pl := make([][32]byte, layerDegree(l))
				for s := range pl {
					src := layers[l-1]
					if s >= BaseDegree {
						src = layers[l-2]
					}
					copy(pl[s][:], src[uint64(parents[s])*NodeSize:])
				}
				got := NodeLabel(rid, l, v, pl)
				if string(got[:]) != string(layers[l-1][v*NodeSize:(v+1)*NodeSize]) {
					t.Fatalf("layer %d node %d: NodeLabel differs from LabelLayersInMemory", l, v)
				}
			}
		})
	}
}
