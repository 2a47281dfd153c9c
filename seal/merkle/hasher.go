// Package merkle builds, opens and proves the Merkle trees of Filecoin
// sealing with the reference's on-disk layout (rust `merkletree` DiskStore:
// every level concatenated, leaves first, 32 bytes per node): the
// SHA-256-trunc254 binary tree over the unsealed data (tree_d) and the
// Poseidon trees over column hashes (tree_c) and sealed nodes
// (tree_r_last), including the compound shapes of the large sectors.
package merkle

import (
	"crypto/sha256"
	"encoding/hex"
	"fmt"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"sealfleet/seal/poseidon"
)

// NodeSize is the size of a tree node in bytes.
const NodeSize = 32

// Node is one 32-byte tree node. It marshals to JSON as a hex string.
type Node [NodeSize]byte

// MarshalText encodes n as 64 lowercase hex digits.
func (n Node) MarshalText() ([]byte, error) {
	return []byte(hex.EncodeToString(n[:])), nil
}

// UnmarshalText decodes 64 hex digits into n.
func (n *Node) UnmarshalText(b []byte) error {
	if len(b) != 2*NodeSize {
		return fmt.Errorf("node: %d hex digits, want %d", len(b), 2*NodeSize)
	}
	if _, err := hex.Decode(n[:], b); err != nil {
		return fmt.Errorf("node: %w", err)
	}
	return nil
}

// Hasher computes a parent from its children. Implementations are
// stateless and safe for concurrent use.
type Hasher interface {
	// Name identifies the hash in errors ("sha254", "poseidon").
	Name() string
	// Hash returns the parent of children; it fails if the number of
	// children is not a supported arity or a child is not a valid input.
	Hash(children []Node) (Node, error)
	// HashLevel hashes each group of arity consecutive nodes of src into
	// one node of dst; len(src) must be arity·len(dst) nodes.
	HashLevel(dst, src []byte, arity int) error
}

// SHA254 is the sha2-256-trunc254-padded binary node hash of tree_d and
// CommD: SHA-256(left ‖ right) with the two top bits of byte 31 cleared.
var SHA254 Hasher = sha254Hasher{}

// Poseidon is the neptune Poseidon node hash (any arity poseidon supports)
// of tree_c, tree_r_last and the comm_r composition.
var Poseidon Hasher = poseidonHasher{}

type sha254Hasher struct{}

func (sha254Hasher) Name() string { return "sha254" }

func (sha254Hasher) Hash(children []Node) (Node, error) {
	if len(children) != 2 {
		return Node{}, fmt.Errorf("sha254: %d children, accepted 2", len(children))
	}
	var buf [2 * NodeSize]byte
	copy(buf[:NodeSize], children[0][:])
	copy(buf[NodeSize:], children[1][:])
	return Node(SHA254Node(buf[:])), nil
}

// SHA254Node hashes a 64-byte (left ‖ right) pair into a trunc254 node.
func SHA254Node(pair []byte) [32]byte {
	h := sha256.Sum256(pair)
	h[31] &= 0x3f
	return h
}

func (sha254Hasher) HashLevel(dst, src []byte, arity int) error {
	if arity != 2 {
		return fmt.Errorf("sha254: arity %d, accepted 2", arity)
	}
	if len(src) != 2*len(dst) || len(dst)%NodeSize != 0 {
		return fmt.Errorf("sha254 level: %d source bytes for %d destination bytes", len(src), len(dst))
	}
	for i := 0; i < len(dst); i += NodeSize {
		h := SHA254Node(src[2*i : 2*i+2*NodeSize])
		copy(dst[i:i+NodeSize], h[:])
	}
	return nil
}

type poseidonHasher struct{}

func (poseidonHasher) Name() string { return "poseidon" }

func (poseidonHasher) Hash(children []Node) (Node, error) {
	in := make([][32]byte, len(children))
	for i := range children {
		in[i] = children[i]
	}
	out, err := poseidon.HashBytes(in)
	return Node(out), err
}

func (poseidonHasher) HashLevel(dst, src []byte, arity int) error {
	c, err := poseidon.ConstantsFor(arity)
	if err != nil {
		return err
	}
	if len(src) != arity*len(dst) || len(dst)%NodeSize != 0 {
		return fmt.Errorf("poseidon level: %d source bytes for %d destination bytes at arity %d", len(src), len(dst), arity)
	}
	in := make([]fr.Element, arity)
	var b [32]byte
	for i, o := 0, 0; o < len(dst); o += NodeSize {
		for j := 0; j < arity; j++ {
			copy(b[:], src[i:i+NodeSize])
			e, err := fr.LittleEndian.Element(&b)
			if err != nil {
				return fmt.Errorf("poseidon level: node at byte %d is not a canonical field element", i)
			}
			in[j] = e
			i += NodeSize
		}
		d := c.Hash(in)
		fr.LittleEndian.PutElement(&b, d)
		copy(dst[o:o+NodeSize], b[:])
	}
	return nil
}
