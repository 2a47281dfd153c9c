package sdr

import (
	"fmt"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

func TestParentsCacheFileNamesArePublished(t *testing.T) {
	// Every V1 and V1_1 graph's file name must appear in rust-fil-proofs storage-proofs-porep/parent_cache.json
	// (as embedded in knownParentCaches): this checks the naming rule and the Feistel key derivation.
	seen := map[string]bool{}
	for p := abi.RegisteredSealProof(0); p < 10; p++ {
		t.Run(fmt.Sprint(int64(p)), func(t *testing.T) {
			cfg, err := ConfigFor(p)
			if err != nil {
				t.Fatal(err)
			}
			if _, ok := KnownParentsCacheDigest(cfg); !ok {
				t.Fatalf("proof %d: %s not in parent_cache.json", p, ParentsCacheFileName(cfg))
			}
			seen[ParentsCacheFileName(cfg)] = true
		})
	}
	if len(seen) != len(knownParentCaches) {
		t.Fatalf("%d distinct names for %d published caches", len(seen), len(knownParentCaches))
	}
	cfg, _ := ConfigFor(abi.RegisteredSealProof_StackedDrg2KiBV1_1_Feat_SyntheticPoRep)
	if _, ok := KnownParentsCacheDigest(cfg); ok {
		t.Fatal("synthetic graph unexpectedly published")
	}
}
