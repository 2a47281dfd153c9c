package porep

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"runtime"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// Commit1 produces the vanilla proofs of the interactive challenges drawn
// from seed for a sector sealed by PreCommit2 (cache directory with layer
// files, trees and p_aux; replica at sealedPath). It checks that the cache
// matches commD and commR before proving and verifies its own output with
// VerifyCommit1 before returning it, so a corrupted cache or replica is
// reported here rather than after an expensive C2.
func Commit1(ctx context.Context, cfg sdr.Config, cacheDir, sealedPath string, replicaID, seed, commD, commR [32]byte) (*Commit1Output, error) {
	out, err := buildCommit1(ctx, cfg, cacheDir, sealedPath, replicaID, seed, commD, commR)
	if err != nil {
		return nil, err
	}
	if err := VerifyCommit1(out, commR, commD, replicaID, seed, cfg); err != nil {
		return nil, fmt.Errorf("commit1 self-check: %w", err)
	}
	return out, nil
}

// c1Sources are the open files Commit1 reads from.
type c1Sources struct {
	treeD, treeC, treeR *merkle.Tree
	layers              []*os.File
	sealed              *os.File
	graph               *sdr.Graph
	cfg                 sdr.Config
}

func (s *c1Sources) close() {
	for _, t := range []*merkle.Tree{s.treeD, s.treeC, s.treeR} {
		if t != nil {
			t.Close()
		}
	}
	closeAll(s.layers)
	if s.sealed != nil {
		s.sealed.Close()
	}
}

// openC1Sources opens the trees, layers and replica and checks the roots
// against commD and p_aux, and p_aux against commR.
func openC1Sources(cfg sdr.Config, cacheDir, sealedPath string, commD, commR [32]byte) (*c1Sources, PAux, error) {
	shapeD, shapeR, err := Shapes(cfg)
	if err != nil {
		return nil, PAux{}, err
	}
	paux, err := ReadPAux(cacheDir)
	if err != nil {
		return nil, PAux{}, err
	}
	if r, err := ComposeCommR(paux.CommC, paux.CommRLast); err != nil || r != commR {
		return nil, PAux{}, fmt.Errorf("p_aux in %s does not compose to comm_r %x", cacheDir, commR)
	}
	s := &c1Sources{cfg: cfg}
	fail := func(err error) (*c1Sources, PAux, error) { s.close(); return nil, PAux{}, err }
	if s.treeD, err = merkle.Open([]string{TreeDPath(cacheDir)}, shapeD, merkle.SHA254); err != nil {
		return fail(fmt.Errorf("opening tree_d: %w", err))
	}
	if s.treeD.Root() != commD {
		return fail(fmt.Errorf("tree_d root %x is not comm_d %x", s.treeD.Root(), commD))
	}
	if s.treeC, err = merkle.Open(TreeCPaths(cacheDir, shapeR), shapeR, merkle.Poseidon); err != nil {
		return fail(fmt.Errorf("opening tree_c: %w", err))
	}
	if s.treeC.Root() != paux.CommC {
		return fail(fmt.Errorf("tree_c root %x is not p_aux comm_c %x", s.treeC.Root(), paux.CommC))
	}
	if s.sealed, err = openSized(sealedPath, cfg.Nodes*merkle.NodeSize, "sealed replica"); err != nil {
		return fail(err)
	}
	shapeRLast, err := TreeRLastShape(cfg)
	if err != nil {
		return fail(err)
	}
	if s.treeR, err = merkle.OpenWithLeaves(TreeRLastPaths(cacheDir, shapeRLast), shapeRLast, merkle.Poseidon, s.sealed); err != nil {
		return fail(fmt.Errorf("opening tree_r_last: %w", err))
	}
	if s.treeR.Root() != paux.CommRLast {
		return fail(fmt.Errorf("tree_r_last root %x is not p_aux comm_r_last %x", s.treeR.Root(), paux.CommRLast))
	}
	if s.layers, err = openLayers(cacheDir, cfg); err != nil {
		return fail(err)
	}
	if s.graph, err = sdr.NewGraph(cfg); err != nil {
		return fail(err)
	}
	return s, paux, nil
}

func buildCommit1(ctx context.Context, cfg sdr.Config, cacheDir, sealedPath string, replicaID, seed, commD, commR [32]byte) (*Commit1Output, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	layout, err := LayoutFor(cfg)
	if err != nil {
		return nil, err
	}
	src, paux, err := openC1Sources(cfg, filepath.Clean(cacheDir), sealedPath, commD, commR)
	if err != nil {
		return nil, err
	}
	defer src.close()
	out := &Commit1Output{
		Version: Commit1FormatVersion, PoRepID: cfg.PoRepID, Nodes: cfg.Nodes, Layers: cfg.Layers,
		Partitions: layout.Partitions, PerPartition: layout.PerPartition,
		ReplicaID: replicaID, Seed: seed, CommD: commD, CommR: commR,
		CommC: paux.CommC, CommRLast: paux.CommRLast,
	}
	challenges := Challenges(cfg.Nodes, replicaID, seed, layout)
	out.Proofs = make([]ChallengeProof, len(challenges))
	err = merkle.Parallel(len(challenges), 1, runtime.GOMAXPROCS(0), func(lo, hi int) error {
		for j := lo; j < hi; j++ {
			if err := ctx.Err(); err != nil {
				return err
			}
			p, err := src.proveChallenge(challenges[j])
			if err != nil {
				return fmt.Errorf("challenge %d (node %d): %w", j, challenges[j], err)
			}
			out.Proofs[j] = *p
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("commit1: %w", err)
	}
	return out, nil
}

// proveChallenge builds the vanilla proof of node c.
func (s *c1Sources) proveChallenge(c uint64) (*ChallengeProof, error) {
	p := &ChallengeProof{Challenge: c}
	dp, err := s.treeD.Prove(c)
	if err != nil {
		return nil, fmt.Errorf("tree_d proof: %w", err)
	}
	p.CommDProof = *dp
	rp, err := s.treeR.Prove(c)
	if err != nil {
		return nil, fmt.Errorf("tree_r_last proof: %w", err)
	}
	// The leaf and the discarded lower levels come from the replica, as
	// in the reference's level-cache tree_r_last.
	p.CommRLast = *rp
	if p.Column, err = s.column(c); err != nil {
		return nil, err
	}
	var parents [sdr.TotalParents]uint32
	s.graph.Parents(c, &parents)
	for i, par := range parents {
		col, err := s.column(uint64(par))
		if err != nil {
			return nil, fmt.Errorf("parent %d: %w", i, err)
		}
		if i < sdr.BaseDegree {
			p.DRGParents = append(p.DRGParents, col)
		} else {
			p.ExpParents = append(p.ExpParents, col)
		}
	}
	return p, nil
}

// column opens column idx: the labels of all layers and the tree_c proof.
func (s *c1Sources) column(idx uint64) (ColumnProof, error) {
	cp := ColumnProof{Index: idx, Rows: make([]merkle.Node, len(s.layers))}
	for l, f := range s.layers {
		if _, err := f.ReadAt(cp.Rows[l][:], int64(idx*merkle.NodeSize)); err != nil {
			return ColumnProof{}, fmt.Errorf("reading layer %d node %d: %w", l+1, idx, err)
		}
	}
	tp, err := s.treeC.Prove(idx)
	if err != nil {
		return ColumnProof{}, fmt.Errorf("tree_c proof of column %d: %w", idx, err)
	}
	cp.Proof = *tp
	return cp, nil
}
