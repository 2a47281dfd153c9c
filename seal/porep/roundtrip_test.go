package porep

import (
	"bytes"
	"context"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/merkle"
	"sealfleet/seal/sdr"
)

// sector is a small sector sealed for a test: PC1 through sdr, then PC2.
type sector struct {
	cfg                           sdr.Config
	cache, unsealed, sealed       string
	replicaID, seed, commD, commR [32]byte
	data                          []byte
	layers                        [][]byte
}

// tamperFunc may change the label layer files after PC1 and before PC2.
type tamperFunc func(t testing.TB, s *sector)

// sealTestSector labels random data with sdr.Label (PC1, parents cache in
// a temp dir), runs PreCommit2 and returns the sector. before, if not nil, runs
// between labelling and PC2.
func sealTestSector(t testing.TB, proof abi.RegisteredSealProof, rngSeed int64, before tamperFunc) *sector {
	t.Helper()
	cfg, err := sdr.ConfigFor(proof)
	if err != nil {
		t.Fatal(err)
	}
	return sealTestConfig(t, cfg, rngSeed, before)
}

// sealTestConfig is sealTestSector for an explicit graph configuration.
func sealTestConfig(t testing.TB, cfg sdr.Config, rngSeed int64, before tamperFunc) *sector {
	t.Helper()
	rng := rand.New(rand.NewSource(rngSeed))
	dir := t.TempDir()
	s := &sector{cfg: cfg, cache: filepath.Join(dir, "cache"), unsealed: filepath.Join(dir, "unsealed"), sealed: filepath.Join(dir, "sealed")}
	if err := os.Mkdir(s.cache, 0o755); err != nil {
		t.Fatal(err)
	}
	s.data = randomNodes(rng, cfg.Nodes)
	if err := os.WriteFile(s.unsealed, s.data, 0o644); err != nil {
		t.Fatal(err)
	}
	// comm_d before PC1: the replica id depends on it.
	commD, err := merkle.BuildFile(context.Background(), filepath.Join(dir, "tree-d-pre"), merkle.SHA254, 2, cfg.Nodes, 0,
		func(start uint64, buf []byte) error { copy(buf, s.data[start*32:]); return nil }, 1)
	if err != nil {
		t.Fatal(err)
	}
	var ticket [32]byte
	rng.Read(ticket[:])
	rng.Read(s.seed[:])
	s.replicaID = sdr.ReplicaID(sdr.ProverID(1000), 7, ticket, commD, cfg.PoRepID)
	pc, err := sdr.OpenParentsCache(t.TempDir(), cfg)
	if err != nil {
		t.Fatal(err)
	}
	defer pc.Close()
	if err := sdr.Label(context.Background(), cfg, pc, s.replicaID, s.cache); err != nil {
		t.Fatal(err)
	}
	if before != nil {
		before(t, s)
	}
	s.commD, s.commR, err = PreCommit2(context.Background(), cfg, s.cache, s.unsealed, s.sealed, s.replicaID)
	if err != nil {
		t.Fatal(err)
	}
	if s.commD != commD {
		t.Fatalf("PC2 comm_d %x, computed before PC1 %x", s.commD, commD)
	}
	return s
}

// TestRoundTripCompound seals a 16KiB-shaped sector (512 nodes: tree_c and
// tree_r_last of 8 base trees under a Poseidon-8 top, as 32GiB) with 11
// layers (arity-11 columns, as 32GiB) and checks C1 and verification.
func TestRoundTripCompound(t *testing.T) {
	porepID, _ := sdr.PoRepID(abi.RegisteredSealProof_StackedDrg32GiBV1_1)
	cfg := sdr.Config{Nodes: 512, Layers: 11, PoRepID: porepID, Version: sdr.V1_1}
	s := sealTestConfig(t, cfg, 5, nil)
	_, shape, _ := Shapes(cfg)
	if n := len(TreeCPaths(s.cache, shape)); n != 8 {
		t.Fatalf("%d tree_c files, want 8", n)
	}
	out, err := Commit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR)
	if err != nil {
		t.Fatal(err)
	}
	if got := len(out.Proofs[0].Column.Proof.Path); got != 3 {
		t.Fatalf("tree_c path has %d levels, want 3 (2 base levels of 64 leaves + top)", got)
	}
	c := s.challenges()[1]
	flipAt(t, filepath.Join(s.cache, sdr.LayerFileName(11)), int64(c*32))
	if _, err := Commit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR); err == nil ||
		!strings.Contains(err.Error(), "challenge 1 (node "+itoa(c)+"): column of the node") {
		t.Fatalf("error %v", err)
	}
}

func (s *sector) challenges() []uint64 {
	layout, _ := LayoutFor(s.cfg)
	return Challenges(s.cfg.Nodes, s.replicaID, s.seed, layout)
}

func TestRoundTrip2KiB(t *testing.T) {
	for _, proof := range []abi.RegisteredSealProof{abi.RegisteredSealProof_StackedDrg2KiBV1, abi.RegisteredSealProof_StackedDrg2KiBV1_1} {
		t.Run(itoa(uint64(proof)), func(t *testing.T) {
			s := sealTestSector(t, proof, 42, nil)
			out, err := Commit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR)
			if err != nil {
				t.Fatal(err)
			}
			if len(out.Proofs) != 2 {
				t.Fatalf("%d proofs, want 2", len(out.Proofs))
			}
			var buf bytes.Buffer
			if err := out.WriteJSON(&buf); err != nil {
				t.Fatal(err)
			}
			back, err := ReadCommit1JSON(&buf)
			if err != nil {
				t.Fatal(err)
			}
			if err := VerifyCommit1(back, s.commR, s.commD, s.replicaID, s.seed, s.cfg); err != nil {
				t.Fatalf("decoded output does not verify: %v", err)
			}
			if _, sealed, err := CIDs(s.commD, s.commR); err != nil || !strings.HasPrefix(sealed.String(), "bagboea4b5abc") {
				t.Fatalf("sealed cid %v (%v)", sealed, err)
			}
		})
	}
}

// flipAt xors one bit of byte off in a file.
func flipAt(t testing.TB, path string, off int64) {
	t.Helper()
	f, err := os.OpenFile(path, os.O_RDWR, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	var b [1]byte
	if _, err := f.ReadAt(b[:], off); err != nil {
		t.Fatal(err)
	}
	b[0] ^= 1
	if _, err := f.WriteAt(b[:], off); err != nil {
		t.Fatal(err)
	}
}

// TestTamperedFiles corrupts one input of C1 at a challenged node and
// expects verification (and Commit1's self-check) to name the failed check.
func TestTamperedFiles(t *testing.T) {
	proof := abi.RegisteredSealProof_StackedDrg2KiBV1_1
	cases := []struct {
		name   string
		before tamperFunc
		after  func(t *testing.T, s *sector, c uint64)
		want   string
	}{
		{"sealed file", nil, func(t *testing.T, s *sector, c uint64) { flipAt(t, s.sealed, int64(c*32)) },
			"challenge 0 (node %d): tree_r_last inclusion"},
		{"layer file", nil, func(t *testing.T, s *sector, c uint64) {
			flipAt(t, filepath.Join(s.cache, sdr.LayerFileName(1)), int64(c*32))
		}, "challenge 0 (node %d): column of the node: labels hash to"},
		{"tree_r_last sibling", nil, func(t *testing.T, s *sector, c uint64) {
			// The file starts with the lowest stored level; flip the
			// sibling of c's ancestor there.
			shape, _ := TreeRLastShape(s.cfg)
			anc := c
			for i := 0; i < shape.Discard; i++ {
				anc /= 8
			}
			flipAt(t, TreeRLastPaths(s.cache, shape)[0], int64((anc^1)*32))
		}, "challenge 0 (node %d): tree_r_last inclusion"},
		{"sealed sibling", nil, func(t *testing.T, s *sector, c uint64) { flipAt(t, s.sealed, int64((c^1)*32)) },
			"challenge 0 (node %d): tree_r_last inclusion"},
		{"tree_d sibling", nil, func(t *testing.T, s *sector, c uint64) { flipAt(t, TreeDPath(s.cache), int64((c^1)*32)) },
			"challenge 0 (node %d): tree_d inclusion"},
		{"label changed before PC2", func(t testing.TB, s *sector) {
			c := s.challenges()[0]
			flipAt(t, filepath.Join(s.cache, sdr.LayerFileName(2)), int64(c*32))
		}, nil, "challenge 0 (node %d): labeling: layer 2 label"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := sealTestSector(t, proof, 9, tc.before)
			c := s.challenges()[0]
			if tc.after != nil {
				tc.after(t, s, c)
			}
			want := strings.Replace(tc.want, "%d", itoa(c), 1)
			out, err := buildCommit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR)
			if err != nil {
				t.Fatal(err)
			}
			err = VerifyCommit1(out, s.commR, s.commD, s.replicaID, s.seed, s.cfg)
			if err == nil || !errors.Is(err, ErrInvalidProof) || !strings.Contains(err.Error(), want) {
				t.Fatalf("verify error %v, want one containing %q", err, want)
			}
			if _, err := Commit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR); err == nil {
				t.Fatal("Commit1 accepted a corrupted sector")
			}
		})
	}
}

func itoa(v uint64) string {
	var b []byte
	for {
		b = append([]byte{byte('0' + v%10)}, b...)
		v /= 10
		if v == 0 {
			return string(b)
		}
	}
}

// TestTamperedProof edits a valid output and expects a named failure.
func TestTamperedProof(t *testing.T) {
	s := sealTestSector(t, abi.RegisteredSealProof_StackedDrg2KiBV1_1, 3, nil)
	good, err := Commit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR)
	if err != nil {
		t.Fatal(err)
	}
	var enc bytes.Buffer
	good.WriteJSON(&enc)
	cases := []struct {
		name   string
		mutate func(o *Commit1Output)
		want   string
	}{
		{"data leaf", func(o *Commit1Output) { o.Proofs[1].CommDProof.Leaf[0] ^= 1 }, "challenge 1 (node"},
		{"drg parent label", func(o *Commit1Output) { o.Proofs[0].DRGParents[2].Rows[0][3] ^= 1 }, "column of parent 2"},
		{"expander parent index", func(o *Commit1Output) { o.Proofs[0].ExpParents[0].Index++ }, "column of parent 6"},
		{"node label and tree_c leaf", func(o *Commit1Output) { o.Proofs[0].Column.Rows[1][0] ^= 1 }, "column of the node"},
		{"sealed leaf", func(o *Commit1Output) { o.Proofs[0].CommRLast.Leaf[0] ^= 1 }, "tree_r_last inclusion"},
		{"comm_c", func(o *Commit1Output) { o.CommC[0] ^= 1 }, "is not Poseidon_2(comm_c, comm_r_last)"},
		{"missing proof", func(o *Commit1Output) { o.Proofs = o.Proofs[:1] }, "1 challenge proofs, want 2"},
		{"missing parent", func(o *Commit1Output) { o.Proofs[1].ExpParents = o.Proofs[1].ExpParents[:7] }, "7 expander parent columns"},
		{"short column", func(o *Commit1Output) { o.Proofs[1].Column.Rows = o.Proofs[1].Column.Rows[:1] }, "1 labels, want 2"},
		{"challenge swapped", func(o *Commit1Output) { o.Proofs[0], o.Proofs[1] = o.Proofs[1], o.Proofs[0] }, "challenge 0"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			o, err := ReadCommit1JSON(bytes.NewReader(enc.Bytes()))
			if err != nil {
				t.Fatal(err)
			}
			tc.mutate(o)
			err = VerifyCommit1(o, s.commR, s.commD, s.replicaID, s.seed, s.cfg)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("error %v, want one containing %q", err, tc.want)
			}
		})
	}
	t.Run("wrong seed", func(t *testing.T) {
		seed := s.seed
		seed[0] ^= 1
		if err := VerifyCommit1(good, s.commR, s.commD, s.replicaID, seed, s.cfg); err == nil || !strings.Contains(err.Error(), "seed") {
			t.Fatalf("error %v", err)
		}
	})
}

func TestChallenges(t *testing.T) {
	replicaID, seed := [32]byte{1}, [32]byte{2}
	cases := []struct {
		name   string
		nodes  uint64
		layout ChallengeLayout
	}{
		{"2KiB", 64, ChallengeLayout{1, 2}},
		{"32GiB", 1 << 30, ChallengeLayout{10, 18}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			all := Challenges(tc.nodes, replicaID, seed, tc.layout)
			if len(all) != tc.layout.Total() {
				t.Fatalf("%d challenges", len(all))
			}
			for _, c := range all {
				if c == 0 || c >= tc.nodes {
					t.Fatalf("challenge %d outside [1, %d)", c, tc.nodes)
				}
			}
			// Partition k's challenges are indices k·n .. k·n+n−1 of one
			// long list (challenges.rs, test_challenges_partition...).
			one := Challenges(tc.nodes, replicaID, seed, ChallengeLayout{1, tc.layout.Total()})
			for i := range one {
				if one[i] != all[i] {
					t.Fatalf("challenge %d differs between layouts", i)
				}
			}
		})
	}
	if l, err := LayoutFor(sdr.Config{Nodes: 1 << 30, PoRepID: [32]byte{8}}); err != nil || l.Total() != 180 {
		t.Fatalf("32GiB layout %+v %v", l, err)
	}
	if _, err := LayoutFor(sdr.Config{Nodes: 64, PoRepID: [32]byte{10}}); err == nil {
		t.Fatal("synthetic proof accepted")
	}
}
