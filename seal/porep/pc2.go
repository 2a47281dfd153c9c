// Package porep implements the stages of Filecoin's stacked-DRG PoRep after
// labelling: PreCommit2 (tree_d, column hashes and tree_c, replica encoding
// and tree_r_last, comm_r), Commit1 (interactive challenges and vanilla
// proofs) and a verifier for Commit1 output, bit-compatible with
// rust-fil-proofs (storage-proofs-porep `stacked/vanilla`).
package porep

import (
	"context"
	"encoding/binary"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"runtime"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"
	commcid "github.com/filecoin-project/go-fil-commcid"
	"github.com/ipfs/go-cid"

	"sealfleet/seal/merkle"
	"sealfleet/seal/poseidon"
	"sealfleet/seal/sdr"
)

// Cache keys, as rust-fil-proofs storage-proofs-core `cache_key.rs` names
// them; tree files are `sc-02-data-<key>[-<i>].dat`.
const (
	KeyTreeD     = "tree-d"
	KeyTreeC     = "tree-c"
	KeyTreeRLast = "tree-r-last"
	PAuxFile     = "p_aux"
	TAuxFile     = "t_aux"
)

// chunkNodes is the number of nodes PreCommit2 streams per step
// (16 MiB per layer file, data and sealed buffer).
const chunkNodes = 1 << 19

// Shapes returns the tree_d shape and the tree_c / tree_r_last shape of cfg.
func Shapes(cfg sdr.Config) (treeD, treeR merkle.Shape, err error) {
	treeR, err = merkle.ShapeForNodes(cfg.Nodes)
	if err != nil {
		return merkle.Shape{}, merkle.Shape{}, err
	}
	return merkle.BinaryShape(cfg.Nodes), treeR, nil
}

// TreeRLastShape returns the tree_r_last shape of cfg: the tree_c shape
// with rust's default rows_to_discard, so each base tree file holds only its
// upper levels (LevelCacheStore layout) and proofs rebuild the lower ones
// from the sealed replica.
func TreeRLastShape(cfg sdr.Config) (merkle.Shape, error) {
	s, err := merkle.ShapeForNodes(cfg.Nodes)
	if err != nil {
		return merkle.Shape{}, err
	}
	s.Discard = merkle.DefaultDiscard(s.BaseLeaves(), s.BaseArity)
	return s, nil
}

// TreeDPath returns the tree_d file in cacheDir (sc-02-data-tree-d.dat).
func TreeDPath(cacheDir string) string {
	return merkle.BinaryShape(1).FilePaths(cacheDir, KeyTreeD)[0]
}

// TreeCPaths returns the tree_c base tree files of shape in cacheDir:
// sc-02-data-tree-c.dat, or sc-02-data-tree-c-<i>.dat for several base trees.
func TreeCPaths(cacheDir string, shape merkle.Shape) []string {
	return shape.FilePaths(cacheDir, KeyTreeC)
}

// TreeRLastPaths returns the tree_r_last base tree files of shape in
// cacheDir, named like TreeCPaths with key tree-r-last.
func TreeRLastPaths(cacheDir string, shape merkle.Shape) []string {
	return shape.FilePaths(cacheDir, KeyTreeRLast)
}

// PreCommit2 runs PC2 for a sector whose label layers
// (sc-02-data-layer-1..L.dat, 32 B per node) are in cacheDir and whose
// fr32-padded data (exactly cfg.Nodes·32 bytes) is at unsealedPath:
//
//   - tree_d: SHA254 binary tree over the data; comm_d is its root;
//   - C_i = Poseidon_L(label_1[i], …, label_L[i]) and tree_c over them;
//   - sealed[i] = data[i] + label_L[i] mod r, written to sealedPath;
//   - tree_r_last over the sealed nodes, stored without its lowest
//     rows_to_discard levels like the reference (TreeRLastShape);
//   - comm_r = Poseidon_2(comm_c, comm_r_last); p_aux and t_aux.
//
// Every file is written under a temporary name and renamed when complete
// (sealedPath may equal unsealedPath: the replica replaces the data).
// Memory stays bounded (about (L+3)·16 MiB). replicaID is only checked to
// be a field element: the labels already depend on it.
func PreCommit2(ctx context.Context, cfg sdr.Config, cacheDir, unsealedPath, sealedPath string, replicaID [32]byte) (commD, commR [32]byte, err error) {
	if err := cfg.Validate(); err != nil {
		return commD, commR, err
	}
	if replicaID[31]&0xc0 != 0 {
		return commD, commR, fmt.Errorf("replica id %x: top two bits must be clear", replicaID)
	}
	_, shapeR, err := Shapes(cfg)
	if err != nil {
		return commD, commR, err
	}
	shapeRLast, err := TreeRLastShape(cfg)
	if err != nil {
		return commD, commR, err
	}
	workers := runtime.GOMAXPROCS(0)
	data, err := openSized(unsealedPath, cfg.Nodes*merkle.NodeSize, "unsealed data")
	if err != nil {
		return commD, commR, err
	}
	defer data.Close()
	layers, err := openLayers(cacheDir, cfg)
	if err != nil {
		return commD, commR, err
	}
	defer closeAll(layers)

	rootD, err := merkle.BuildFile(ctx, TreeDPath(cacheDir), merkle.SHA254, 2, cfg.Nodes, 0, readerFill(data), workers)
	if err != nil {
		return commD, commR, fmt.Errorf("building tree_d: %w", err)
	}
	commC, _, err := merkle.BuildTrees(ctx, TreeCPaths(cacheDir, shapeR), shapeR, merkle.Poseidon, columnFill(layers, workers), workers)
	if err != nil {
		return commD, commR, fmt.Errorf("building tree_c: %w", err)
	}
	commRLast, err := encodeAndBuildTreeR(ctx, cfg, shapeRLast, cacheDir, data, layers[len(layers)-1], sealedPath, workers)
	if err != nil {
		return commD, commR, err
	}
	root, err := ComposeCommR(commC, commRLast)
	if err != nil {
		return commD, commR, err
	}
	if err := writePAux(cacheDir, commC, commRLast); err != nil {
		return commD, commR, err
	}
	if err := writeTAux(cacheDir, cfg, shapeRLast); err != nil {
		return commD, commR, err
	}
	return rootD, root, nil
}

// ComposeCommR returns comm_r = Poseidon_2(comm_c, comm_r_last).
func ComposeCommR(commC, commRLast [32]byte) ([32]byte, error) {
	r, err := poseidon.HashBytes([][32]byte{commC, commRLast})
	if err != nil {
		return r, fmt.Errorf("composing comm_r: %w", err)
	}
	return r, nil
}

// CIDs returns the unsealed (CommD) and sealed (CommR) CIDs of the
// commitments (go-fil-commcid v1 codecs).
func CIDs(commD, commR [32]byte) (unsealed, sealed cid.Cid, err error) {
	if unsealed, err = commcid.DataCommitmentV1ToCID(commD[:]); err != nil {
		return cid.Undef, cid.Undef, fmt.Errorf("comm_d cid: %w", err)
	}
	if sealed, err = commcid.ReplicaCommitmentV1ToCID(commR[:]); err != nil {
		return cid.Undef, cid.Undef, fmt.Errorf("comm_r cid: %w", err)
	}
	return unsealed, sealed, nil
}

func openSized(path string, want uint64, what string) (*os.File, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("opening %s: %w", what, err)
	}
	st, err := f.Stat()
	if err != nil {
		f.Close()
		return nil, fmt.Errorf("stat %s: %w", what, err)
	}
	if uint64(st.Size()) != want {
		f.Close()
		return nil, fmt.Errorf("%s %s: %d bytes, want %d (nodes × 32)", what, path, st.Size(), want)
	}
	return f, nil
}

func openLayers(cacheDir string, cfg sdr.Config) ([]*os.File, error) {
	var out []*os.File
	for l := 1; l <= cfg.Layers; l++ {
		f, err := openSized(filepath.Join(cacheDir, sdr.LayerFileName(l)), cfg.Nodes*merkle.NodeSize, fmt.Sprintf("label layer %d", l))
		if err != nil {
			closeAll(out)
			return nil, err
		}
		out = append(out, f)
	}
	return out, nil
}

func closeAll(fs []*os.File) {
	for _, f := range fs {
		f.Close()
	}
}

// readerFill serves leaves straight from a file of nodes.
func readerFill(r io.ReaderAt) merkle.LeafFunc {
	return func(start uint64, buf []byte) error {
		_, err := r.ReadAt(buf, int64(start*merkle.NodeSize))
		return err
	}
}

// columnFill computes column hashes C_i = Poseidon_L(label_1[i]..label_L[i])
// for the requested leaves, reading every layer file at the same offset.
func columnFill(layers []*os.File, workers int) merkle.LeafFunc {
	c := poseidon.MustConstants(len(layers))
	var bufs [][]byte
	return func(start uint64, out []byte) error {
		if len(bufs) == 0 || len(bufs[0]) < len(out) {
			bufs = make([][]byte, len(layers))
			for i := range bufs {
				bufs[i] = make([]byte, len(out))
			}
		}
		for l, f := range layers {
			if _, err := f.ReadAt(bufs[l][:len(out)], int64(start*merkle.NodeSize)); err != nil {
				return fmt.Errorf("reading layer %d: %w", l+1, err)
			}
		}
		return merkle.Parallel(len(out)/merkle.NodeSize, 1, workers, func(lo, hi int) error {
			col := make([]fr.Element, len(layers))
			var b [32]byte
			for i := lo; i < hi; i++ {
				off := i * merkle.NodeSize
				for l := range layers {
					copy(b[:], bufs[l][off:off+merkle.NodeSize])
					e, err := fr.LittleEndian.Element(&b)
					if err != nil {
						return fmt.Errorf("layer %d node %d: label is not a field element", l+1, start+uint64(i))
					}
					col[l] = e
				}
				d := c.Hash(col)
				fr.LittleEndian.PutElement(&b, d)
				copy(out[off:], b[:])
			}
			return nil
		})
	}
}

// EncodeNode sets out (32 bytes) = data + key mod r, the replica encoding
// of one node (key = the node's last-layer label), for little-endian
// canonical field elements; it fails if either input is not below r.
// Addition is linear, so it works on the plain limbs without Montgomery
// conversion. out may alias data.
func EncodeNode(out, data, key []byte) error {
	var a, b fr.Element
	for i := 0; i < 4; i++ {
		a[i] = binary.LittleEndian.Uint64(data[8*i:])
		b[i] = binary.LittleEndian.Uint64(key[8*i:])
	}
	if !canonical(&a) || !canonical(&b) {
		return fmt.Errorf("not a canonical field element")
	}
	a.Add(&a, &b)
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], a[i])
	}
	return nil
}

// DecodeNode sets out = sealed − key mod r, the inverse of EncodeNode
// (unsealing one node); it fails if either input is not below r.
func DecodeNode(out, sealed, key []byte) error {
	var a, b fr.Element
	for i := 0; i < 4; i++ {
		a[i] = binary.LittleEndian.Uint64(sealed[8*i:])
		b[i] = binary.LittleEndian.Uint64(key[8*i:])
	}
	if !canonical(&a) || !canonical(&b) {
		return fmt.Errorf("not a canonical field element")
	}
	a.Sub(&a, &b)
	for i := 0; i < 4; i++ {
		binary.LittleEndian.PutUint64(out[8*i:], a[i])
	}
	return nil
}

// modulusLimbs is r as little-endian u64 limbs.
var modulusLimbs = func() [4]uint64 {
	var out [4]uint64
	words := fr.Modulus().Bits()
	for i := range out {
		out[i] = uint64(words[i])
	}
	return out
}()

// canonical reports whether the plain limbs of e are below the modulus.
func canonical(e *fr.Element) bool {
	for i := 3; i >= 0; i-- {
		if e[i] != modulusLimbs[i] {
			return e[i] < modulusLimbs[i]
		}
	}
	return false
}
