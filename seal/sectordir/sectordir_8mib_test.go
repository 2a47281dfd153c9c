package sectordir

import (
	"bytes"
	"context"
	"math/rand"
	"os"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

// TestSealVerifyUnseal8MiB is the 8MiB round trip: a payload sealed with the V1_1 proof verifies in every check
// and unseals to the same bytes.
// It takes minutes under the race detector, so it runs with SEALFLEET_LONG=1 (`make test-long`, run by CI).
func TestSealVerifyUnseal8MiB(t *testing.T) {
	if os.Getenv("SEALFLEET_LONG") == "" {
		t.Skip("8MiB round trip runs with SEALFLEET_LONG=1 (make test-long)")
	}
	ctx := context.Background()
	data := make([]byte, 3<<20)
	rand.New(rand.NewSource(8)).Read(data)
	b, dir, _ := sealTestDir(t, abi.RegisteredSealProof_StackedDrg8MiBV1_1, data)
	if checks, err := Verify(ctx, b, dir); err != nil {
		t.Fatalf("verify: %v (%+v)", err, checks)
	}
	var out bytes.Buffer
	if err := Unseal(ctx, b, dir, &out); err != nil {
		t.Fatal(err)
	}
	if !bytes.Equal(out.Bytes(), data) {
		t.Fatal("unsealed payload differs from the original data")
	}
}
