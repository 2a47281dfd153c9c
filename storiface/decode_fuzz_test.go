package storiface

import (
	"bytes"
	"encoding/json"
	"testing"
)

// The JSON types below cross the RPC boundary: a peer (or anyone holding a token) controls their bytes. Each fuzz
// target checks that decoding never panics and that whatever decodes re-encodes to JSON that decodes to the same
// value (no lossy or one-way encodings an attacker could use to smuggle two meanings past a check).

// roundTrip decodes b into a fresh *T; if that succeeds it re-encodes and decodes again and compares the two
// encodings.
func roundTrip[T any](t *testing.T, b []byte) {
	t.Helper()
	var v T
	if err := json.Unmarshal(b, &v); err != nil {
		return
	}
	enc, err := json.Marshal(&v)
	if err != nil {
		// A value that decodes but cannot be encoded back would break the return path of a call.
		t.Fatalf("decoded %q but cannot re-encode: %v", b, err)
	}
	var w T
	if err := json.Unmarshal(enc, &w); err != nil {
		t.Fatalf("re-encoded %q does not decode: %v", enc, err)
	}
	enc2, err := json.Marshal(&w)
	if err != nil {
		t.Fatalf("second encoding: %v", err)
	}
	if !bytes.Equal(enc, enc2) {
		t.Fatalf("encoding not stable: %s then %s", enc, enc2)
	}
}

func FuzzSectorRefJSON(f *testing.F) {
	for _, s := range []string{
		`{"ID":{"Miner":1000,"Number":7},"ProofType":5}`,
		`{"ID":{"Miner":-1,"Number":18446744073709551615},"ProofType":-3}`,
		`{"ID":null}`, `null`, `[]`, `{"ID":{"Miner":1e99}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[SectorRef](t, b) })
}

func FuzzCallIDJSON(f *testing.F) {
	for _, s := range []string{
		`{"Sector":{"Miner":1000,"Number":1},"ID":"0b8f5f1e-8f1a-4b52-9d5a-6f1c2a9b7e11"}`,
		`{"Sector":{"Miner":1000,"Number":1},"ID":"not-a-uuid"}`,
		`{"ID":"0b8f5f1e8f1a4b529d5a6f1c2a9b7e11"}`, `{"ID":""}`, `{"ID":7}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[CallID](t, b) })
}

func FuzzPieceDataJSON(f *testing.F) {
	for _, s := range []string{
		`{}`, `{"URL":"http://127.0.0.1:1/pieces/x","Headers":{"Authorization":"Bearer x"}}`,
		`{"URL":"file:///etc/passwd"}`, `{"Headers":{"a":1}}`, `{"URL":"\u0000"}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[PieceData](t, b) })
}

func FuzzSectorCidsJSON(f *testing.F) {
	for _, s := range []string{
		`{"Unsealed":{"/":"baga6ea4seaqpy7usqklokfx2vxuynmupslkeutzexe2uqurdg5vhtebhxqmpqmy"},"Sealed":{"/":"bagboea4b5abcamxfw7bfilvzq7ahtk3nczc2kynjmzggtz6zuulp3bsxf5mkhmyg"}}`,
		`{"Unsealed":{"/":""}}`, `{"Sealed":{"/":"zzzz"}}`, `{"Unsealed":"baga"}`, `{"Sealed":{"/":1}}`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) { roundTrip[SectorCids](t, b) })
}

func FuzzCallErrorJSON(f *testing.F) {
	for _, s := range []string{
		`{"Code":1,"Message":"boom"}`, `{"Code":-9223372036854775808}`, `{"Code":"x"}`, `null`,
	} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		roundTrip[CallError](t, b)
		var e *CallError
		if json.Unmarshal(b, &e) == nil && e != nil {
			_ = e.Error() // must not panic for any decoded code
			_ = e.Code.Temporary()
		}
	})
}

// FuzzParseNames checks the strict parsers behind /remote URLs and CLI flags: no panic, and a name that parses
// formats back to itself (so two spellings can never name the same sector file).
func FuzzParseNames(f *testing.F) {
	for _, s := range []string{"s-t01000-7", "s-t00-0", "s-t01000-07", "s-t0-1", "s-t01000-1/..", "sealed", "cache", "unsealed|sealed", "2KiB", "32GiB", "PC1", "seal/v0/precommit/1"} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if id, err := ParseSectorName(s); err == nil && SectorName(id) != s {
			t.Fatalf("ParseSectorName(%q) = %v, which formats as %q", s, id, SectorName(id))
		}
		if ft, err := ParseFileType(s); err == nil && ft.String() != s {
			t.Fatalf("ParseFileType(%q) = %v, which formats as %q", s, ft, ft.String())
		}
		_, _ = ParseFileTypes(s)
		_, _ = ParseSectorSize(s)
		_, _ = ParseTaskType(s)
	})
}
