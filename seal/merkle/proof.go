package merkle

import (
	"errors"
	"fmt"
)

// Proof is an inclusion proof of one leaf. Path holds, for every level
// above the leaves (bottom first), the siblings of the node on the path in
// child order with the node itself left out; the node's position in its
// group follows from Index and the shape's level arities.
type Proof struct {
	Index uint64   `json:"index"`
	Leaf  Node     `json:"leaf"`
	Path  [][]Node `json:"path"`
	Root  Node     `json:"root"`
}

// ErrRootMismatch reports a proof whose path does not hash to its root.
var ErrRootMismatch = errors.New("path does not hash to the root")

// ComputeRoot hashes Leaf up Path for a tree of shape, checking that the
// path has one level per level of shape with arity−1 siblings each.
func (p *Proof) ComputeRoot(h Hasher, shape Shape) (Node, error) {
	arities := shape.LevelArities()
	if len(p.Path) != len(arities) {
		return Node{}, fmt.Errorf("proof has %d levels, the tree has %d", len(p.Path), len(arities))
	}
	if p.Index >= shape.Leaves {
		return Node{}, fmt.Errorf("proof index %d outside %d leaves", p.Index, shape.Leaves)
	}
	cur, idx := p.Leaf, p.Index
	children := make([]Node, 0, 16)
	for level, a := range arities {
		sib := p.Path[level]
		if len(sib) != a-1 {
			return Node{}, fmt.Errorf("proof level %d: %d siblings, want %d", level, len(sib), a-1)
		}
		pos := int(idx % uint64(a))
		children = children[:0]
		children = append(children, sib[:pos]...)
		children = append(children, cur)
		children = append(children, sib[pos:]...)
		n, err := h.Hash(children)
		if err != nil {
			return Node{}, fmt.Errorf("proof level %d: %w", level, err)
		}
		cur, idx = n, idx/uint64(a)
	}
	return cur, nil
}

// Verify checks that p proves leaf index of a tree of shape with the given
// root, and that the root stored in p is that root.
func (p *Proof) Verify(h Hasher, shape Shape, index uint64, root Node) error {
	if p.Index != index {
		return fmt.Errorf("proof is for leaf %d, want %d", p.Index, index)
	}
	if p.Root != root {
		return fmt.Errorf("proof root %x is not the commitment %x", p.Root, root)
	}
	got, err := p.ComputeRoot(h, shape)
	if err != nil {
		return err
	}
	if got != root {
		return fmt.Errorf("%w (computed %x, want %x)", ErrRootMismatch, got, root)
	}
	return nil
}
