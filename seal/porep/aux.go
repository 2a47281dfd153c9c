package porep

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// PAux is the persistent auxiliary data of a sealed sector (rust-fil-proofs
// `PersistentAux`): the roots of tree_c and tree_r_last.
type PAux struct {
	CommC     [32]byte
	CommRLast [32]byte
}

// The p_aux file is bincode(PersistentAux{comm_c, comm_r_last}) as
// filecoin-proofs `api/util.rs::persist_p_aux` writes it: a PoseidonDomain
// is a [u8; 32] tuple, so the file is comm_c ‖ comm_r_last, 64 bytes.
func writePAux(cacheDir string, commC, commRLast [32]byte) error {
	var b [64]byte
	copy(b[:32], commC[:])
	copy(b[32:], commRLast[:])
	return writeFileAtomic(filepath.Join(cacheDir, PAuxFile), b[:])
}

// ReadPAux reads p_aux from cacheDir.
func ReadPAux(cacheDir string) (PAux, error) {
	b, err := os.ReadFile(filepath.Join(cacheDir, PAuxFile))
	if err != nil {
		return PAux{}, fmt.Errorf("reading p_aux: %w", err)
	}
	if len(b) != 64 {
		return PAux{}, fmt.Errorf("p_aux: %d bytes, want 64 (comm_c ‖ comm_r_last)", len(b))
	}
	var p PAux
	copy(p.CommC[:], b[:32])
	copy(p.CommRLast[:], b[32:])
	return p, nil
}

// storeConfig mirrors merkletree's StoreConfig {path, id, size, rows_to_discard}.
type storeConfig struct {
	path          string
	id            string
	size          uint64
	rowsToDiscard uint64
}

// bincode (1.x default options: little-endian, u64 lengths): PathBuf and
// String as u64 length + UTF-8, Option<usize> as tag byte + u64, usize as u64.
func (s storeConfig) appendBincode(b *bytes.Buffer) {
	putStr := func(v string) {
		binary.Write(b, binary.LittleEndian, uint64(len(v)))
		b.WriteString(v)
	}
	putStr(s.path)
	putStr(s.id)
	b.WriteByte(1) // Some(size)
	binary.Write(b, binary.LittleEndian, s.size)
	binary.Write(b, binary.LittleEndian, s.rowsToDiscard)
}

// writeTAux writes t_aux as bincode of rust-fil-proofs
// `stacked/vanilla/params.rs::TemporaryAux` with the same values that
// `TemporaryAux::new` derives (labels: "layer-<n>" of size nodes; tree_d:
// "tree-d" of size 2N−1; tree_r_last and tree_c: base-tree size;
// tree_r_last's rows_to_discard as stored). The path is the absolute cache
// directory; rust resets it on load (set_cache_path).
func writeTAux(cacheDir string, cfg sdr.Config, shapeRLast merkle.Shape) error {
	abs, err := filepath.Abs(cacheDir)
	if err != nil {
		return fmt.Errorf("t_aux: %w", err)
	}
	return writeFileAtomic(filepath.Join(cacheDir, TAuxFile), encodeTAux(abs, cfg, shapeRLast, uint64(shapeRLast.Discard)))
}

// encodeTAux returns the bincode TemporaryAux for a cache directory path,
// with rRowsToDiscard as tree_r_last's rows_to_discard.
func encodeTAux(path string, cfg sdr.Config, shapeR merkle.Shape, rRowsToDiscard uint64) []byte {
	var b bytes.Buffer
	binary.Write(&b, binary.LittleEndian, uint64(cfg.Layers))
	for l := 1; l <= cfg.Layers; l++ {
		storeConfig{path, fmt.Sprintf("layer-%d", l), cfg.Nodes, 0}.appendBincode(&b)
	}
	storeConfig{path, KeyTreeD, 2*cfg.Nodes - 1, 0}.appendBincode(&b)
	baseSize := shapeR.BaseTreeLen()
	storeConfig{path, KeyTreeRLast, baseSize, rRowsToDiscard}.appendBincode(&b)
	storeConfig{path, KeyTreeC, baseSize, 0}.appendBincode(&b)
	return b.Bytes()
}

// writeFileAtomic writes data to path through a synced temporary file.
func writeFileAtomic(path string, data []byte) error {
	tmp := path + ".tmp"
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_TRUNC, 0o644)
	if err != nil {
		return fmt.Errorf("creating %s: %w", tmp, err)
	}
	if _, err := f.Write(data); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("writing %s: %w", tmp, err)
	}
	if err := f.Sync(); err != nil {
		f.Close()
		os.Remove(tmp)
		return fmt.Errorf("syncing %s: %w", tmp, err)
	}
	if err := f.Close(); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("closing %s: %w", tmp, err)
	}
	if err := os.Rename(tmp, path); err != nil {
		os.Remove(tmp)
		return fmt.Errorf("renaming %s: %w", tmp, err)
	}
	return nil
}
