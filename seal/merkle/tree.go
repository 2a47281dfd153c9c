package merkle

import (
	"errors"
	"fmt"
	"io"
	"os"
)

// Tree is a built (possibly compound) tree opened from its base tree files
// for reading nodes and producing inclusion proofs. It is safe for
// concurrent use (reads use ReadAt).
type Tree struct {
	shape     Shape
	h         Hasher
	files     []*os.File
	starts    []int64     // level offsets within a base file, in nodes (−1: discarded)
	leaves    io.ReaderAt // all leaves (global index i at i·32) when Discard > 0
	baseRoots []Node
	root      Node
}

// Open opens the base tree files of shape (as named by Shape.FilePaths),
// checks their sizes and reads their roots. Close releases the files.
// A shape with discarded levels needs OpenWithLeaves.
func Open(paths []string, shape Shape, h Hasher) (*Tree, error) {
	if shape.Discard > 0 {
		return nil, fmt.Errorf("opening tree: %d discarded levels need the leaves (OpenWithLeaves)", shape.Discard)
	}
	return open(paths, shape, h, nil)
}

// OpenWithLeaves is Open for trees whose files do not store the lowest
// shape.Discard levels; leaves serves every leaf (global index i at byte
// i·32), e.g. the sealed replica for tree_r_last. Proofs rebuild the
// discarded levels from it. The caller keeps leaves open while using the
// tree.
func OpenWithLeaves(paths []string, shape Shape, h Hasher, leaves io.ReaderAt) (*Tree, error) {
	if leaves == nil {
		return nil, errors.New("opening tree: no leaf source")
	}
	return open(paths, shape, h, leaves)
}

func open(paths []string, shape Shape, h Hasher, leaves io.ReaderAt) (*Tree, error) {
	if err := shape.Validate(); err != nil {
		return nil, err
	}
	if len(paths) != shape.BaseTrees() {
		return nil, fmt.Errorf("opening tree: %d paths for %d base trees", len(paths), shape.BaseTrees())
	}
	starts, total := levelStarts(shape.BaseLeaves(), shape.BaseArity, shape.Discard)
	t := &Tree{shape: shape, h: h, starts: starts, leaves: leaves}
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
			return nil, fmt.Errorf("tree file %s: %d bytes, want %d (a %d-ary tree over %d leaves without its %d lowest levels)", p, st.Size(), want, shape.BaseArity, shape.BaseLeaves(), shape.Discard)
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
	if t.leaves != nil {
		var n Node
		if _, err := t.leaves.ReadAt(n[:], int64(i*NodeSize)); err != nil {
			return Node{}, fmt.Errorf("reading leaf %d: %w", i, err)
		}
		return n, nil
	}
	per := t.shape.BaseLeaves()
	return t.node(int(i/per), 0, i%per)
}

func (t *Tree) node(base, level int, idx uint64) (Node, error) {
	var n Node
	if _, err := t.files[base].ReadAt(n[:], (t.starts[level]+int64(idx))*NodeSize); err != nil {
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
	low, err := t.discardedPath(base, idx)
	if err != nil {
		return nil, err
	}
	p.Path = append(p.Path, low...)
	for level := 0; level < len(t.starts)-1; level++ {
		if level < t.shape.Discard {
			idx /= a
			continue
		}
		group := idx / a * a
		sib := make([]Node, 0, a-1)
		buf := make([]byte, a*NodeSize)
		if _, err := t.files[base].ReadAt(buf, (t.starts[level]+int64(group))*NodeSize); err != nil {
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

// discardedPath rebuilds the levels below shape.Discard around leaf idx of
// base tree base from the leaf source and returns their sibling lists.
func (t *Tree) discardedPath(base int, idx uint64) ([][]Node, error) {
	d := t.shape.Discard
	if d == 0 {
		return nil, nil
	}
	a := uint64(t.shape.BaseArity)
	span := uint64(1)
	for k := 0; k < d; k++ {
		span *= a
	}
	start := idx / span * span
	cur := make([]byte, span*NodeSize)
	off := (uint64(base)*t.shape.BaseLeaves() + start) * NodeSize
	if _, err := t.leaves.ReadAt(cur, int64(off)); err != nil {
		return nil, fmt.Errorf("reading leaves %d..%d: %w", start, start+span, err)
	}
	local := idx - start
	var out [][]Node
	for level := 0; level < d; level++ {
		group := local / a * a
		sib := make([]Node, 0, a-1)
		for j := group; j < group+a; j++ {
			if j != local {
				var n Node
				copy(n[:], cur[j*NodeSize:])
				sib = append(sib, n)
			}
		}
		out = append(out, sib)
		next := make([]byte, len(cur)/int(a))
		if err := t.h.HashLevel(next, cur, int(a)); err != nil {
			return nil, fmt.Errorf("rebuilding level %d: %w", level+1, err)
		}
		cur, local = next, local/a
	}
	return out, nil
}
