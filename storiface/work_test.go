package storiface

import (
	"crypto/sha256"
	"encoding/hex"
	"testing"
)

func TestWorkDigest(t *testing.T) {
	// The digest is SHA-256 of the parameters' JSON array; manager WorkIDs and worker execution records rely on
	// both sides computing it the same way.
	got, err := WorkDigest(TTPreCommit1, "a", 1)
	if err != nil {
		t.Fatal(err)
	}
	sum := sha256.Sum256([]byte(`["a",1]`))
	if want := hex.EncodeToString(sum[:]); got != want {
		t.Fatalf("digest %s, want %s", got, want)
	}
	if _, err := WorkDigest(TTPreCommit1, make(chan int)); err == nil {
		t.Fatal("a parameter JSON cannot encode was accepted")
	}
}
