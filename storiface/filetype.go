package storiface

import (
	"fmt"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
)

// SectorFileType is a bitmask of the kinds of file a sector can have on disk.
type SectorFileType int

// The sector file types. Each has a directory of the same name in every storage path.
const (
	FTUnsealed SectorFileType = 1 << iota
	FTSealed
	FTCache
	FTUpdate
	FTUpdateCache
	FTPiece

	// FTNone is the empty set.
	FTNone SectorFileType = 0
)

// PathTypes lists every single file type, in bit order.
var PathTypes = []SectorFileType{FTUnsealed, FTSealed, FTCache, FTUpdate, FTUpdateCache, FTPiece}

// FTAll is the set of every file type.
const FTAll = FTUnsealed | FTSealed | FTCache | FTUpdate | FTUpdateCache | FTPiece

var fileTypeNames = map[SectorFileType]string{
	FTUnsealed: "unsealed", FTSealed: "sealed", FTCache: "cache",
	FTUpdate: "update", FTUpdateCache: "update-cache", FTPiece: "piece",
}

// String names the set, e.g. "sealed|cache"; the empty set is "none".
func (t SectorFileType) String() string {
	if t == FTNone {
		return "none"
	}
	var parts []string
	for _, pt := range PathTypes {
		if t.Has(pt) {
			parts = append(parts, fileTypeNames[pt])
		}
	}
	if rest := t &^ FTAll; rest != 0 {
		parts = append(parts, fmt.Sprintf("unknown(%d)", int(rest)))
	}
	return strings.Join(parts, "|")
}

// Has reports whether every type of single is in t.
func (t SectorFileType) Has(single SectorFileType) bool { return t&single == single }

// AnyOf reports whether t and other share a type.
func (t SectorFileType) AnyOf(other SectorFileType) bool { return t&other != 0 }

// Single reports whether t is exactly one known type.
func (t SectorFileType) Single() bool { _, ok := fileTypeNames[t]; return ok }

// All returns the single types in t, in bit order.
func (t SectorFileType) All() []SectorFileType {
	var out []SectorFileType
	for _, pt := range PathTypes {
		if t.Has(pt) {
			out = append(out, pt)
		}
	}
	return out
}

// SubAllowed removes from t every type denied by allow/deny lists of type names (empty allow means all).
func (t SectorFileType) SubAllowed(allowTypes, denyTypes []string) SectorFileType {
	var out SectorFileType
	for _, pt := range t.All() {
		name := fileTypeNames[pt]
		if len(allowTypes) > 0 && !containsString(allowTypes, name) {
			continue
		}
		if containsString(denyTypes, name) {
			continue
		}
		out |= pt
	}
	return out
}

func containsString(list []string, s string) bool {
	for _, v := range list {
		if v == s {
			return true
		}
	}
	return false
}

// ParseFileType parses a single type name ("unsealed", "sealed", "cache", "update", "update-cache", "piece").
func ParseFileType(s string) (SectorFileType, error) {
	for t, name := range fileTypeNames {
		if name == s {
			return t, nil
		}
	}
	return 0, fmt.Errorf("file type %q: accepted are unsealed, sealed, cache, update, update-cache, piece", s)
}

// ParseFileTypes parses a "|" or ","-separated set of type names.
func ParseFileTypes(s string) (SectorFileType, error) {
	var out SectorFileType
	for _, part := range strings.FieldsFunc(s, func(r rune) bool { return r == '|' || r == ',' }) {
		t, err := ParseFileType(strings.TrimSpace(part))
		if err != nil {
			return 0, err
		}
		out |= t
	}
	return out, nil
}

// Overhead factors (per mille of the sector size) that a file type occupies while sealing and once finalized.
// They follow the reference's FSOverheadSeal / FsOverheadFinalized: the cache holds the layers and trees while
// sealing (11 layers of 32GiB plus trees ≈ 14×), and only tree_r_last and aux files once finalized.
var (
	overheadSeal = map[SectorFileType]int{
		FTUnsealed: 1000, FTSealed: 1000, FTCache: 14000, FTUpdate: 1000, FTUpdateCache: 2000, FTPiece: 1000,
	}
	overheadFinalized = map[SectorFileType]int{
		FTUnsealed: 1000, FTSealed: 1000, FTCache: 1000, FTUpdate: 1000, FTUpdateCache: 1000, FTPiece: 1000,
	}
)

// SealSpaceUse returns the bytes the types in t need for a sector of size ssize while sealing.
func (t SectorFileType) SealSpaceUse(ssize abi.SectorSize) uint64 {
	return t.spaceUse(ssize, overheadSeal)
}

// StoreSpaceUse returns the bytes the types in t need for a finalized sector of size ssize.
func (t SectorFileType) StoreSpaceUse(ssize abi.SectorSize) uint64 {
	return t.spaceUse(ssize, overheadFinalized)
}

func (t SectorFileType) spaceUse(ssize abi.SectorSize, table map[SectorFileType]int) uint64 {
	var need uint64
	for _, pt := range t.All() {
		need += uint64(table[pt]) * uint64(ssize) / 1000
	}
	return need
}
