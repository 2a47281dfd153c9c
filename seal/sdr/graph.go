package sdr

import (
	"encoding/binary"
	"math/bits"
)

// drsampleDST is the domain separation tag of the DRG seed (storage-proofs-core crypto/mod.rs DRSAMPLE_DST).
const drsampleDST = "Filecoin_DRSample"

// Graph is the stacked SDR graph of a Config: for every node, BaseDegree DRG parents in the same layer
// (bucket sampling, storage-proofs-core drgraph.rs BucketGraph) and ExpDegree expander parents in the previous
// layer (Feistel permutation, storage-proofs-porep stacked/vanilla/graph.rs). A Graph is immutable and safe for
// concurrent use.
type Graph struct {
	cfg     Config
	drgSeed [28]byte
	feistel *feistel
}

// NewGraph validates cfg and derives the DRG seed and the Feistel keys and tables from its porep id.
func NewGraph(cfg Config) (*Graph, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	g := &Graph{cfg: cfg}
	seed := domainSeed(drsampleDST, cfg.PoRepID)
	copy(g.drgSeed[:], seed[:28])
	g.feistel = newFeistel(cfg.Nodes*ExpDegree, feistelKeys(cfg.PoRepID))
	return g, nil
}

// Config returns the configuration the graph was built from.
func (g *Graph) Config() Config { return g.cfg }

// Parents writes the parents of node in the reference's order: the BaseDegree DRG parents, then the ExpDegree
// expander parents. node must be below Nodes.
func (g *Graph) Parents(node uint64, out *[TotalParents]uint32) {
	g.BaseParents(node, (*[BaseDegree]uint32)(out[:BaseDegree]))
	g.ExpanderParents(node, (*[ExpDegree]uint32)(out[BaseDegree:]))
}

// BaseParents writes the DRG parents of node. Nodes 0 and 1 have all-zero parents. For node v >= 2 a ChaCha8
// RNG seeded with drg_seed ‖ LE32(v) draws five parents by bucket sampling over the metagraph of 5 nodes per
// node; the immediate predecessor v−1 fills slot 0 (V1_1) or slot 5 (V1).
func (g *Graph) BaseParents(node uint64, out *[BaseDegree]uint32) {
	if node < 2 {
		*out = [BaseDegree]uint32{}
		return
	}
	var seed [32]byte
	copy(seed[:28], g.drgSeed[:])
	binary.LittleEndian.PutUint32(seed[28:], uint32(node))
	draws := drgDraws(&seed)

	const mPrime = BaseDegree - 1
	metaNode := node * mPrime
	// ceil(log2(metaNode)) as the reference computes it in f64; exact in integers for metaNode >= 2.
	nBuckets := uint64(bits.Len64(metaNode - 1))

	predecessor, first := mPrime, 0
	if g.cfg.Version != V1 {
		predecessor, first = 0, 1
	}
	for i := 0; i < mPrime; i++ {
		bucket := draws[2*i]%nBuckets + 1
		largest := min(metaNode, uint64(1)<<bucket)
		smallest := max(2, largest>>1)
		distance := smallest + draws[2*i+1]%(largest-smallest+1)
		parent := uint32((metaNode - distance) / mPrime)
		if uint64(parent) == node {
			parent = uint32(node - 1)
		}
		out[first+i] = parent
	}
	out[predecessor] = uint32(node - 1)
}

// ExpanderParents writes the expander parents of node: parent i is permute(8·node + i) / 8, where V1 narrows the
// permuted index to u32 before dividing (as the reference does) and V1_1 after.
func (g *Graph) ExpanderParents(node uint64, out *[ExpDegree]uint32) {
	var t [ExpDegree]uint64
	for i := range t {
		t[i] = node*ExpDegree + uint64(i)
	}
	g.feistel.permute8(&t)
	for i := range out {
		if g.cfg.Version == V1 {
			out[i] = uint32(t[i]) / ExpDegree
		} else {
			out[i] = uint32(t[i] / ExpDegree)
		}
	}
}
