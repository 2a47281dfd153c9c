package porep

import (
	"crypto/sha256"
	"encoding/binary"
	"fmt"
	"math/big"

	"sealfleet/seal/sdr"
)

// ChallengeLayout is how many interactive challenges a proof type draws:
// Partitions × PerPartition (filecoin-proofs `constants.rs`:
// POREP_PARTITIONS and get_porep_interactive_minimum_challenges, divided
// up as `parameters.rs::select_challenges` does, rounding up).
type ChallengeLayout struct {
	Partitions   int
	PerPartition int
}

// Total is Partitions × PerPartition.
func (l ChallengeLayout) Total() int { return l.Partitions * l.PerPartition }

// ProofID returns the registered seal proof id encoded in a porep id
// (LE64 of its first 8 bytes).
func ProofID(porepID [32]byte) uint64 { return binary.LittleEndian.Uint64(porepID[:8]) }

// LayoutFor returns the challenge layout of cfg: 1 partition × 2 for the
// test and 512MiB sizes (minimum 2), 10 partitions × 18 (minimum 176) for
// 32GiB and 64GiB. Synthetic (proof ids 10–14) and non-interactive (15–19)
// PoRep derive challenges differently and are rejected.
func LayoutFor(cfg sdr.Config) (ChallengeLayout, error) {
	if id := ProofID(cfg.PoRepID); id >= 10 {
		return ChallengeLayout{}, fmt.Errorf("seal proof %d: only interactive PoRep (ids 0–9) challenges are implemented", id)
	}
	const gib = (1 << 30) / 32
	if cfg.Nodes >= 32*gib {
		return ChallengeLayout{Partitions: 10, PerPartition: (176 + 9) / 10}, nil
	}
	return ChallengeLayout{Partitions: 1, PerPartition: 2}, nil
}

// Challenges returns the interactive challenges of every partition in
// order (storage-proofs-porep `stacked/vanilla/challenges.rs`,
// InteractiveChallenges::derive): challenge j (j = k·perPartition + i for
// partition k) is LE-integer(SHA256(replica_id ‖ seed ‖ LE32(j))) mod
// (nodes − 1) + 1, so node 0 is never challenged.
func Challenges(nodes uint64, replicaID, seed [32]byte, layout ChallengeLayout) []uint64 {
	out := make([]uint64, layout.Total())
	mod := new(big.Int).SetUint64(nodes - 1)
	var msg [68]byte
	copy(msg[:32], replicaID[:])
	copy(msg[32:64], seed[:])
	le := make([]byte, 32)
	for j := range out {
		binary.LittleEndian.PutUint32(msg[64:], uint32(j))
		h := sha256.Sum256(msg[:])
		for i := range le {
			le[i] = h[31-i] // big.Int wants big-endian bytes
		}
		v := new(big.Int).SetBytes(le)
		v.Mod(v, mod)
		out[j] = v.Uint64() + 1
	}
	return out
}
