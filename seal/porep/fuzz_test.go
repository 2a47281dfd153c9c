package porep

import (
	"bytes"
	"context"
	"testing"

	"github.com/filecoin-project/go-state-types/abi"
)

// FuzzReadCommit1JSON feeds arbitrary bytes to the C1-output decoder and
// verifies whatever decodes: nothing may panic, and only the untouched
// valid output may verify.
func FuzzReadCommit1JSON(f *testing.F) {
	s := sealTestSector(f, abi.RegisteredSealProof_StackedDrg2KiBV1_1, 21, nil)
	good, err := Commit1(context.Background(), s.cfg, s.cache, s.sealed, s.replicaID, s.seed, s.commD, s.commR)
	if err != nil {
		f.Fatal(err)
	}
	var enc bytes.Buffer
	if err := good.WriteJSON(&enc); err != nil {
		f.Fatal(err)
	}
	valid := enc.Bytes()
	f.Add(valid)
	f.Add([]byte(`{"version":1,"proofs":[{}, {}]}`))
	f.Add([]byte(`{"version":1,"nodes":64,"layers":2,"partitions":1,"challengesPerPartition":2,"proofs":[{"column":{"rows":[]}}]}`))
	f.Add([]byte(`{"version":1,"proofs":[{"commDProof":{"path":[[]]}}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		o, err := ReadCommit1JSON(bytes.NewReader(b))
		if err != nil {
			return
		}
		err = VerifyCommit1(o, s.commR, s.commD, s.replicaID, s.seed, s.cfg)
		if err == nil {
			var re bytes.Buffer
			o.WriteJSON(&re)
			if !bytes.Equal(re.Bytes(), valid) {
				t.Fatalf("a modified output verified: %s", b)
			}
		}
	})
}
