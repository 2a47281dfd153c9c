package storiface

import (
	"fmt"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
)

// SectorRef identifies a sector and the proof type it is sealed with.
type SectorRef struct {
	ID        abi.SectorID
	ProofType abi.RegisteredSealProof
}

// String returns the sector's file name, e.g. "s-t01000-3".
func (s SectorRef) String() string { return SectorName(s.ID) }

// NoSectorRef is the zero SectorRef, used by requests that concern no sector (e.g. DataCid).
var NoSectorRef = SectorRef{}

// SectorName returns the on-disk name of a sector's files: "s-t0<miner>-<number>".
func SectorName(id abi.SectorID) string {
	return fmt.Sprintf("s-t0%d-%d", id.Miner, id.Number)
}

// ParseSectorName parses a name made by SectorName. It is strict: anything else, including leading zeros, signs,
// extra characters or path separators, is an error.
func ParseSectorName(name string) (abi.SectorID, error) {
	rest, ok := strings.CutPrefix(name, "s-t0")
	if !ok {
		return abi.SectorID{}, fmt.Errorf("sector name %q: want s-t0<miner>-<number>", name)
	}
	minerStr, numStr, ok := strings.Cut(rest, "-")
	if !ok {
		return abi.SectorID{}, fmt.Errorf("sector name %q: want s-t0<miner>-<number>", name)
	}
	miner, err := parseDecimal(minerStr)
	if err != nil {
		return abi.SectorID{}, fmt.Errorf("sector name %q: miner: %w", name, err)
	}
	num, err := parseDecimal(numStr)
	if err != nil {
		return abi.SectorID{}, fmt.Errorf("sector name %q: number: %w", name, err)
	}
	return abi.SectorID{Miner: abi.ActorID(miner), Number: abi.SectorNumber(num)}, nil
}

// parseDecimal accepts only canonical unsigned decimals ("0", "17"; not "", "+1", "01").
func parseDecimal(s string) (uint64, error) {
	if s == "" || (len(s) > 1 && s[0] == '0') {
		return 0, fmt.Errorf("%q is not a canonical unsigned decimal", s)
	}
	for _, c := range s {
		if c < '0' || c > '9' {
			return 0, fmt.Errorf("%q is not a canonical unsigned decimal", s)
		}
	}
	return strconv.ParseUint(s, 10, 64)
}

// PaddedByteIndex is an offset in the fr32-padded (sealed-size) space of a sector.
type PaddedByteIndex uint64

// UnpaddedByteIndex is an offset in the unpadded (payload) space of a sector.
type UnpaddedByteIndex uint64

// Padded converts an unpadded offset to the padded space.
func (i UnpaddedByteIndex) Padded() PaddedByteIndex {
	return PaddedByteIndex(abi.UnpaddedPieceSize(i).Padded())
}

// Valid reports whether the offset lies on a 127-byte boundary, as every piece offset must.
func (i UnpaddedByteIndex) Valid() error {
	if i%127 != 0 {
		return fmt.Errorf("unpadded byte index %d must be a multiple of 127", i)
	}
	return nil
}

// Unpadded converts a padded offset to the unpadded space.
func (i PaddedByteIndex) Unpadded() UnpaddedByteIndex {
	return UnpaddedByteIndex(abi.PaddedPieceSize(i).Unpadded())
}
