package storiface

import (
	"errors"
	"fmt"
	"strings"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

func TestSectorNameRoundTrip(t *testing.T) {
	for _, id := range []abi.SectorID{{Miner: 1000, Number: 0}, {Miner: 0, Number: 7}, {Miner: 123456, Number: 1 << 40}} {
		name := SectorName(id)
		got, err := ParseSectorName(name)
		if err != nil || got != id {
			t.Fatalf("ParseSectorName(%q) = %v, %v; want %v", name, got, err, id)
		}
	}
	if SectorName(abi.SectorID{Miner: 1000, Number: 3}) != "s-t01000-3" {
		t.Fatal("SectorName format changed")
	}
}

func TestParseSectorNameRejects(t *testing.T) {
	bad := []string{"", "s-t01000", "s-t01000-", "s-t0-1", "s-t01000-03", "s-t01000-+3", "s-t01000-3/..",
		"../s-t01000-3", "s-t1000-3", "s-t01000-3x", "s-t01000-99999999999999999999999"}
	for _, name := range bad {
		if _, err := ParseSectorName(name); err == nil {
			t.Errorf("ParseSectorName(%q) accepted", name)
		}
	}
}

func TestParseSectorSize(t *testing.T) {
	tests := []struct {
		in   string
		want abi.SectorSize
		ok   bool
	}{
		{"2KiB", 2048, true}, {"8MiB", 8 << 20, true}, {"512MiB", 512 << 20, true}, {"32GiB", 32 << 30, true},
		{"64GiB", 64 << 30, true}, {"2048", 2048, true}, {"34359738368", 32 << 30, true},
		{"2kib", 0, false}, {"1GiB", 0, false}, {"4096", 0, false}, {"", 0, false}, {"-2048", 0, false},
	}
	for _, tc := range tests {
		got, err := ParseSectorSize(tc.in)
		if tc.ok && (err != nil || got != tc.want) {
			t.Errorf("ParseSectorSize(%q) = %d, %v; want %d", tc.in, got, err, tc.want)
		}
		if !tc.ok {
			if err == nil {
				t.Errorf("ParseSectorSize(%q) accepted", tc.in)
			} else if !strings.Contains(err.Error(), "2KiB, 8MiB, 512MiB, 32GiB, 64GiB") {
				t.Errorf("error %q does not list what is accepted", err)
			}
		}
	}
}

func TestSealProofFor(t *testing.T) {
	tests := []struct {
		size abi.SectorSize
		kind ProofKind
		want abi.RegisteredSealProof
	}{
		{2 << 10, "", abi.RegisteredSealProof_StackedDrg2KiBV1_1},
		{2 << 10, ProofV1, abi.RegisteredSealProof_StackedDrg2KiBV1},
		{32 << 30, ProofV1_1, abi.RegisteredSealProof_StackedDrg32GiBV1_1},
		{64 << 30, ProofSynthetic, abi.RegisteredSealProof_StackedDrg64GiBV1_1_Feat_SyntheticPoRep},
		{512 << 20, ProofSynthetic, abi.RegisteredSealProof_StackedDrg512MiBV1_1_Feat_SyntheticPoRep},
	}
	for _, tc := range tests {
		got, err := SealProofFor(tc.size, tc.kind)
		if err != nil || got != tc.want {
			t.Errorf("SealProofFor(%d, %q) = %d, %v; want %d", tc.size, tc.kind, got, err, tc.want)
		}
		// The proof type must agree with go-state-types about its sector size.
		if ss, err := got.SectorSize(); err != nil || ss != tc.size {
			t.Errorf("proof %d has size %d (%v), want %d", got, ss, err, tc.size)
		}
	}
	if _, err := SealProofFor(2<<10, "v2"); err == nil {
		t.Error("unknown proof kind accepted")
	}
	if _, err := SealProofFor(4096, ""); err == nil {
		t.Error("unknown size accepted")
	}
}

func TestFileTypes(t *testing.T) {
	ft := FTSealed | FTCache
	if ft.String() != "sealed|cache" {
		t.Errorf("String = %q", ft.String())
	}
	if !ft.Has(FTCache) || ft.Has(FTUnsealed) || ft.Single() || !FTCache.Single() {
		t.Error("Has/Single wrong")
	}
	parsed, err := ParseFileTypes("sealed,cache")
	if err != nil || parsed != ft {
		t.Errorf("ParseFileTypes = %v, %v", parsed, err)
	}
	if _, err := ParseFileType("../sealed"); err == nil {
		t.Error("bad type name accepted")
	}
	if got := (FTUnsealed | FTSealed | FTCache).SubAllowed(nil, []string{"unsealed"}); got != FTSealed|FTCache {
		t.Errorf("SubAllowed deny = %v", got)
	}
	if got := (FTUnsealed | FTSealed).SubAllowed([]string{"sealed"}, nil); got != FTSealed {
		t.Errorf("SubAllowed allow = %v", got)
	}
	// A sealing 32GiB sector needs sealed + 14x cache of scratch; finalized, sealed + 1x cache.
	if got := (FTSealed | FTCache).SealSpaceUse(32 << 30); got != 15*(32<<30) {
		t.Errorf("SealSpaceUse = %d", got)
	}
	if got := (FTSealed | FTCache).StoreSpaceUse(32 << 30); got != 2*(32<<30) {
		t.Errorf("StoreSpaceUse = %d", got)
	}
}

func TestSectorPaths(t *testing.T) {
	var sp SectorPaths
	for i, pt := range PathTypes {
		sp.SetPathByType(pt, fmt.Sprint("/p", i))
	}
	for i, pt := range PathTypes {
		if sp.PathByType(pt) != fmt.Sprint("/p", i) {
			t.Errorf("PathByType(%s) = %q", pt, sp.PathByType(pt))
		}
	}
	if got := SectorPathIn("/store", FTCache, abi.SectorID{Miner: 1000, Number: 5}); got != "/store/cache/s-t01000-5" {
		t.Errorf("SectorPathIn = %q", got)
	}
}

func TestTaskTypes(t *testing.T) {
	all := AllTaskTypes()
	if len(all) != 16 {
		t.Fatalf("%d task types, want 16", len(all))
	}
	// Finishing work is scheduled before starting new work, as in the reference's order table.
	wantOrder := []TaskType{TTFinalize, TTCommit1, TTCommit2, TTPreCommit2, TTPreCommit1, TTAddPiece}
	for i := 1; i < len(wantOrder); i++ {
		if !wantOrder[i-1].Less(wantOrder[i]) {
			t.Errorf("%s should come before %s", wantOrder[i-1].Short(), wantOrder[i].Short())
		}
	}
	for _, tt := range all {
		got, err := ParseTaskType(tt.Short())
		if err != nil || got != tt {
			t.Errorf("ParseTaskType(%q) = %v, %v", tt.Short(), got, err)
		}
	}
	if got, err := ParseTaskType("pc1"); err != nil || got != TTPreCommit1 {
		t.Errorf("case-insensitive short name: %v %v", got, err)
	}
	if _, err := ParseTaskType("PC3"); err == nil || !strings.Contains(err.Error(), "PC1") {
		t.Errorf("unknown task error should list accepted names: %v", err)
	}
}

func TestCallErrorCodes(t *testing.T) {
	err := fmt.Errorf("running PC1: %w", Errf(ErrTempWorkerRestart, "worker restarted"))
	if CodeOf(err) != ErrTempWorkerRestart || !CodeOf(err).Temporary() {
		t.Errorf("CodeOf = %v", CodeOf(err))
	}
	if CodeOf(errors.New("plain")) != ErrUnknown {
		t.Error("plain error has a code")
	}
	if Err(ErrBadInput, nil) != nil {
		t.Error("Err(nil) should be nil")
	}
	if ErrBadInput.Temporary() {
		t.Error("bad input is not temporary")
	}
}

func TestByteIndex(t *testing.T) {
	if UnpaddedByteIndex(127).Padded() != 128 || PaddedByteIndex(256).Unpadded() != 254 {
		t.Error("padding conversion wrong")
	}
	if UnpaddedByteIndex(128).Valid() == nil || UnpaddedByteIndex(254).Valid() != nil {
		t.Error("Valid wrong")
	}
}
