package sdr

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
)

// The label message (storage-proofs-porep stacked/vanilla/create_label/single.rs and graph.rs
// copy_parents_data*): a 64-byte prefix replica_id ‖ BE32(layer) ‖ BE64(node) ‖ 20 zero bytes, then
// labelRepeats parent labels where position j holds parent slot j mod degree (degree 6 in layer 1, 14 above).
// SHA-256 over the 1248 bytes is 20 compressions; node 0 hashes the prefix alone.
const (
	prefixLen    = 64
	labelRepeats = 37
	msgLen       = prefixLen + labelRepeats*NodeSize // 1248
)

// NodeLabel computes the label of node in layer (1-based) from its parents' labels, in Parents order: for
// layer 1 the BaseDegree base parents' labels (all in layer 1), above it TotalParents labels, the base parents
// from the same layer and the expander parents from the previous layer. For node 0 parentLabels is ignored.
// The result has the top two bits of byte 31 cleared, as stored in layer files. It panics if the number of
// parent labels does not match the layer, a programming error.
func NodeLabel(replicaID [32]byte, layer int, node uint64, parentLabels [][32]byte) [32]byte {
	var msg [msgLen]byte
	writePrefix(msg[:prefixLen], &replicaID, layer, node)
	if node == 0 {
		return truncatedSum(msg[:prefixLen])
	}
	degree := layerDegree(layer)
	if len(parentLabels) != degree {
		panic(fmt.Sprintf("sdr.NodeLabel: layer %d needs %d parent labels, got %d", layer, degree, len(parentLabels)))
	}
	for j := 0; j < labelRepeats; j++ {
		copy(msg[prefixLen+j*NodeSize:], parentLabels[j%degree][:])
	}
	return truncatedSum(msg[:])
}

// layerDegree is the number of distinct parents hashed in a layer.
func layerDegree(layer int) int {
	if layer == 1 {
		return BaseDegree
	}
	return TotalParents
}

// writePrefix fills the 64-byte message prefix (the 20 trailing bytes stay as they are: zero).
func writePrefix(p []byte, replicaID *[32]byte, layer int, node uint64) {
	copy(p[0:32], replicaID[:])
	binary.BigEndian.PutUint32(p[32:36], uint32(layer))
	binary.BigEndian.PutUint64(p[36:44], node)
}

// truncatedSum is SHA-256 with the top two bits of the last byte cleared (a valid Fr element).
func truncatedSum(b []byte) [32]byte {
	h := sha256.Sum256(b)
	h[31] &= 0x3f
	return h
}

// LabelLayersInMemory labels all cfg.Layers layers in memory and returns them layer-major (index 0 is layer 1),
// NodeSize bytes per node. It is the straightforward reference path for tests, known-answer checks and small
// sizes: memory is Layers × Nodes × 32 bytes and parents are computed from g, not read from a cache file.
func LabelLayersInMemory(cfg Config, g *Graph, replicaID [32]byte) ([][]byte, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if g == nil || g.cfg != cfg {
		return nil, fmt.Errorf("labeling in memory: graph was built for %+v, not for %+v", graphCfg(g), cfg)
	}
	n := cfg.Nodes
	layers := make([][]byte, cfg.Layers)
	var msg [msgLen]byte
	var parents [TotalParents]uint32
	for l := 1; l <= cfg.Layers; l++ {
		cur := make([]byte, n*NodeSize)
		var prev []byte
		if l > 1 {
			prev = layers[l-2]
		}
		degree := layerDegree(l)
		for v := uint64(0); v < n; v++ {
			writePrefix(msg[:prefixLen], &replicaID, l, v)
			var label [32]byte
			if v == 0 {
				label = truncatedSum(msg[:prefixLen])
			} else {
				g.Parents(v, &parents)
				for j := 0; j < labelRepeats; j++ {
					s := j % degree
					src := cur
					if s >= BaseDegree {
						src = prev
					}
					p := uint64(parents[s]) * NodeSize
					copy(msg[prefixLen+j*NodeSize:], src[p:p+NodeSize])
				}
				label = truncatedSum(msg[:])
			}
			copy(cur[v*NodeSize:], label[:])
		}
		layers[l-1] = cur
	}
	return layers, nil
}

// graphCfg returns g's config, or the zero Config for a nil graph (for error messages).
func graphCfg(g *Graph) Config {
	if g == nil {
		return Config{}
	}
	return g.cfg
}
