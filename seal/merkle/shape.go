package merkle

import (
	"fmt"
	"path/filepath"
)

// Shape describes a (possibly compound) tree as rust-fil-proofs'
// MerkleTreeWrapper<H, U, V, W> does: base trees of arity BaseArity, then
// optionally one level of SubArity over the base roots and one level of
// TopArity over the sub roots. SubArity/TopArity 0 means "absent"; a
// TopArity requires a SubArity. There are SubArity·TopArity base trees
// (1 if both are 0); base tree i covers leaves [i·B, (i+1)·B) where
// B = Leaves / BaseTrees().
//
// Discard is the number of lowest levels of each base tree that its file
// does not store (rust's rows_to_discard, LevelCacheStore): the file holds
// levels Discard..root, and proofs rebuild the discarded levels from the
// leaves (the replica for tree_r_last). 0 stores the whole tree.
type Shape struct {
	Leaves    uint64
	BaseArity int
	SubArity  int
	TopArity  int
	Discard   int
}

// DefaultDiscard returns rust-fil-proofs' default rows_to_discard for a
// base tree of leaves leaves (storage-proofs-core `util.rs`
// default_rows_to_discard with fixed-rows-to-discard): 0 for trees of at
// most 2 rows, 1 for 3 rows, otherwise min(rows − 2, 7 for arity 2, 5 for
// arity 4, 2 for other arities).
func DefaultDiscard(leaves uint64, arity int) int {
	rows := 1
	for n := leaves; n > 1; n /= uint64(arity) {
		rows++
	}
	switch {
	case rows <= 2:
		return 0
	case rows == 3:
		return 1
	}
	limit := 2
	switch arity {
	case 2:
		limit = 7
	case 4:
		limit = 5
	}
	return min(rows-2, limit)
}

// ShapeForNodes returns the tree_c / tree_r_last shape that filecoin-proofs
// `constants.rs` assigns to a sector of nodes 32-byte nodes (SectorShape*).
func ShapeForNodes(nodes uint64) (Shape, error) {
	const kib = 1024 / NodeSize
	switch nodes {
	case 2 * kib, 8 << 20 / NodeSize, 512 << 20 / NodeSize:
		return Shape{Leaves: nodes, BaseArity: 8}, nil
	case 4 * kib, 16 << 20 / NodeSize, 1 << 30 / NodeSize:
		return Shape{Leaves: nodes, BaseArity: 8, SubArity: 2}, nil
	case 16 * kib, 32 << 30 / NodeSize:
		return Shape{Leaves: nodes, BaseArity: 8, SubArity: 8}, nil
	case 32 * kib, 64 << 30 / NodeSize:
		return Shape{Leaves: nodes, BaseArity: 8, SubArity: 8, TopArity: 2}, nil
	}
	return Shape{}, fmt.Errorf("tree shape: %d nodes is not a Filecoin sector size (2KiB, 4KiB, 16KiB, 32KiB, 8MiB, 16MiB, 512MiB, 1GiB, 32GiB, 64GiB)", nodes)
}

// BinaryShape is the shape of tree_d: one binary tree.
func BinaryShape(leaves uint64) Shape { return Shape{Leaves: leaves, BaseArity: 2} }

// BaseTrees returns the number of base trees.
func (s Shape) BaseTrees() int {
	n := 1
	if s.SubArity > 0 {
		n *= s.SubArity
	}
	if s.TopArity > 0 {
		n *= s.TopArity
	}
	return n
}

// BaseLeaves returns the number of leaves of each base tree.
func (s Shape) BaseLeaves() uint64 { return s.Leaves / uint64(s.BaseTrees()) }

// Validate checks that the base trees are full trees of their arity.
func (s Shape) Validate() error {
	if s.BaseArity < 2 {
		return fmt.Errorf("tree shape: base arity %d, accepted ≥ 2", s.BaseArity)
	}
	if s.TopArity > 0 && s.SubArity == 0 {
		return fmt.Errorf("tree shape: top arity %d without a sub arity", s.TopArity)
	}
	if s.Leaves == 0 || s.Leaves%uint64(s.BaseTrees()) != 0 {
		return fmt.Errorf("tree shape: %d leaves do not split into %d base trees", s.Leaves, s.BaseTrees())
	}
	if s.Discard < 0 || s.Discard > len(s.baseArities()) {
		return fmt.Errorf("tree shape: discard %d levels: accepted 0 .. %d (the root is always stored)", s.Discard, len(s.baseArities()))
	}
	n := s.BaseLeaves()
	for n > 1 {
		if n%uint64(s.BaseArity) != 0 {
			return fmt.Errorf("tree shape: %d leaves per base tree is not a power of %d", s.BaseLeaves(), s.BaseArity)
		}
		n /= uint64(s.BaseArity)
	}
	return nil
}

// baseArities lists the arity of each base-tree level above the leaves.
func (s Shape) baseArities() []int {
	var out []int
	for n := s.BaseLeaves(); n > 1 && s.BaseArity > 1; n /= uint64(s.BaseArity) {
		out = append(out, s.BaseArity)
	}
	return out
}

// LevelArities lists the arity of every level above the leaves, bottom
// first: the base levels, then the sub level and the top level if present.
func (s Shape) LevelArities() []int {
	out := s.baseArities()
	if s.SubArity > 0 {
		out = append(out, s.SubArity)
	}
	if s.TopArity > 0 {
		out = append(out, s.TopArity)
	}
	return out
}

// BaseTreeLen returns the number of nodes of one whole base tree (all
// levels; merkletree's get_merkle_tree_len).
func (s Shape) BaseTreeLen() uint64 {
	_, n := levelStarts(s.BaseLeaves(), s.BaseArity, 0)
	return n
}

// BaseTreeNodes returns the number of nodes one base tree file stores:
// levels Discard..root (merkletree's get_merkle_tree_cache_size).
func (s Shape) BaseTreeNodes() uint64 {
	_, n := levelStarts(s.BaseLeaves(), s.BaseArity, s.Discard)
	return n
}

// FilePaths returns the base tree file names in dir for key ("tree-c",
// "tree-r-last", "tree-d"): `sc-02-data-<key>.dat` for a single tree and
// `sc-02-data-<key>-<i>.dat` for each of several base trees, as
// rust-fil-proofs' StoreConfig and merkletree's split_config name them.
func (s Shape) FilePaths(dir, key string) []string {
	n := s.BaseTrees()
	if n == 1 {
		return []string{filepath.Join(dir, fmt.Sprintf("sc-02-data-%s.dat", key))}
	}
	out := make([]string, n)
	for i := range out {
		out[i] = filepath.Join(dir, fmt.Sprintf("sc-02-data-%s-%d.dat", key, i))
	}
	return out
}
