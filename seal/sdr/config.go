// Package sdr implements Filecoin's Stacked DRG labeling (PoRep PreCommit1), bit-identical to rust-fil-proofs:
// the bucket-sampled DRG and Feistel expander parent graph, the memory-mapped parents cache file, and the
// layer labeling that writes sc-02-data-layer-<n>.dat files into a sector's cache directory.
//
// References: rust-fil-proofs storage-proofs-core/src/drgraph.rs (DRG parents), storage-proofs-core/src/crypto/
// feistel.rs (expander permutation), storage-proofs-porep/src/stacked/vanilla/graph.rs (stacked graph, message
// layout), create_label/single.rs (labels), cache.rs (parents cache file), rust-filecoin-proofs-api registry.rs
// (porep ids, api versions) and filecoin-proofs constants.rs (layers per size).
package sdr

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"

	"github.com/filecoin-project/go-state-types/abi"
)

// NodeSize is the size in bytes of one label (a little-endian BLS12-381 field element).
const NodeSize = 32

// BaseDegree is the number of DRG parents of a node (one of them is its immediate predecessor).
const BaseDegree = 6

// ExpDegree is the number of expander parents of a node (taken from the previous layer).
const ExpDegree = 8

// TotalParents is BaseDegree + ExpDegree: the parents cache stores this many u32 per node.
const TotalParents = BaseDegree + ExpDegree

// APIVersion selects the graph variant. V1 is the legacy proof family (seal proof ids 0–4); V1_1 covers ids 5–19
// (rust's V1_1_0 and V1_2_0 build identical graphs). V1_1 puts the immediate predecessor first among the DRG
// parents (V1 puts it last) and narrows expander parents to u32 after dividing by ExpDegree (V1 before).
type APIVersion int

// The graph variants.
const (
	V1 APIVersion = iota
	V1_1
)

// String names the version as rust-fil-proofs does.
func (v APIVersion) String() string {
	switch v {
	case V1:
		return "1.0.0"
	case V1_1:
		return "1.1.0"
	}
	return fmt.Sprintf("APIVersion(%d)", int(v))
}

// Config fixes a stacked graph: its number of nodes, the number of layers to label, the porep id that seeds the
// DRG and the Feistel keys, and the API version. Any Nodes from 2 to 2^32-1 is accepted (tests use 64).
type Config struct {
	Nodes   uint64
	Layers  int
	PoRepID [32]byte
	Version APIVersion
}

// Validate reports the first field of c that is out of range.
func (c Config) Validate() error {
	if c.Nodes < 2 || c.Nodes > 1<<32-1 {
		return fmt.Errorf("sdr config: Nodes = %d: accepted are 2 .. 2^32-1", c.Nodes)
	}
	if c.Layers < 1 || c.Layers > 64 {
		return fmt.Errorf("sdr config: Layers = %d: accepted are 1 .. 64", c.Layers)
	}
	if c.Version != V1 && c.Version != V1_1 {
		return fmt.Errorf("sdr config: Version = %d: accepted are V1 (0) and V1_1 (1)", int(c.Version))
	}
	return nil
}

// sealProofCount is one past the highest seal proof id sdr knows (ids 15–19 are the NI-PoRep family).
const sealProofCount = 20

// sectorSizes are the sector sizes of proof ids 0..4 (and, modulo 5, of every other family).
var sectorSizes = [5]uint64{2 << 10, 8 << 20, 512 << 20, 32 << 30, 64 << 30}

// ConfigFor returns the graph configuration of a registered seal proof: ids 0–4 (V1), 5–9 (V1_1), 10–14 (V1_1
// synthetic) and 15–19 (NI-PoRep, labelled like V1_1). Layers follow filecoin-proofs constants.rs: 2 for 2KiB,
// 8MiB and 512MiB, 11 for 32GiB and 64GiB. Any other id is an error naming the accepted ones.
func ConfigFor(p abi.RegisteredSealProof) (Config, error) {
	porep, err := PoRepID(p)
	if err != nil {
		return Config{}, err
	}
	size := sectorSizes[int(p)%5]
	layers := 2
	if size >= 32<<30 {
		layers = 11
	}
	v := V1_1
	if p < 5 {
		v = V1
	}
	return Config{Nodes: size / NodeSize, Layers: layers, PoRepID: porep, Version: v}, nil
}

// PoRepID returns LE64(id) ‖ LE64(nonce = 0) ‖ 16 zero bytes, as rust-filecoin-proofs-api registry.rs porep_id.
func PoRepID(p abi.RegisteredSealProof) ([32]byte, error) {
	var id [32]byte
	if p < 0 || p >= sealProofCount {
		return id, fmt.Errorf("seal proof %d: accepted are 0–4 (V1), 5–9 (V1_1), 10–14 (V1_1 synthetic), "+
			"15–19 (NI-PoRep)", int64(p))
	}
	binary.LittleEndian.PutUint64(id[0:8], uint64(p))
	return id, nil
}

// ProverID returns the prover id of a miner: the unsigned varint of its actor id (the payload of its ID
// address), zero-padded to 32 bytes. t01000 gives e8 07 followed by 30 zero bytes.
func ProverID(miner abi.ActorID) [32]byte {
	var id [32]byte
	binary.PutUvarint(id[:], uint64(miner))
	return id
}

// ReplicaID returns SHA256(prover ‖ BE64(sector) ‖ ticket ‖ commD ‖ porepID) with the top two bits of the last
// byte cleared (storage-proofs-porep stacked/vanilla/params.rs generate_replica_id).
func ReplicaID(prover [32]byte, sector abi.SectorNumber, ticket, commD, porepID [32]byte) [32]byte {
	var msg [32 + 8 + 32*3]byte
	copy(msg[0:32], prover[:])
	binary.BigEndian.PutUint64(msg[32:40], uint64(sector))
	copy(msg[40:72], ticket[:])
	copy(msg[72:104], commD[:])
	copy(msg[104:136], porepID[:])
	h := sha256.Sum256(msg[:])
	h[31] &= 0x3f
	return h
}

// LayerFileName returns the file name of a label layer in a sector's cache directory, 1-based like the
// reference: "sc-02-data-layer-1.dat".
func LayerFileName(layer int) string {
	return fmt.Sprintf("sc-02-data-layer-%d.dat", layer)
}

// domainSeed returns SHA256(tag ‖ porepID) (storage-proofs-core crypto/mod.rs derive_porep_domain_seed).
func domainSeed(tag string, porepID [32]byte) [32]byte {
	h := sha256.New()
	h.Write([]byte(tag))
	h.Write(porepID[:])
	var out [32]byte
	h.Sum(out[:0])
	return out
}
