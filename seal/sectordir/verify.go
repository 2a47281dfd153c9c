package sectordir

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"

	"sealfleet/seal/merkle"
	"sealfleet/seal/native"
	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
)

// Check is the outcome of one verification step.
type Check struct {
	Name   string `json:"name"`
	Status string `json:"status"` // "ok", "skipped" or "failed"
	Detail string `json:"detail,omitempty"`
}

// ErrVerify wraps every verification failure.
var ErrVerify = errors.New("sector verification failed")

// Verify re-verifies the sealed sector in dir from its files:
//   - proof: the C2 proof artifact against the public inputs of seal.json (vanilla artifacts only);
//   - p_aux: Poseidon_2(comm_c, comm_r_last) equals CommR;
//   - tree_r_last: the tree rebuilt from the sealed file has root comm_r_last and equals the stored tree files;
//   - layers: (while the cache still has them) labels regenerated from the ticket equal every layer file;
//   - c1: (likewise) fresh vanilla proofs for the seed's challenges, drawn from the files, verify;
//   - unsealed: (if the whole unsealed copy is present) its tree_d root equals CommD.
//
// It returns every check's outcome and, if any failed, an error wrapping ErrVerify that names the first failure.
func Verify(ctx context.Context, b *native.Backend, dir string) ([]Check, error) {
	rec, err := ReadRecord(dir)
	if err != nil {
		return nil, err
	}
	pub, _, err := rec.Public()
	if err != nil {
		return nil, err
	}
	cfg, err := sdr.ConfigFor(rec.ProofType)
	if err != nil {
		return nil, err
	}
	paths := Paths(dir, pub.Sector.ID)
	scratch, err := os.MkdirTemp(dir, ".verify-")
	if err != nil {
		return nil, err
	}
	defer os.RemoveAll(scratch)

	v := verifier{ctx: ctx, b: b, dir: dir, scratch: scratch, pub: pub, cfg: cfg, cache: paths.Cache, sealed: paths.Sealed, unsealed: paths.Unsealed}
	steps := []struct {
		name string
		fn   func() (skip string, err error)
	}{
		{"proof", v.proof}, {"p_aux", v.pAux}, {"tree_r_last", v.treeRLast}, {"layers", v.layers},
		{"c1", v.commit1}, {"unsealed", v.unsealedData},
	}
	var checks []Check
	var first error
	for _, s := range steps {
		skip, err := s.fn()
		switch {
		case err != nil:
			checks = append(checks, Check{Name: s.name, Status: "failed", Detail: err.Error()})
			if first == nil {
				first = fmt.Errorf("%w: %s: %v", ErrVerify, s.name, err)
			}
		case skip != "":
			checks = append(checks, Check{Name: s.name, Status: "skipped", Detail: skip})
		default:
			checks = append(checks, Check{Name: s.name, Status: "ok"})
		}
	}
	return checks, first
}

type verifier struct {
	ctx                     context.Context
	b                       *native.Backend
	dir, scratch            string
	pub                     native.PublicInputs
	cfg                     sdr.Config
	cache, sealed, unsealed string
}

func (v verifier) proof() (string, error) {
	proof, err := os.ReadFile(filepath.Join(v.dir, ProofFile))
	if err != nil {
		return "", err
	}
	if !bytes.Contains(proof, []byte(native.VanillaFormat)) {
		return "not a vanilla proof artifact; check it with the external prover's verifier", nil
	}
	return "", native.VerifyVanillaProof(proof, v.pub)
}

func (v verifier) pAux() (string, error) {
	paux, err := porep.ReadPAux(v.cache)
	if err != nil {
		return "", err
	}
	commR, err := porep.ComposeCommR(paux.CommC, paux.CommRLast)
	if err != nil {
		return "", err
	}
	if commR != v.pub.CommR {
		return "", fmt.Errorf("Poseidon(comm_c, comm_r_last) = %x, CommR is %x", commR, v.pub.CommR)
	}
	return "", nil
}

func (v verifier) treeRLast() (string, error) {
	paux, err := porep.ReadPAux(v.cache)
	if err != nil {
		return "", err
	}
	// Rebuild in the layout PC2 stores (the reference's rows_to_discard), so the files compare byte for byte.
	shape, err := porep.TreeRLastShape(v.cfg)
	if err != nil {
		return "", err
	}
	sealed, err := os.Open(v.sealed)
	if err != nil {
		return "", err
	}
	defer sealed.Close()
	rebuilt := porep.TreeRLastPaths(v.scratch, shape)
	root, _, err := merkle.BuildTrees(v.ctx, rebuilt, shape, merkle.Poseidon, func(start uint64, buf []byte) error {
		_, err := sealed.ReadAt(buf, int64(start*merkle.NodeSize))
		return err
	}, 0)
	if err != nil {
		return "", fmt.Errorf("rebuilding from the sealed file: %w", err)
	}
	if root != paux.CommRLast {
		return "", fmt.Errorf("the sealed file hashes to %x, p_aux comm_r_last is %x: the sealed file was altered", root, paux.CommRLast)
	}
	for i, stored := range porep.TreeRLastPaths(v.cache, shape) {
		if err := sameFile(stored, rebuilt[i]); err != nil {
			return "", fmt.Errorf("%s: %w", filepath.Base(stored), err)
		}
	}
	return "", nil
}

func (v verifier) layers() (string, error) {
	if !v.hasLayers() {
		return "layers removed by finalize", nil
	}
	if err := v.b.Relabel(v.ctx, v.pub.Sector, v.pub.Ticket, v.pub.CommD, v.scratch); err != nil {
		return "", err
	}
	for l := 1; l <= v.cfg.Layers; l++ {
		name := sdr.LayerFileName(l)
		if err := sameFile(filepath.Join(v.cache, name), filepath.Join(v.scratch, name)); err != nil {
			return "", fmt.Errorf("%s: %w", name, err)
		}
	}
	return "", nil
}

func (v verifier) hasLayers() bool {
	_, err := os.Stat(filepath.Join(v.cache, sdr.LayerFileName(v.cfg.Layers)))
	return err == nil
}

func (v verifier) commit1() (string, error) {
	if !v.hasLayers() {
		return "layers removed by finalize", nil
	}
	replicaID, err := native.ReplicaIDFor(v.pub.Sector, v.pub.Ticket, v.pub.CommD)
	if err != nil {
		return "", err
	}
	_, err = porep.Commit1(v.ctx, v.cfg, v.cache, v.sealed, replicaID, v.pub.Seed, v.pub.CommD, v.pub.CommR)
	return "", err
}

func (v verifier) unsealedData() (string, error) {
	f, err := os.Open(v.unsealed)
	if os.IsNotExist(err) {
		return "no unsealed copy", nil
	}
	if err != nil {
		return "", err
	}
	defer f.Close()
	root, err := merkle.BuildFile(v.ctx, filepath.Join(v.scratch, "tree-d"), merkle.SHA254, 2, v.cfg.Nodes, 0,
		func(start uint64, buf []byte) error {
			_, err := f.ReadAt(buf, int64(start*merkle.NodeSize))
			return err
		}, 0)
	if err != nil {
		return "", err
	}
	if root != v.pub.CommD {
		return "", fmt.Errorf("the unsealed data hashes to %x, CommD is %x", root, v.pub.CommD)
	}
	return "", nil
}

// sameFile compares two files and names the first differing 32-byte node.
func sameFile(a, b string) error {
	fa, err := os.Open(a)
	if err != nil {
		return err
	}
	defer fa.Close()
	fb, err := os.Open(b)
	if err != nil {
		return err
	}
	defer fb.Close()
	ba, bb := make([]byte, 1<<20), make([]byte, 1<<20)
	for off := int64(0); ; off += int64(len(ba)) {
		na, ea := io.ReadFull(fa, ba)
		nb, _ := io.ReadFull(fb, bb)
		if na != nb {
			return fmt.Errorf("size differs from the recomputed file")
		}
		if i := firstDiff(ba[:na], bb[:nb]); i >= 0 {
			return fmt.Errorf("differs from the recomputed value at node %d", (off+int64(i))/32)
		}
		if ea != nil {
			return nil
		}
	}
}

func firstDiff(a, b []byte) int {
	for i := range a {
		if a[i] != b[i] {
			return i
		}
	}
	return -1
}
