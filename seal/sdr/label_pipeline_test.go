package sdr

import (
	"bytes"
	"fmt"
	"math/rand/v2"
	"testing"
)

func TestGatherWithLaggingProgressThenPatch(t *testing.T) {
	// The gatherer fills a message while only `ready` labels of the current layer are final; the hasher later
	// patches the rest. The patched message must equal the message built from the final labels.
	cfg := Config{Nodes: 1 << 11, Layers: 2, PoRepID: [32]byte{12}, Version: V1_1}
	pc := openTestCache(t, cfg)
	rng := rand.New(rand.NewPCG(1, 2))
	cur := make([]byte, cfg.Nodes*NodeSize)
	prev := make([]byte, cfg.Nodes*NodeSize)
	for i := range cur {
		cur[i], prev[i] = byte(rng.Uint32()), byte(rng.Uint32())
	}
	rid := [32]byte{4}
	for _, layer := range []int{1, 2} {
		t.Run(fmt.Sprint("layer ", layer), func(t *testing.T) {
			l := &layerLabeler{cfg: cfg, pc: pc, replicaID: rid, layer: layer, degree: layerDegree(layer),
				cur: cur, prev: prev}
			var s ringSlot
			writePrefix(s.msg[:prefixLen], &rid, layer, 0)
			patched := 0
			for i := 0; i < 2000; i++ {
				v := 1 + rng.Uint64N(cfg.Nodes-1)
				ready := rng.Uint64N(v + 1) // anything from nothing labelled to all of 0..v-1
				// Garbage from the slot's previous use must be overwritten.
				for j := prefixLen; j < msgLen; j++ {
					s.msg[j] = 0xee
				}
				l.fill(&s, v, ready)
				patched += s.npatch
				l.patch(&s)
				want := referenceMessage(pc, rid, layer, v, cur, prev)
				if !bytes.Equal(s.msg[:], want) {
					t.Fatalf("node %d, ready %d: patched message differs from the reference", v, ready)
				}
				// The hasher's own path, with every parent labelled.
				for j := prefixLen; j < msgLen; j++ {
					s.msg[j] = 0xee
				}
				l.fillReady(&s, v)
				if !bytes.Equal(s.msg[:], want) || s.npatch != 0 {
					t.Fatalf("node %d: fillReady message differs from the reference", v)
				}
			}
			if patched == 0 {
				t.Fatal("no parent was ever patched: the test does not exercise patching")
			}
		})
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
