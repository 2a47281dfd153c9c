package stores

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// DefaultHeartbeatInterval is how often a Local reports the health of its paths to the index.
const DefaultHeartbeatInterval = 10 * time.Second

// ErrPathNotFound is returned for a storage ID that is not attached to this node.
var ErrPathNotFound = errors.New("storage path not attached here")

// LocalOptions configures a Local. The zero value works: no URLs (nothing fetches from this node), heartbeats
// every DefaultHeartbeatInterval on a real ticker, the default logger.
type LocalOptions struct {
	// URLs are the /remote endpoints other nodes fetch this node's files from, e.g. http://10.0.0.2:2345/remote.
	URLs []string
	// HeartbeatInterval is the period of health reports in Run.
	HeartbeatInterval time.Duration
	// NewTicker makes Run's ticker; tests pass one whose channel they drive. It returns the channel and a stop func.
	NewTicker func(d time.Duration) (<-chan time.Time, func())
	// Logger receives the store's logs.
	Logger *slog.Logger
}

// Local manages the storage paths attached to this node: their settings, their files, space reservations and
// health reports to the index. It never talks to other nodes (Remote does). Safe for concurrent use.
type Local struct {
	ls    LocalStorage
	index SectorIndex
	urls  []string
	log   *slog.Logger

	interval  time.Duration
	newTicker func(d time.Duration) (<-chan time.Time, func())
	reportNow chan struct{}

	mu    sync.RWMutex // guards paths; taken before any path.mu
	paths map[storiface.ID]*path
}

// NewLocal opens every path listed in the node's storage.json and declares its files in the index.
func NewLocal(ctx context.Context, ls LocalStorage, index SectorIndex, opts LocalOptions) (*Local, error) {
	st := &Local{
		ls: ls, index: index, urls: append([]string(nil), opts.URLs...), log: opts.Logger,
		interval: opts.HeartbeatInterval, newTicker: opts.NewTicker,
		reportNow: make(chan struct{}, 1), paths: map[storiface.ID]*path{},
	}
	if st.log == nil {
		st.log = slog.Default()
	}
	st.log = st.log.With("component", "stores.local")
	if st.interval <= 0 {
		st.interval = DefaultHeartbeatInterval
	}
	if st.newTicker == nil {
		st.newTicker = func(d time.Duration) (<-chan time.Time, func()) {
			t := time.NewTicker(d)
			return t.C, t.Stop
		}
	}
	cfg, err := ls.GetStorage()
	if err != nil {
		return nil, fmt.Errorf("reading local storage config: %w", err)
	}
	for _, p := range cfg.StoragePaths {
		if err := st.OpenPath(ctx, p.Path); err != nil {
			return nil, fmt.Errorf("opening path %s: %w", p.Path, err)
		}
	}
	return st, nil
}

// URLs returns the /remote endpoints this node advertises.
func (st *Local) URLs() []string { return append([]string(nil), st.urls...) }

// OpenPath opens the path at root (which must hold a sectorstore.json), attaches it to the index with its
// current figures and declares the sector files it holds. Leftovers of interrupted fetches are removed first.
func (st *Local) OpenPath(ctx context.Context, root string) error {
	root, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("opening path %s: %w", root, err)
	}
	meta, err := ReadMeta(root)
	if err != nil {
		return err
	}
	if err := ensureTypeDirs(root); err != nil {
		return err
	}
	if err := cleanFetchTemp(root); err != nil {
		return err
	}

	st.mu.Lock()
	defer st.mu.Unlock()
	if p, ok := st.paths[meta.ID]; ok {
		return fmt.Errorf("path %s (ID %s) is already open at %s", root, meta.ID, p.root)
	}
	for _, p := range st.paths {
		if p.root == root {
			return fmt.Errorf("path %s is already open with ID %s", root, p.id)
		}
	}
	p := newPath(meta, root)
	fst, err := p.stat(st.ls, true)
	if err != nil {
		return err
	}
	if err := st.index.StorageAttach(ctx, meta.StorageInfo(st.urls), fst); err != nil {
		return fmt.Errorf("attaching %s to the index: %w", meta.ID, err)
	}
	if err := st.declareSectors(ctx, p, false); err != nil {
		return err
	}
	st.paths[meta.ID] = p
	st.log.Info("opened storage path", "id", meta.ID, "path", root, "seal", meta.CanSeal, "store", meta.CanStore)
	return nil
}

// ClosePath detaches an open path from the index (its declarations go with it) and stops using it here.
func (st *Local) ClosePath(ctx context.Context, id storiface.ID) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if _, ok := st.paths[id]; !ok {
		return fmt.Errorf("closing %s: %w", id, ErrPathNotFound)
	}
	urls := st.urls
	if len(urls) == 0 {
		urls = []string{""}
	}
	for _, u := range urls {
		if err := st.index.StorageDetach(ctx, id, u); err != nil {
			return fmt.Errorf("detaching %s (url %q): %w", id, u, err)
		}
	}
	delete(st.paths, id)
	return nil
}

// AttachPath opens the path at root and adds it to storage.json so it is opened again at the next start.
func (st *Local) AttachPath(ctx context.Context, root string) error {
	abs, err := filepath.Abs(root)
	if err != nil {
		return fmt.Errorf("attaching %s: %w", root, err)
	}
	if err := st.OpenPath(ctx, abs); err != nil {
		return err
	}
	return st.ls.SetStorage(func(c *StorageConfig) {
		for _, p := range c.StoragePaths {
			if p.Path == abs {
				return
			}
		}
		c.StoragePaths = append(c.StoragePaths, LocalPath{Path: abs})
	})
}

// DetachPath closes the path at root (or with that storage ID) and removes it from storage.json.
func (st *Local) DetachPath(ctx context.Context, rootOrID string) error {
	id, root, err := st.resolve(rootOrID)
	if err != nil {
		return err
	}
	if err := st.ClosePath(ctx, id); err != nil {
		return err
	}
	return st.ls.SetStorage(func(c *StorageConfig) {
		kept := c.StoragePaths[:0]
		for _, p := range c.StoragePaths {
			if p.Path != root {
				kept = append(kept, p)
			}
		}
		c.StoragePaths = kept
	})
}

// resolve finds an open path by root directory or storage ID.
func (st *Local) resolve(rootOrID string) (storiface.ID, string, error) {
	abs, _ := filepath.Abs(rootOrID)
	st.mu.RLock()
	defer st.mu.RUnlock()
	for id, p := range st.paths {
		if string(id) == rootOrID || p.root == abs {
			return id, p.root, nil
		}
	}
	return "", "", fmt.Errorf("path %q: %w", rootOrID, ErrPathNotFound)
}

// Redeclare re-reads the settings of the open paths (only id's if not nil), re-attaches them and declares their
// files again; with dropMissing, declarations of files no longer on disk are dropped.
func (st *Local) Redeclare(ctx context.Context, id *storiface.ID, dropMissing bool) error {
	st.mu.Lock()
	defer st.mu.Unlock()
	if id != nil {
		if _, ok := st.paths[*id]; !ok {
			return fmt.Errorf("redeclaring %s: %w", *id, ErrPathNotFound)
		}
	}
	for pid, p := range st.paths {
		if id != nil && *id != pid {
			continue
		}
		meta, err := ReadMeta(p.root)
		if err != nil {
			return err
		}
		if meta.ID != pid {
			return fmt.Errorf("redeclaring %s: its %s now says ID %s; detach and attach it instead", p.root, MetaFile, meta.ID)
		}
		p.setMeta(meta)
		fst, err := p.stat(st.ls, true)
		if err != nil {
			return err
		}
		if err := st.index.StorageAttach(ctx, meta.StorageInfo(st.urls), fst); err != nil {
			return fmt.Errorf("re-attaching %s: %w", pid, err)
		}
		if err := st.declareSectors(ctx, p, dropMissing); err != nil {
			return err
		}
	}
	return nil
}

// declareSectors declares every sector file found under p (primary if the path can store) and, with dropMissing,
// drops the index's declarations of files that are gone. Names that are not sector names are skipped with a
// warning rather than failing the whole path. A file that is not declared in p while the index holds a primary
// copy of it in another path is left undeclared (see leftoverCopies).
func (st *Local) declareSectors(ctx context.Context, p *path, dropMissing bool) error {
	meta := p.getMeta()
	var found []storiface.Decl
	for _, t := range storiface.PathTypes {
		dir := filepath.Join(p.root, t.String())
		ents, err := os.ReadDir(dir)
		if err != nil {
			return fmt.Errorf("listing %s: %w", dir, err)
		}
		for _, ent := range ents {
			if ent.Name() == FetchTempSubdir || strings.Contains(ent.Name(), TempSuffix) {
				continue // in flight: never declared
			}
			sid, err := storiface.ParseSectorName(ent.Name())
			if err != nil {
				st.log.Warn("ignoring a file that is not a sector file", "path", filepath.Join(dir, ent.Name()))
				continue
			}
			found = append(found, storiface.Decl{SectorID: sid, SectorFileType: t})
		}
	}
	if len(found) == 0 && !dropMissing {
		return nil // an empty path: nothing to declare, and no need to list the index
	}
	all, err := st.index.StorageList(ctx)
	if err != nil {
		return fmt.Errorf("listing declarations: %w", err)
	}
	found, err = st.withoutLeftovers(ctx, p, found, all[meta.ID])
	if err != nil {
		return err
	}
	if err := declareAll(ctx, st.index, meta.ID, found, meta.CanStore); err != nil {
		return fmt.Errorf("declaring the sectors of %s: %w", p.root, err)
	}
	if !dropMissing {
		return nil
	}
	present := map[storiface.Decl]bool{}
	for _, d := range found {
		present[d] = true
	}
	for _, d := range all[meta.ID] {
		for _, t := range d.SectorFileType.All() {
			if present[storiface.Decl{SectorID: d.SectorID, SectorFileType: t}] {
				continue
			}
			if err := st.index.StorageDropSector(ctx, meta.ID, d.SectorID, t); err != nil {
				return fmt.Errorf("dropping missing %s of %s: %w", t, storiface.SectorName(d.SectorID), err)
			}
		}
	}
	return nil
}

// withoutLeftovers returns found minus the files that are leftovers of a move: not declared in p (declared lists
// p's current declarations) while a primary copy is declared in another path. A move that could not delete its
// source (the source node was down) drops the source's declaration; declaring that stale copy again when its
// node comes back would let tasks run on outdated files. Leftovers stay on disk, with a warning, for the
// operator to remove; a copy whose only other declarations are non-primary is declared as usual.
func (st *Local) withoutLeftovers(ctx context.Context, p *path, found, declared []storiface.Decl) ([]storiface.Decl, error) {
	here := map[storiface.Decl]bool{}
	for _, d := range declared {
		for _, t := range d.SectorFileType.All() {
			here[storiface.Decl{SectorID: d.SectorID, SectorFileType: t}] = true
		}
	}
	id := p.getMeta().ID
	kept := found[:0:0]
	for _, d := range found {
		if here[d] {
			kept = append(kept, d)
			continue
		}
		elsewhere, err := st.index.StorageFindSector(ctx, d.SectorID, d.SectorFileType, 0, false)
		if err != nil {
			return nil, fmt.Errorf("looking up %s of %s: %w", d.SectorFileType, storiface.SectorName(d.SectorID), err)
		}
		if slices.ContainsFunc(elsewhere, func(si storiface.SectorStorageInfo) bool { return si.ID != id && si.Primary }) {
			st.log.Warn("not declaring a leftover copy: the file is primary in another path (moved away while this node was down)",
				"path", p.root, "sector", storiface.SectorName(d.SectorID), "type", d.SectorFileType)
			continue
		}
		kept = append(kept, d)
	}
	return kept, nil
}

// BatchDeclarer is implemented by indexes that declare many files in one transaction (Index does). Local uses it
// when opening or redeclaring a path.
type BatchDeclarer interface {
	StorageDeclareSectors(ctx context.Context, id storiface.ID, decls []storiface.Decl, primary bool) error
}

func declareAll(ctx context.Context, index SectorIndex, id storiface.ID, decls []storiface.Decl, primary bool) error {
	if bd, ok := index.(BatchDeclarer); ok {
		return bd.StorageDeclareSectors(ctx, id, decls, primary)
	}
	for _, d := range decls {
		if err := index.StorageDeclareSector(ctx, id, d.SectorID, d.SectorFileType, primary); err != nil {
			return err
		}
	}
	return nil
}

// cleanFetchTemp removes the fetch temp directories of a path: whatever they hold was never declared.
func cleanFetchTemp(root string) error {
	for _, t := range storiface.PathTypes {
		if err := os.RemoveAll(filepath.Join(root, t.String(), FetchTempSubdir)); err != nil {
			return fmt.Errorf("cleaning fetch temp dir of %s: %w", root, err)
		}
	}
	return nil
}

// Local lists the paths open on this node.
func (st *Local) Local(ctx context.Context) ([]storiface.StoragePath, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	out := make([]storiface.StoragePath, 0, len(st.paths))
	for id, p := range st.paths {
		m := p.getMeta()
		out = append(out, storiface.StoragePath{ID: id, Weight: m.Weight, LocalPath: p.root, CanSeal: m.CanSeal, CanStore: m.CanStore})
	}
	sort.Slice(out, func(i, j int) bool { return out[i].ID < out[j].ID })
	return out, nil
}

// FsStat returns the capacity and use of a local path, reservations included.
func (st *Local) FsStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error) {
	p, err := st.path(id)
	if err != nil {
		return storiface.FsStat{}, err
	}
	return p.stat(st.ls, false)
}

// path returns an open path.
func (st *Local) path(id storiface.ID) (*path, error) {
	st.mu.RLock()
	defer st.mu.RUnlock()
	p, ok := st.paths[id]
	if !ok {
		return nil, fmt.Errorf("%s: %w", id, ErrPathNotFound)
	}
	return p, nil
}

// LocalPathOf returns where file type ft of sector s lives (or would live) in the open path id.
func (st *Local) LocalPathOf(id storiface.ID, s abi.SectorID, ft storiface.SectorFileType) (string, error) {
	p, err := st.path(id)
	if err != nil {
		return "", err
	}
	return p.sectorPath(s, ft), nil
}

// root returns the directory of an open path.
func (st *Local) root(id storiface.ID) (string, bool) {
	p, err := st.path(id)
	if err != nil {
		return "", false
	}
	return p.root, true
}
