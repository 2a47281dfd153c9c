package sdr

import (
	"bytes"
	"crypto/sha256"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestLabelRangeMatchesReference(t *testing.T) {
	// Both labeling paths (the SHA-NI kernels where the CPU has them, and the portable one) must produce, for
	// every node, the label NodeLabel computes from the parents' labels: random layers, random nodes.
	cfg := Config{Nodes: 1 << 11, Layers: 2, PoRepID: [32]byte{12}, Version: V1_1}
	pc := openTestCache(t, cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	rid := [32]byte{4}
	paths := []struct {
		name string
		run  func(replicaID *[32]byte, layer int, pc *ParentsCache, cur, prev []byte, lo, hi uint64)
		ok   bool
	}{
		{"kernel", labelRangeKernel, haveLabelKernel},
		{"generic", labelRangeGeneric, true},
	}
	for _, path := range paths {
		for _, layer := range []int{1, 2} {
			t.Run(fmt.Sprintf("%s layer %d", path.name, layer), func(t *testing.T) {
				if !path.ok {
					t.Skip("no SHA-NI on this CPU")
				}
				cur := make([]byte, cfg.Nodes*NodeSize)
				prev := make([]byte, cfg.Nodes*NodeSize)
				for i := range cur {
					cur[i], prev[i] = byte(rng.Uint32()), byte(rng.Uint32())
				}
				for i := 0; i < 300; i++ {
					v := 1 + rng.Uint64N(cfg.Nodes-1)
					want := sha256.Sum256(referenceMessage(pc, rid, layer, v, cur, prev))
					want[31] &= 0x3f
					path.run(&rid, layer, pc, cur, prev, v, v+1)
					if got := cur[v*NodeSize : (v+1)*NodeSize]; !bytes.Equal(got, want[:]) {
						t.Fatalf("node %d: label %x, want %x", v, got, want)
					}
				}
			})
		}
	}
}

func TestLabelWholeLayerKernelEqualsGeneric(t *testing.T) {
	// Whole layers, so that the kernels' loop, its prefetching up to the last node and its chaining through
	// freshly written labels are covered: the kernel path and the portable path give identical layers.
	if !haveLabelKernel {
		t.Skip("no SHA-NI on this CPU")
	}
	cfg := Config{Nodes: 1 << 10, Layers: 2, PoRepID: [32]byte{14}, Version: V1}
	pc := openTestCache(t, cfg)
	rng := rand.New(rand.NewPCG(3, 4))
	prev := make([]byte, cfg.Nodes*NodeSize)
	for i := range prev {
		prev[i] = byte(rng.Uint32())
	}
	rid := [32]byte{9, 9}
	for _, layer := range []int{1, 2, 5} {
		a := make([]byte, cfg.Nodes*NodeSize)
		b := make([]byte, cfg.Nodes*NodeSize)
		labelRangeKernel(&rid, layer, pc, a, prev, 1, cfg.Nodes)
		labelRangeGeneric(&rid, layer, pc, b, prev, 1, cfg.Nodes)
		if !bytes.Equal(a, b) {
			t.Fatalf("layer %d: kernel and generic labels differ", layer)
		}
	}
}

// referenceMessage lays out node v's label message directly from the final labels.
func referenceMessage(pc *ParentsCache, rid [32]byte, layer int, v uint64, cur, prev []byte) []byte {
	msg := make([]byte, msgLen)
	writePrefix(msg[:prefixLen], &rid, layer, v)
	parents := pc.Parents(v)
	degree := layerDegree(layer)
	for j := 0; j < labelRepeats; j++ {
		slot := j % degree
		src := cur
		if slot >= BaseDegree {
			src = prev
		}
		p := uint64(parents[slot]) * NodeSize
		copy(msg[prefixLen+j*NodeSize:], src[p:p+NodeSize])
	}
	return msg
}

func TestLabelLayerAllocationsDoNotGrowWithNodes(t *testing.T) {
	// The hot loops allocate nothing: a layer of 16× more nodes makes the same number of allocations.
	allocs := func(nodes uint64) float64 {
		cfg := Config{Nodes: nodes, Layers: 2, PoRepID: [32]byte{13}, Version: V1_1}
		pc := openTestCache(t, cfg)
		cur := make([]byte, nodes*NodeSize)
		prev := make([]byte, nodes*NodeSize)
		return testing.AllocsPerRun(3, func() {
			if _, err := labelLayer(t.Context(), cfg, pc, [32]byte{1}, 2, cur, prev, nil); err != nil {
				t.Fatal(err)
			}
		})
	}
	small, large := allocs(1<<10), allocs(1<<14)
	if large > small {
		t.Fatalf("allocations grow with the layer: %v for 2^10 nodes, %v for 2^14", small, large)
	}
}
