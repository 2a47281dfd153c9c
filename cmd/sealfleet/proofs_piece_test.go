package main

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"
)

// runPieceApp runs the CLI with args and returns what it printed.
func runPieceApp(t *testing.T, args ...string) (string, error) {
	t.Helper()
	app := newApp()
	var out bytes.Buffer
	app.Writer = &out
	app.ErrWriter = &out
	err := app.Run(append([]string{"sealfleet"}, args...))
	return out.String(), err
}

func TestProofsCommPCommD(t *testing.T) {
	dir := t.TempDir()
	// go-fil-commp-hashhash testdata/zero.txt: 127 zero bytes → padded 128, this CID.
	zero127 := filepath.Join(dir, "zero127")
	if err := os.WriteFile(zero127, make([]byte, 127), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := runPieceApp(t, "proofs", "commp", "--json", zero127)
	if err != nil {
		t.Fatal(err)
	}
	var cp struct {
		PieceCID    string `json:"pieceCID"`
		PaddedSize  uint64 `json:"paddedSize"`
		PayloadSize uint64 `json:"payloadSize"`
	}
	if err := json.Unmarshal([]byte(out), &cp); err != nil {
		t.Fatalf("%v: %q", err, out)
	}
	if cp.PieceCID != "baga6ea4seaqdomn3tgwgrh3g532zopskstnbrd2n3sxfqbze7rxt7vqn7veigmy" || cp.PaddedSize != 128 || cp.PayloadSize != 127 {
		t.Fatalf("commp: %+v", cp)
	}

	tests := []struct {
		name string
		args []string
		want string
	}{
		// /work/shared/PROOFS.md: CommD of all-zero 2KiB and 32GiB sectors.
		{"cc 2KiB", []string{"--sector-size", "2KiB"}, "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"},
		{"cc 32GiB", []string{"--sector-size", "32GiB"}, "baga6ea4seaqao7s73y24kcutaosvacpdjgfe5pw76ooefnyqw4ynr3d2y6x2mpq"},
		// A zero piece filled up with zero pieces is the CC sector again.
		{"zero piece", []string{"--sector-size", "2048", "--piece", cp.PieceCID + ":128"}, "baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			out, err := runPieceApp(t, append([]string{"proofs", "commd", "--json"}, tc.args...)...)
			if err != nil {
				t.Fatal(err)
			}
			var cd struct {
				CommD string `json:"commD"`
			}
			if err := json.Unmarshal([]byte(out), &cd); err != nil || cd.CommD != tc.want {
				t.Fatalf("got %q (%v), want %s", out, err, tc.want)
			}
		})
	}

	for name, args := range map[string][]string{
		"bad sector size": {"proofs", "commd", "--sector-size", "3KiB"},
		"bad piece":       {"proofs", "commd", "--sector-size", "2KiB", "--piece", "nope"},
		"piece too big":   {"proofs", "commd", "--sector-size", "2KiB", "--piece", cp.PieceCID + ":4096"},
		"commp no file":   {"proofs", "commp", filepath.Join(dir, "missing")},
	} {
		t.Run(name, func(t *testing.T) {
			if _, err := runPieceApp(t, args...); err == nil {
				t.Fatal("want error")
			}
		})
	}
}
