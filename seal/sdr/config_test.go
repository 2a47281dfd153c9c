package sdr

import (
	"encoding/hex"
	"fmt"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

func TestConfigFor(t *testing.T) {
	tests := []struct {
		proof   abi.RegisteredSealProof
		nodes   uint64
		layers  int
		version APIVersion
	}{
		{abi.RegisteredSealProof_StackedDrg2KiBV1, 64, 2, V1},
		{abi.RegisteredSealProof_StackedDrg8MiBV1, 1 << 18, 2, V1},
		{abi.RegisteredSealProof_StackedDrg512MiBV1, 1 << 24, 2, V1},
		{abi.RegisteredSealProof_StackedDrg32GiBV1, 1 << 30, 11, V1},
		{abi.RegisteredSealProof_StackedDrg64GiBV1, 1 << 31, 11, V1},
		{abi.RegisteredSealProof_StackedDrg2KiBV1_1, 64, 2, V1_1},
		{abi.RegisteredSealProof_StackedDrg32GiBV1_1, 1 << 30, 11, V1_1},
		{abi.RegisteredSealProof_StackedDrg512MiBV1_1_Feat_SyntheticPoRep, 1 << 24, 2, V1_1},
		{abi.RegisteredSealProof_StackedDrg64GiBV1_1_Feat_SyntheticPoRep, 1 << 31, 11, V1_1},
		{abi.RegisteredSealProof_StackedDrg8MiBV1_2_Feat_NiPoRep, 1 << 18, 2, V1_1},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(int64(tc.proof)), func(t *testing.T) {
			cfg, err := ConfigFor(tc.proof)
			if err != nil {
				t.Fatal(err)
			}
			if cfg.Nodes != tc.nodes || cfg.Layers != tc.layers || cfg.Version != tc.version {
				t.Fatalf("got %+v", cfg)
			}
			if cfg.PoRepID[0] != byte(tc.proof) {
				t.Fatalf("porep id %x", cfg.PoRepID)
			}
			if tc.proof <= abi.RegisteredSealProof_StackedDrg64GiBV1_1_Feat_SyntheticPoRep {
				// go-state-types abi/sector.go PoRepID implements the same registry.rs rule for ids 0–14.
				want, err := tc.proof.PoRepID()
				if err != nil {
					t.Fatal(err)
				}
				if cfg.PoRepID != want {
					t.Fatalf("porep id %x, go-state-types %x", cfg.PoRepID, want)
				}
			}
		})
	}
	for _, bad := range []abi.RegisteredSealProof{-1, 20, 1000} {
		if _, err := ConfigFor(bad); err == nil || !strings.Contains(err.Error(), "accepted are") {
			t.Fatalf("ConfigFor(%d): err %v", bad, err)
		}
	}
}

func TestConfigValidate(t *testing.T) {
	tests := []struct {
		cfg   Config
		field string
	}{
		{Config{Nodes: 1, Layers: 2}, "Nodes"},
		{Config{Nodes: 1 << 32, Layers: 2}, "Nodes"},
		{Config{Nodes: 64, Layers: 0}, "Layers"},
		{Config{Nodes: 64, Layers: 2, Version: 7}, "Version"},
	}
	for _, tc := range tests {
		t.Run(tc.field, func(t *testing.T) {
			err := tc.cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), tc.field) {
				t.Fatalf("Validate(%+v) = %v, want an error naming %s", tc.cfg, err, tc.field)
			}
			if _, err := NewGraph(tc.cfg); err == nil {
				t.Fatal("NewGraph accepted an invalid config")
			}
		})
	}
}

func TestProverAndReplicaID(t *testing.T) {
	// PROOFS.md: t01000 → e807 followed by 30 zero bytes.
	if got := ProverID(1000); hex.EncodeToString(got[:2]) != "e807" || got[2] != 0 {
		t.Fatalf("ProverID(1000) = %x", got)
	}
	// Cross-check with go-state-types abi/sector.go RegisteredSealProof.ReplicaId, a public implementation of
	// storage-proofs-porep params.rs generate_replica_id.
	tests := []struct {
		proof  abi.RegisteredSealProof
		miner  abi.ActorID
		sector abi.SectorNumber
	}{
		{abi.RegisteredSealProof_StackedDrg2KiBV1_1, 1000, 1},
		{abi.RegisteredSealProof_StackedDrg32GiBV1_1, 123456789, 1 << 40},
		{abi.RegisteredSealProof_StackedDrg8MiBV1, 0, 0},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprint(int64(tc.proof)), func(t *testing.T) {
			var ticket, commD [32]byte
			for i := range ticket {
				ticket[i], commD[i] = byte(i), byte(255-i)
			}
			porep, err := PoRepID(tc.proof)
			if err != nil {
				t.Fatal(err)
			}
			got := ReplicaID(ProverID(tc.miner), tc.sector, ticket, commD, porep)
			want, err := tc.proof.ReplicaId(tc.miner, tc.sector, ticket[:], commD[:])
			if err != nil {
				t.Fatal(err)
			}
			if got != want {
				t.Fatalf("replica id %x, go-state-types %x", got, want)
			}
		})
	}
}

func TestLayerFileName(t *testing.T) {
	if got := LayerFileName(1); got != "sc-02-data-layer-1.dat" {
		t.Fatal(got)
	}
}
