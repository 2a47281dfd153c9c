package sectordir

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"errors"
	"math/rand"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/seal/native"
	"sealfleet/seal/porep"
	"sealfleet/seal/sdr"
	"sealfleet/storiface"
)

func sealTestDir(t *testing.T, proof abi.RegisteredSealProof, data []byte) (*native.Backend, string, Record) {
	t.Helper()
	b := native.New(native.Config{ParentsCacheDir: t.TempDir()})
	t.Cleanup(func() { b.Close() })
	dir := t.TempDir()
	req := SealRequest{Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 1}, ProofType: proof}}
	req.Ticket[0], req.Seed[0] = 1, 2
	if data != nil {
		req.Data, req.DataSize = bytes.NewReader(data), uint64(len(data))
	}
	rec, err := Seal(context.Background(), b, dir, req, native.VanillaProver{})
	if err != nil {
		t.Fatalf("seal: %v", err)
	}
	return b, dir, rec
}

func TestSealVerifyUnseal2KiB(t *testing.T) {
	ctx := context.Background()
	data := make([]byte, 1500) // not a piece size: zero-filled to 2032 bytes
	rand.New(rand.NewSource(1)).Read(data)
	b, dir, rec := sealTestDir(t, abi.RegisteredSealProof_StackedDrg2KiBV1_1, data)
	if len(rec.Challenges) == 0 || rec.CommR == "" || rec.Seconds["PC1"] <= 0 {
		t.Fatalf("record incomplete: %+v", rec)
	}
	// The C1 output in filecoin-ffi's form, with the sector's ticket.
	var ffi porep.FFICommit1
	if raw, err := os.ReadFile(filepath.Join(dir, FFICommit1File)); err != nil || json.Unmarshal(raw, &ffi) != nil ||
		hex.EncodeToString(ffi.Ticket[:]) != rec.Ticket || ffi.RegisteredProof != "StackedDrg2KiBV1_1" {
		t.Fatalf("%s: %v, ticket %x, proof %q (record ticket %s)", FFICommit1File, err, ffi.Ticket, ffi.RegisteredProof, rec.Ticket)
	}
	checks, err := Verify(ctx, b, dir)
	if err != nil {
		t.Fatalf("verify: %v (%+v)", err, checks)
	}
	for _, c := range checks {
		if c.Status != "ok" {
			t.Errorf("check %s: %s %s", c.Name, c.Status, c.Detail)
		}
	}
	var out bytes.Buffer
	if err := Unseal(ctx, b, dir, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("unsealed payload differs from the original data")
	}
	if _, err := Seal(ctx, b, dir, SealRequest{Sector: rec.Sector()}, native.VanillaProver{}); err == nil {
		t.Fatal("sealing into a used directory succeeded")
	}
}

// TestVerifyNamesTampering flips one byte in each kind of file and checks verify fails naming the right step.
func TestVerifyNamesTampering(t *testing.T) {
	cfg, _ := sdr.ConfigFor(abi.RegisteredSealProof_StackedDrg2KiBV1_1)
	_, shape, _ := porep.Shapes(cfg)
	tests := []struct {
		name  string
		file  func(p storiface.SectorPaths, dir string) string
		at    int64
		check string
	}{
		{"sealed file", func(p storiface.SectorPaths, _ string) string { return p.Sealed }, 700, "tree_r_last"},
		{"layer", func(p storiface.SectorPaths, _ string) string { return filepath.Join(p.Cache, sdr.LayerFileName(1)) }, 300, "layers"},
		{"tree_r_last", func(p storiface.SectorPaths, _ string) string { return porep.TreeRLastPaths(p.Cache, shape)[0] }, 64, "tree_r_last"},
		{"proof", func(_ storiface.SectorPaths, dir string) string { return filepath.Join(dir, ProofFile) }, 400, "proof"},
		{"p_aux", func(p storiface.SectorPaths, _ string) string { return filepath.Join(p.Cache, porep.PAuxFile) }, 3, "p_aux"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b, dir, rec := sealTestDir(t, abi.RegisteredSealProof_StackedDrg2KiBV1_1, nil)
			path := tc.file(Paths(dir, rec.Sector().ID), dir)
			flipByte(t, path, tc.at)
			_, err := Verify(context.Background(), b, dir)
			if !errors.Is(err, ErrVerify) || !strings.Contains(err.Error(), tc.check+":") {
				t.Fatalf("verify after flipping a byte of the %s: %v; want a failure of %q", tc.name, err, tc.check)
			}
		})
	}
}

func flipByte(t *testing.T, path string, at int64) {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if at >= int64(len(b)) {
		t.Fatalf("%s has %d bytes, cannot flip byte %d", path, len(b), at)
	}
	b[at] ^= 0x01
	if err := os.WriteFile(path, b, 0o644); err != nil {
		t.Fatal(err)
	}
}

func TestSealRejectsOversizedData(t *testing.T) {
	b := native.New(native.Config{ParentsCacheDir: t.TempDir()})
	defer b.Close()
	req := SealRequest{Sector: storiface.SectorRef{ID: abi.SectorID{Miner: 1000, Number: 1}, ProofType: abi.RegisteredSealProof_StackedDrg2KiBV1_1},
		Data: bytes.NewReader(make([]byte, 2033)), DataSize: 2033}
	if _, err := Seal(context.Background(), b, t.TempDir(), req, native.VanillaProver{}); err == nil || !strings.Contains(err.Error(), "do not fit") {
		t.Fatalf("err = %v", err)
	}
}
