// Package commp computes Filecoin piece commitments (CommP) and unsealed sector commitments (CommD).
//
// A commitment is the root of a binary Merkle tree whose leaves are the 32-byte words of the Fr32-padded data and
// whose node hash is sha2-256-trunc254-padded: SHA-256(left ‖ right) with the two top bits of the last byte cleared.
// Data is zero-filled up to the next power-of-two padded size (go-fil-commp-hashhash, rust-fil-proofs).
//
// Calc streams a payload into its CommP using every available core; ComputeCommD combines piece commitments into a
// sector's CommD exactly as rust-fil-proofs `filecoin-proofs/src/pieces.rs::compute_comm_d`; ZeroComm gives the
// commitment of an all-zero subtree of any height.
package commp

import (
	"crypto/sha256"
	"fmt"
	"hash"
)

// NodeSize is the size in bytes of a tree node (and of a leaf word).
const NodeSize = 32

// Node is one 32-byte tree node.
type Node = [NodeSize]byte

// hasher computes node hashes without allocating: with the SHA-NI kernel (hash_amd64.s) where the CPU has it,
// else with a reused crypto/sha256 state.
type hasher struct {
	d   hash.Hash
	buf *[2 * NodeSize]byte // scratch for join
}

func newHasher() hasher { return hasher{d: sha256.New(), buf: new([2 * NodeSize]byte)} }

// pair hashes the 64 bytes at in (left ‖ right) and writes the truncated digest to out, which may alias in[0:32].
func (h hasher) pair(out []byte, in []byte) {
	h.d.Reset()
	h.d.Write(in[:2*NodeSize])
	h.d.Sum(out[:0])
	out[NodeSize-1] &= 0x3f
}

// join returns H(left ‖ right).
func (h hasher) join(left, right *Node) Node {
	copy(h.buf[:NodeSize], left[:])
	copy(h.buf[NodeSize:], right[:])
	hashPairs(h, h.buf[:NodeSize], h.buf[:], 1)
	return Node(h.buf[:NodeSize])
}

// l1Block is the largest subtree reduced layer by layer; larger trees are split in halves first so each layer pass
// works on data already in the L1/L2 cache.
const l1Block = 32 << 10

// root reduces buf, the nodes of a complete subtree (len = 32·2^k, k ≥ 0), to its root in place and returns it.
func (h hasher) root(buf []byte) Node {
	if len(buf) > l1Block {
		half := len(buf) / 2
		left := h.root(buf[:half])
		right := h.root(buf[half:])
		return h.join(&left, &right)
	}
	for n := len(buf) / NodeSize; n > 1; n /= 2 {
		hashPairs(h, buf, buf, n/2)
	}
	return Node(buf[:NodeSize])
}

// HashLayer computes one layer of a sha2-256-trunc254-padded binary tree: dst[32i:32i+32] = H(src[64i:64i+64])
// for every pair of nodes in src. len(src) must be a positive multiple of 64 and len(dst) at least len(src)/2; dst
// may be src itself (in-place reduction) but must not otherwise overlap it. It allocates nothing and uses the
// SHA-NI kernel where the CPU has it; it is safe for concurrent use on disjoint buffers. Tree builders such as
// tree_d use it to share this package's node hash.
func HashLayer(dst, src []byte) error {
	if len(src) == 0 || len(src)%(2*NodeSize) != 0 {
		return fmt.Errorf("hash layer: source length %d must be a positive multiple of 64", len(src))
	}
	if len(dst) < len(src)/2 {
		return fmt.Errorf("hash layer: destination length %d is less than %d", len(dst), len(src)/2)
	}
	n := len(src) / (2 * NodeSize)
	if useSHANI {
		hashPairs(hasher{}, dst, src, n)
		return nil
	}
	hashPairs(newHasher(), dst, src, n)
	return nil
}
