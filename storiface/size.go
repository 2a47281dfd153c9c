package storiface

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
)

// SectorSizes lists the sector sizes Filecoin defines, smallest first.
var SectorSizes = []abi.SectorSize{2 << 10, 8 << 20, 512 << 20, 32 << 30, 64 << 30}

// sizeNames maps the accepted size strings to sizes.
var sizeNames = map[string]abi.SectorSize{
	"2KiB": 2 << 10, "8MiB": 8 << 20, "512MiB": 512 << 20, "32GiB": 32 << 30, "64GiB": 64 << 30,
}

// ParseSectorSize parses "2KiB", "8MiB", "512MiB", "32GiB", "64GiB" or the equivalent byte count ("2048").
// Anything else is an error that lists what is accepted.
func ParseSectorSize(s string) (abi.SectorSize, error) {
	if sz, ok := sizeNames[strings.TrimSpace(s)]; ok {
		return sz, nil
	}
	if n, err := strconv.ParseUint(strings.TrimSpace(s), 10, 64); err == nil {
		for _, sz := range SectorSizes {
			if uint64(sz) == n {
				return sz, nil
			}
		}
	}
	return 0, fmt.Errorf("sector size %q: accepted are 2KiB, 8MiB, 512MiB, 32GiB, 64GiB or their byte counts "+
		"(2048, 8388608, 536870912, 34359738368, 68719476736)", s)
}

// SizeString formats a sector size as its short name ("32GiB"), or as bytes if it has none.
func SizeString(sz abi.SectorSize) string {
	for name, v := range sizeNames {
		if v == sz {
			return name
		}
	}
	return fmt.Sprintf("%dB", uint64(sz))
}

// ProofKind selects a family of seal proof types for a sector size.
type ProofKind string

// The proof families sealfleet seals with.
const (
	ProofV1        ProofKind = "v1"
	ProofV1_1      ProofKind = "v1.1"
	ProofSynthetic ProofKind = "synthetic"
)

// SealProofFor returns the RegisteredSealProof of a size and family ("" means v1.1, what new sectors use).
func SealProofFor(sz abi.SectorSize, kind ProofKind) (abi.RegisteredSealProof, error) {
	idx := -1
	for i, v := range SectorSizes {
		if v == sz {
			idx = i
		}
	}
	if idx < 0 {
		return 0, fmt.Errorf("sector size %d: not a Filecoin sector size", sz)
	}
	switch kind {
	case ProofV1:
		return abi.RegisteredSealProof(idx), nil
	case ProofV1_1, "":
		return abi.RegisteredSealProof(5 + idx), nil
	case ProofSynthetic:
		return abi.RegisteredSealProof(10 + idx), nil
	}
	return 0, fmt.Errorf("proof kind %q: accepted are v1, v1.1, synthetic", kind)
}
