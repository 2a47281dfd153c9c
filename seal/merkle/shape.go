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
type Shape struct {
	Leaves    uint64
	BaseArity int
	SubArity  int
	TopArity  int
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
	n := s.BaseLeaves()
	for n > 1 {
		if n%uint64(s.BaseArity) != 0 {
			return fmt.Errorf("tree shape: %d leaves per base tree is not a power of %d", s.BaseLeaves(), s.BaseArity)
		}
		n /= uint64(s.BaseArity)
	}
	return nil
}

// LevelArities lists the arity of every level above the leaves, bottom
// first: the base levels, then the sub level and the top level if present.
func (s Shape) LevelArities() []int {
	var out []int
	for n := s.BaseLeaves(); n > 1; n /= uint64(s.BaseArity) {
		out = append(out, s.BaseArity)
	}
	if s.SubArity > 0 {
		out = append(out, s.SubArity)
	}
	if s.TopArity > 0 {
		out = append(out, s.TopArity)
	}
	return out
}

// BaseTreeNodes returns the number of nodes one base tree file stores
// (all levels).
func (s Shape) BaseTreeNodes() uint64 {
	var total uint64
	for n := s.BaseLeaves(); ; n /= uint64(s.BaseArity) {
		total += n
		if n == 1 {
			return total
		}
	}
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
