package merkle

import (
	"errors"
	"fmt"
	"os"
)

// Tree is a built (possibly compound) tree opened from its base tree files
// for reading nodes and producing inclusion proofs. It is safe for
// concurrent use (reads use ReadAt).
type Tree struct {
	shape     Shape
	h         Hasher
	files     []*os.File
	starts    []uint64 // level offsets within a base file, in nodes
	baseRoots []Node
	root      Node
}

// Open opens the base tree files of shape (as named by Shape.FilePaths),
// checks their sizes and reads their roots. Close releases the files.
func Open(paths []string, shape Shape, h Hasher) (*Tree, error) {
	if err := shape.Validate(); err != nil {
		return nil, err
	}
	if len(paths) != shape.BaseTrees() {
		return nil, fmt.Errorf("opening tree: %d paths for %d base trees", len(paths), shape.BaseTrees())
	}
	starts, total := levelStarts(shape.BaseLeaves(), shape.BaseArity)
	t := &Tree{shape: shape, h: h, starts: starts}
	for _, p := range paths {
		f, err := os.Open(p)
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("opening tree file: %w", err)
		}
		t.files = append(t.files, f)
		st, err := f.Stat()
		if err != nil {
			t.Close()
			return nil, fmt.Errorf("stat %s: %w", p, err)
		}
		if want := int64(total * NodeSize); st.Size() != want {
			t.Close()
			return nil, fmt.Errorf("tree file %s: %d bytes, want %d (a full %d-ary tree over %d leaves)", p, st.Size(), want, shape.BaseArity, shape.BaseLeaves())
		}
		var r Node
		if _, err := f.ReadAt(r[:], int64((total-1)*NodeSize)); err != nil {
			t.Close()
			return nil, fmt.Errorf("reading root of %s: %w", p, err)
		}
		t.baseRoots = append(t.baseRoots, r)
	}
	root, err := ComposeRoot(h, shape, t.baseRoots)
	if err != nil {
		t.Close()
		return nil, err
	}
	t.root = root
	return t, nil
}

// Close closes the tree files.
func (t *Tree) Close() error {
	var errs []error
	for _, f := range t.files {
		errs = append(errs, f.Close())
	}
	t.files = nil
	return errors.Join(errs...)
}

// Root returns the tree root (composed over the base roots).
func (t *Tree) Root() Node { return t.root }

// Shape returns the tree's shape.
func (t *Tree) Shape() Shape { return t.shape }

// Leaf returns leaf i.
func (t *Tree) Leaf(i uint64) (Node, error) {
	if i >= t.shape.Leaves {
		return Node{}, fmt.Errorf("leaf %d: tree has %d leaves", i, t.shape.Leaves)
	}
	per := t.shape.BaseLeaves()
	return t.node(int(i/per), 0, i%per)
}

func (t *Tree) node(base, level int, idx uint64) (Node, error) {
	var n Node
	if _, err := t.files[base].ReadAt(n[:], int64((t.starts[level]+idx)*NodeSize)); err != nil {
		return Node{}, fmt.Errorf("reading node %d of level %d in base tree %d: %w", idx, level, base, err)
	}
	return n, nil
}

// Prove returns the inclusion proof of leaf i.
func (t *Tree) Prove(i uint64) (*Proof, error) {
	leaf, err := t.Leaf(i)
	if err != nil {
		return nil, err
	}
	p := &Proof{Index: i, Leaf: leaf, Root: t.root}
	per := t.shape.BaseLeaves()
	base, idx := int(i/per), i%per
	a := uint64(t.shape.BaseArity)
	for level := 0; level < len(t.starts)-1; level++ {
		group := idx / a * a
		sib := make([]Node, 0, a-1)
		buf := make([]byte, a*NodeSize)
		if _, err := t.files[base].ReadAt(buf, int64((t.starts[level]+group)*NodeSize)); err != nil {
			return nil, fmt.Errorf("reading level %d of base tree %d: %w", level, base, err)
		}
		for j := uint64(0); j < a; j++ {
			if group+j != idx {
				var n Node
				copy(n[:], buf[j*NodeSize:])
				sib = append(sib, n)
			}
		}
		p.Path = append(p.Path, sib)
		idx /= a
	}
	// Sub and top levels over the base roots.
	cur, pos := t.baseRoots, base
	for _, ar := range []int{t.shape.SubArity, t.shape.TopArity} {
		if ar == 0 {
			continue
		}
		group := pos / ar * ar
		sib := make([]Node, 0, ar-1)
		for j := group; j < group+ar; j++ {
			if j != pos {
				sib = append(sib, cur[j])
			}
		}
		p.Path = append(p.Path, sib)
		next := make([]Node, len(cur)/ar)
		for k := range next {
			if next[k], err = t.h.Hash(cur[k*ar : (k+1)*ar]); err != nil {
				return nil, err
			}
		}
		cur, pos = next, pos/ar
	}
	return p, nil
}
