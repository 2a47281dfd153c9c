package sdr

import (
	"encoding/binary"
	"encoding/hex"
	"testing"
)

// labelKAT is one case of rust-fil-proofs storage-proofs-porep/tests/stacked_vanilla.rs
// test_stacked_porep_generate_labels: replica_id [9; 32], 11 layers, the last label of the last layer given as
// the little-endian u64 limbs of Fr::from_u64s_le. (The test's "sector_size" 1<<11 and 1<<12 are divided by
// NODE_SIZE, so the graphs have 64 and 128 nodes.) Its V1_2_0 cases expect the same values as V1_1_0.
type labelKAT struct {
	name    string
	nodes   uint64
	porepID byte
	version APIVersion
	limbs   [4]uint64
}

var labelKATs = []labelKAT{
	{"V1 porep [0;32] N=64", 64, 0, V1, [4]uint64{0xd3faa96b9a0fba04, 0xea81a283d106485e, 0xe3d51b9afa5ac2b3, 0x0462f4f4f1a68d37}},
	{"V1 porep [0;32] N=128", 128, 0, V1, [4]uint64{0x7e191e52c4a8da86, 0x5ae8a1c9e6fac148, 0xce239f3b88a894b8, 0x234c00d1dc1d53be}},
	{"V1_1 porep [123;32] N=64", 64, 123, V1_1, [4]uint64{0xabb3f38bb70defcf, 0x777a2e4d7769119f, 0x3448959d495490bc, 0x06021188c7a71cb5}},
	{"V1_1 porep [123;32] N=128", 128, 123, V1_1, [4]uint64{0x22ab81cf68c4676d, 0x7a77a82fc7c9c189, 0xc6c03d32c1e42d23, 0x0f777c18cc2c55bd}},
}

func (k labelKAT) config() Config {
	var porep [32]byte
	for i := range porep {
		porep[i] = k.porepID
	}
	return Config{Nodes: k.nodes, Layers: 11, PoRepID: porep, Version: k.version}
}

func (k labelKAT) want() []byte {
	var b []byte
	for _, l := range k.limbs {
		b = binary.LittleEndian.AppendUint64(b, l)
	}
	return b
}

func katReplicaID() [32]byte {
	var r [32]byte
	for i := range r {
		r[i] = 9
	}
	return r
}

func TestLabelLayersInMemoryKAT(t *testing.T) {
	for _, k := range labelKATs {
		t.Run(k.name, func(t *testing.T) {
			cfg := k.config()
			g, err := NewGraph(cfg)
			if err != nil {
				t.Fatal(err)
			}
			layers, err := LabelLayersInMemory(cfg, g, katReplicaID())
			if err != nil {
				t.Fatal(err)
			}
			last := layers[len(layers)-1]
			got := last[(cfg.Nodes-1)*NodeSize:]
			if hex.EncodeToString(got) != hex.EncodeToString(k.want()) {
				t.Fatalf("last label\n got %x\nwant %x", got, k.want())
			}
		})
	}
}

func TestProofsMDLabelKAT(t *testing.T) {
	// PROOFS.md restates the V1_1 N=64 case as bytes.
	if got := hex.EncodeToString(labelKATs[2].want()); got != "cfef0db78bf3b3ab9f1169774d2e7a77bc9054499d954834b51ca7c788110206" {
		t.Fatalf("limb conversion: %s", got)
	}
}
