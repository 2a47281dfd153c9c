package porep

import (
	"bytes"
	"context"
	"encoding/binary"
	"math/big"
	"math/rand"
	"os"
	"path/filepath"
	"testing"

	"github.com/consensys/gnark-crypto/ecc/bls12-381/fr"

	"sealfleet/seal/merkle"
	"sealfleet/seal/poseidon"
	"sealfleet/seal/sdr"
)

// randomNodes returns n random 32-byte nodes below 2^254 (valid field
// elements, like fr32 data and SDR labels).
func randomNodes(rng *rand.Rand, n uint64) []byte {
	b := make([]byte, n*32)
	rng.Read(b)
	for i := uint64(0); i < n; i++ {
		b[i*32+31] &= 0x3f
	}
	return b
}

// fakeSector writes random data and label layers for cfg into a temp dir
// and returns (cacheDir, unsealedPath, data, layers).
func fakeSector(t *testing.T, cfg sdr.Config, seed int64) (string, string, []byte, [][]byte) {
	return fakeSectorTB(t, cfg, seed)
}

func fakeSectorTB(t testing.TB, cfg sdr.Config, seed int64) (string, string, []byte, [][]byte) {
	t.Helper()
	rng := rand.New(rand.NewSource(seed))
	dir := t.TempDir()
	cache := filepath.Join(dir, "cache")
	if err := os.Mkdir(cache, 0o755); err != nil {
		t.Fatal(err)
	}
	data := randomNodes(rng, cfg.Nodes)
	unsealed := filepath.Join(dir, "unsealed")
	if err := os.WriteFile(unsealed, data, 0o644); err != nil {
		t.Fatal(err)
	}
	var layers [][]byte
	for l := 1; l <= cfg.Layers; l++ {
		lb := randomNodes(rng, cfg.Nodes)
		layers = append(layers, lb)
		if err := os.WriteFile(filepath.Join(cache, sdr.LayerFileName(l)), lb, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return cache, unsealed, data, layers
}

func node(b []byte, i uint64) merkle.Node {
	var n merkle.Node
	copy(n[:], b[i*32:])
	return n
}

// naiveRoot hashes nodes level by level with the given arities.
func naiveRoot(t *testing.T, h merkle.Hasher, arities []int, nodes []merkle.Node) merkle.Node {
	t.Helper()
	for _, a := range arities {
		next := make([]merkle.Node, len(nodes)/a)
		for i := range next {
			n, err := h.Hash(nodes[i*a : (i+1)*a])
			if err != nil {
				t.Fatal(err)
			}
			next[i] = n
		}
		nodes = next
	}
	return nodes[0]
}

func TestPreCommit2MatchesNaive(t *testing.T) {
	cases := []struct {
		name string
		cfg  sdr.Config
	}{
		{"2KiB 2 layers", sdr.Config{Nodes: 64, Layers: 2, Version: sdr.V1_1}},
		{"16KiB 8x8 11 layers", sdr.Config{Nodes: 512, Layers: 11, Version: sdr.V1_1}},
		{"32KiB 8x8x2 2 layers", sdr.Config{Nodes: 1024, Layers: 2, Version: sdr.V1_1}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cfg := tc.cfg
			cache, unsealed, data, layers := fakeSector(t, cfg, 11)
			sealed := filepath.Join(filepath.Dir(cache), "sealed")
			replicaID := [32]byte{1, 2, 3}
			commD, commR, err := PreCommit2(context.Background(), cfg, cache, unsealed, sealed, replicaID)
			if err != nil {
				t.Fatal(err)
			}
			_, shapeR, _ := Shapes(cfg)
			var dataNodes, cols, sealedNodes []merkle.Node
			q := fr.Modulus()
			wantSealed := make([]byte, 0, len(data))
			for i := uint64(0); i < cfg.Nodes; i++ {
				dataNodes = append(dataNodes, node(data, i))
				col := make([][32]byte, cfg.Layers)
				for l := range layers {
					col[l] = node(layers[l], i)
				}
				c, err := poseidon.HashBytes(col)
				if err != nil {
					t.Fatal(err)
				}
				cols = append(cols, merkle.Node(c))
				s := addLE(node(data, i), node(layers[cfg.Layers-1], i), q)
				sealedNodes = append(sealedNodes, s)
				wantSealed = append(wantSealed, s[:]...)
			}
			var binArities []int
			for n := cfg.Nodes; n > 1; n /= 2 {
				binArities = append(binArities, 2)
			}
			if want := naiveRoot(t, merkle.SHA254, binArities, dataNodes); commD != want {
				t.Errorf("comm_d %x, want %x", commD, want)
			}
			commC := naiveRoot(t, merkle.Poseidon, shapeR.LevelArities(), cols)
			commRLast := naiveRoot(t, merkle.Poseidon, shapeR.LevelArities(), sealedNodes)
			wantR, _ := poseidon.HashBytes([][32]byte{commC, commRLast})
			if commR != wantR {
				t.Errorf("comm_r %x, want %x", commR, wantR)
			}
			got, err := os.ReadFile(sealed)
			if err != nil {
				t.Fatal(err)
			}
			if !bytes.Equal(got, wantSealed) {
				t.Error("sealed file differs from data + label_L mod r")
			}
			paux, err := ReadPAux(cache)
			if err != nil {
				t.Fatal(err)
			}
			if paux.CommC != commC || paux.CommRLast != commRLast {
				t.Error("p_aux does not hold comm_c ‖ comm_r_last")
			}
			checkCacheFiles(t, cache, cfg, shapeR)
		})
	}
}

// addLE returns (a + b) mod q on little-endian encodings, via math/big.
func addLE(a, b merkle.Node, q *big.Int) merkle.Node {
	toBig := func(n merkle.Node) *big.Int {
		r := make([]byte, 32)
		for i := range r {
			r[i] = n[31-i]
		}
		return new(big.Int).SetBytes(r)
	}
	s := new(big.Int).Add(toBig(a), toBig(b))
	s.Mod(s, q)
	var out merkle.Node
	be := s.FillBytes(make([]byte, 32))
	for i := range out {
		out[i] = be[31-i]
	}
	return out
}

// checkCacheFiles checks the tree file names and sizes and t_aux's shape.
func checkCacheFiles(t *testing.T, cache string, cfg sdr.Config, shapeR merkle.Shape) {
	t.Helper()
	wantSize := map[string]int64{TreeDPath(cache): int64((2*cfg.Nodes - 1) * 32)}
	for _, p := range TreeCPaths(cache, shapeR) {
		wantSize[p] = int64(shapeR.BaseTreeNodes() * 32)
	}
	shapeRLast, err := TreeRLastShape(cfg)
	if err != nil {
		t.Fatal(err)
	}
	if shapeRLast.Discard == 0 {
		t.Errorf("tree_r_last of %d nodes keeps every level", cfg.Nodes)
	}
	for _, p := range TreeRLastPaths(cache, shapeRLast) {
		wantSize[p] = int64(shapeRLast.BaseTreeNodes() * 32) // LevelCacheStore size
	}
	for p, size := range wantSize {
		st, err := os.Stat(p)
		if err != nil {
			t.Fatal(err)
		}
		if st.Size() != size {
			t.Errorf("%s: %d bytes, want %d", filepath.Base(p), st.Size(), size)
		}
	}
	entries, _ := os.ReadDir(cache)
	for _, e := range entries {
		if filepath.Ext(e.Name()) == ".tmp" {
			t.Errorf("temporary file %s left behind", e.Name())
		}
	}
	taux, err := os.ReadFile(filepath.Join(cache, TAuxFile))
	if err != nil {
		t.Fatal(err)
	}
	if n := binary.LittleEndian.Uint64(taux); n != uint64(cfg.Layers) {
		t.Errorf("t_aux holds %d label configs, want %d", n, cfg.Layers)
	}
	if !bytes.Contains(taux, []byte("tree-r-last")) || !bytes.Contains(taux, []byte("layer-1")) {
		t.Error("t_aux lacks the store ids")
	}
}

func TestPreCommit2BadInput(t *testing.T) {
	cfg := sdr.Config{Nodes: 64, Layers: 2, Version: sdr.V1_1}
	cases := []struct {
		name    string
		prepare func(cache, unsealed string) (sdr.Config, [32]byte)
	}{
		{"short data", func(cache, unsealed string) (sdr.Config, [32]byte) {
			os.WriteFile(unsealed, make([]byte, 100), 0o644)
			return cfg, [32]byte{}
		}},
		{"missing layer", func(cache, unsealed string) (sdr.Config, [32]byte) {
			os.Remove(filepath.Join(cache, sdr.LayerFileName(2)))
			return cfg, [32]byte{}
		}},
		{"bad replica id", func(cache, unsealed string) (sdr.Config, [32]byte) {
			return cfg, [32]byte{31: 0xff}
		}},
		{"unsupported size", func(cache, unsealed string) (sdr.Config, [32]byte) {
			c := cfg
			c.Nodes = 100
			return c, [32]byte{}
		}},
		{"label not a field element", func(cache, unsealed string) (sdr.Config, [32]byte) {
			os.WriteFile(filepath.Join(cache, sdr.LayerFileName(1)), bytes.Repeat([]byte{0xff}, 64*32), 0o644)
			return cfg, [32]byte{}
		}},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			cache, unsealed, _, _ := fakeSector(t, cfg, 5)
			c, rid := tc.prepare(cache, unsealed)
			sealed := filepath.Join(filepath.Dir(cache), "sealed")
			if _, _, err := PreCommit2(context.Background(), c, cache, unsealed, sealed, rid); err == nil {
				t.Fatal("expected an error")
			} else {
				t.Log(err)
			}
			if _, err := os.Stat(sealed); !os.IsNotExist(err) {
				t.Error("sealed file written despite the error")
			}
		})
	}
}

func TestEncodeDecodeNode(t *testing.T) {
	q := fr.Modulus()
	qm1 := new(big.Int).Sub(q, big.NewInt(1))
	le := func(v *big.Int) []byte {
		be := v.FillBytes(make([]byte, 32))
		out := make([]byte, 32)
		for i := range out {
			out[i] = be[31-i]
		}
		return out
	}
	rng := rand.New(rand.NewSource(8))
	cases := []struct {
		name      string
		data, key []byte
		ok        bool
	}{
		{"zero", make([]byte, 32), make([]byte, 32), true},
		{"wraps", le(qm1), le(big.NewInt(5)), true},
		{"random", randomNodes(rng, 1), randomNodes(rng, 1), true},
		{"data not canonical", le(q), make([]byte, 32), false},
		{"key not canonical", make([]byte, 32), bytes.Repeat([]byte{0xff}, 32), false},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			enc := make([]byte, 32)
			err := EncodeNode(enc, tc.data, tc.key)
			if (err == nil) != tc.ok {
				t.Fatalf("encode error %v, want ok=%v", err, tc.ok)
			}
			if !tc.ok {
				return
			}
			var d, k merkle.Node
			copy(d[:], tc.data)
			copy(k[:], tc.key)
			if want := addLE(d, k, q); !bytes.Equal(enc, want[:]) {
				t.Fatalf("encode %x, want %x", enc, want)
			}
			dec := make([]byte, 32)
			if err := DecodeNode(dec, enc, tc.key); err != nil || !bytes.Equal(dec, tc.data) {
				t.Fatalf("decode %x (%v), want %x", dec, err, tc.data)
			}
		})
	}
}
