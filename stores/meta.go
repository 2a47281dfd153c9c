package stores

import (
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/google/uuid"

	"sealfleet/storiface"
)

// MetaFile is the name of the file that marks a directory as a storage path and holds its settings.
const MetaFile = "sectorstore.json"

// TempSuffix marks a sector file being written in place by a task (e.g. "sealed/s-t01000-1.sealfleet-tmp"): it
// is never declared, and a reservation counts its bytes as already written, so space is not counted twice.
const TempSuffix = ".sealfleet-tmp"

// FetchTempSubdir is the directory, inside each file-type directory of a path, that holds files being fetched.
// Nothing in it is ever declared; it is emptied when the path is opened.
const FetchTempSubdir = "fetching"

// LocalStorageMeta is the content of a path's sectorstore.json.
type LocalStorageMeta struct {
	ID storiface.ID
	// Weight ranks paths for allocation (score = weight × available bytes) and fetch sources (higher first).
	Weight uint64
	// CanSeal marks a path for sealing scratch files; CanStore marks it for finalized sectors.
	CanSeal  bool
	CanStore bool
	// MaxStorage caps the bytes the path may hold (0: the filesystem is the limit).
	MaxStorage uint64 `json:",omitempty"`
	// Groups names the groups this path belongs to; AllowTo restricts which groups may fetch from it.
	Groups  []string `json:",omitempty"`
	AllowTo []string `json:",omitempty"`
	// AllowTypes / DenyTypes filter the file types the path takes (names as storiface.ParseFileType accepts).
	AllowTypes []string `json:",omitempty"`
	DenyTypes  []string `json:",omitempty"`
	// AllowMiners / DenyMiners filter the miners whose sectors the path takes ("t01000", "f01000" or "1000").
	AllowMiners []string `json:",omitempty"`
	DenyMiners  []string `json:",omitempty"`
}

// Validate checks every field an operator can get wrong and names the field and what is accepted.
func (m LocalStorageMeta) Validate() error {
	if m.ID == "" {
		return errors.New("sectorstore.json: ID is empty; accepted is a UUID string")
	}
	if strings.ContainsAny(string(m.ID), "/\\ \t\n?#%") {
		return fmt.Errorf("sectorstore.json: ID %q contains a separator or space; accepted is a UUID string", m.ID)
	}
	if !m.CanSeal && !m.CanStore {
		return errors.New("sectorstore.json: CanSeal and CanStore are both false; a path must allow at least one")
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"AllowTypes", m.AllowTypes}, {"DenyTypes", m.DenyTypes}} {
		for _, t := range f.list {
			if _, err := storiface.ParseFileType(t); err != nil {
				return fmt.Errorf("sectorstore.json: %s: %w", f.name, err)
			}
		}
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"AllowMiners", m.AllowMiners}, {"DenyMiners", m.DenyMiners}} {
		for _, s := range f.list {
			if _, err := ParseMinerID(s); err != nil {
				return fmt.Errorf("sectorstore.json: %s: %w", f.name, err)
			}
		}
	}
	for _, f := range []struct {
		name string
		list []string
	}{{"Groups", m.Groups}, {"AllowTo", m.AllowTo}} {
		for _, g := range f.list {
			if strings.TrimSpace(g) == "" {
				return fmt.Errorf("sectorstore.json: %s has an empty group name", f.name)
			}
		}
	}
	return nil
}

// StorageInfo turns the settings into what the index records, with the node's URLs.
func (m LocalStorageMeta) StorageInfo(urls []string) storiface.StorageInfo {
	return storiface.StorageInfo{
		ID: m.ID, URLs: append([]string(nil), urls...), Weight: m.Weight, MaxStorage: m.MaxStorage,
		CanSeal: m.CanSeal, CanStore: m.CanStore, Groups: m.Groups, AllowTo: m.AllowTo,
		AllowTypes: m.AllowTypes, DenyTypes: m.DenyTypes, AllowMiners: m.AllowMiners, DenyMiners: m.DenyMiners,
	}
}

// ParseMinerID parses a miner as "t0<id>", "f0<id>" or "<id>" (canonical decimal).
func ParseMinerID(s string) (abi.ActorID, error) {
	num := s
	if len(s) > 2 && (s[0] == 't' || s[0] == 'f') && s[1] == '0' {
		num = s[2:]
	}
	if num == "" || (len(num) > 1 && num[0] == '0') || strings.TrimLeft(num, "0123456789") != "" {
		return 0, fmt.Errorf("miner %q: accepted are t0<id>, f0<id> or <id> with a canonical decimal id", s)
	}
	v, err := strconv.ParseUint(num, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("miner %q: %w", s, err)
	}
	return abi.ActorID(v), nil
}

// minerAllowed applies allow/deny miner lists (already validated; unparsable entries match nothing).
func minerAllowed(allow, deny []string, miner abi.ActorID) bool {
	in := func(list []string) bool {
		for _, s := range list {
			if id, err := ParseMinerID(s); err == nil && id == miner {
				return true
			}
		}
		return false
	}
	if len(allow) > 0 && !in(allow) {
		return false
	}
	return !in(deny)
}

// ReadMeta reads and validates the sectorstore.json of the path at root.
func ReadMeta(root string) (LocalStorageMeta, error) {
	var m LocalStorageMeta
	b, err := os.ReadFile(filepath.Join(root, MetaFile))
	if err != nil {
		return m, fmt.Errorf("reading storage metadata of %s: %w", root, err)
	}
	dec := json.NewDecoder(strings.NewReader(string(b)))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&m); err != nil {
		return m, fmt.Errorf("parsing %s: %w", filepath.Join(root, MetaFile), err)
	}
	if err := m.Validate(); err != nil {
		return m, fmt.Errorf("%s: %w", root, err)
	}
	return m, nil
}

// InitPath makes root a storage path: it creates the directory, one subdirectory per file type and a
// sectorstore.json with meta (a new UUID if meta.ID is empty). It refuses a directory that already has a
// sectorstore.json. The metadata is written to a temporary name and renamed, so a failure leaves no half file.
func InitPath(root string, meta LocalStorageMeta) (LocalStorageMeta, error) {
	if meta.ID == "" {
		meta.ID = storiface.ID(uuid.NewString())
	}
	if err := meta.Validate(); err != nil {
		return meta, err
	}
	if _, err := os.Stat(filepath.Join(root, MetaFile)); err == nil {
		return meta, fmt.Errorf("initialising %s: %s already exists", root, MetaFile)
	} else if !errors.Is(err, os.ErrNotExist) {
		return meta, fmt.Errorf("initialising %s: %w", root, err)
	}
	if err := os.MkdirAll(root, 0o755); err != nil {
		return meta, fmt.Errorf("initialising %s: %w", root, err)
	}
	if err := ensureTypeDirs(root); err != nil {
		return meta, err
	}
	return meta, writeJSONAtomic(filepath.Join(root, MetaFile), meta)
}

// ensureTypeDirs creates the file-type directories of a path.
func ensureTypeDirs(root string) error {
	for _, t := range storiface.PathTypes {
		if err := os.MkdirAll(filepath.Join(root, t.String()), 0o755); err != nil {
			return fmt.Errorf("creating %s directory in %s: %w", t, root, err)
		}
	}
	return nil
}

// writeJSONAtomic writes v as indented JSON to a temporary file next to name, syncs it and renames it over name.
func writeJSONAtomic(name string, v any) error {
	b, err := json.MarshalIndent(v, "", "  ")
	if err != nil {
		return fmt.Errorf("encoding %s: %w", name, err)
	}
	tmp, err := os.CreateTemp(filepath.Dir(name), "."+filepath.Base(name)+".tmp-*")
	if err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	defer os.Remove(tmp.Name()) //nolint:errcheck // gone after a successful rename
	if _, err := tmp.Write(append(b, '\n')); err != nil {
		tmp.Close()
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := tmp.Sync(); err != nil {
		tmp.Close()
		return fmt.Errorf("syncing %s: %w", name, err)
	}
	if err := tmp.Close(); err != nil {
		return fmt.Errorf("writing %s: %w", name, err)
	}
	if err := os.Rename(tmp.Name(), name); err != nil {
		return fmt.Errorf("renaming into %s: %w", name, err)
	}
	return nil
}
