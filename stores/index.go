package stores

import (
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"slices"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
	"sealfleet/storiface"
)

// DefaultStaleAfter is how long a path may go without a heartbeat before the index stops offering it
// (five missed heartbeats at DefaultHeartbeatInterval).
const DefaultStaleAfter = 5 * DefaultHeartbeatInterval

// ErrStorageNotFound is returned for a storage ID the index does not know.
var ErrStorageNotFound = errors.New("storage path not in the index")

// IndexOptions configures an Index; the zero value gives the defaults.
type IndexOptions struct {
	// StaleAfter is the heartbeat age beyond which a path is not offered for allocation or as a fetch target.
	StaleAfter time.Duration
	// Now is the clock (time.Now if nil); tests inject a fake one.
	Now func() time.Time
	// Logger receives the index's logs.
	Logger *slog.Logger
}

// Index is the cluster's sector index: the SQL tables are the durable record and an in-memory copy, written
// through under one lock, answers every read. Sector locks are process state and live only in memory.
type Index struct {
	*indexLocks

	db         *db.DB
	now        func() time.Time
	staleAfter time.Duration
	log        *slog.Logger

	// wmu serialises writers: each writes SQL first, holding only wmu, then applies the change in memory under mu.
	// Readers take mu alone, so they never wait for the disk. Heartbeats (memory only) take mu alone.
	wmu     sync.Mutex
	mu      sync.RWMutex // guards stores, order, sectors and every entry's fields
	stores  map[storiface.ID]*storeEntry
	order   []*storeEntry // every path, best allocation score first (see reorder)
	sectors map[abi.SectorID][]declEntry
}

var _ SectorIndex = (*Index)(nil)
var _ BatchDeclarer = (*Index)(nil)

// storeEntry is what the index knows of one path.
type storeEntry struct {
	info          storiface.StorageInfo
	baseURLs      []string                 // info.URLs without trailing slashes
	allowed       storiface.SectorFileType // the types AllowTypes/DenyTypes let in
	allowMiners   []abi.ActorID
	denyMiners    []abi.ActorID
	stat          storiface.FsStat
	lastHeartbeat time.Time
	heartbeatErr  string
	files         int // declarations (sector, type) in this path
}

// declEntry is one path's declarations for one sector.
type declEntry struct {
	storage storiface.ID
	types   storiface.SectorFileType
	primary storiface.SectorFileType
}

// indexMigrations is the schema of the "stores" component.
var indexMigrations = []db.Migration{{
	Name: "storage paths and sector files",
	SQL: `CREATE TABLE storage_paths (
		id TEXT PRIMARY KEY,
		info TEXT NOT NULL,
		stat TEXT NOT NULL,
		attached_at BIGINT NOT NULL
	);
	CREATE TABLE sector_files (
		storage_id TEXT NOT NULL,
		miner BIGINT NOT NULL,
		number BIGINT NOT NULL,
		file_type INTEGER NOT NULL,
		is_primary INTEGER NOT NULL,
		PRIMARY KEY (miner, number, file_type, storage_id)
	);
	CREATE INDEX sector_files_storage ON sector_files (storage_id)`,
}}

// NewIndex applies the schema and loads the index from d. Paths loaded from the database get a full StaleAfter
// from now to send a heartbeat, so a manager restart does not leave every path "stale" (and every allocation
// failing) until the first heartbeats arrive.
func NewIndex(ctx context.Context, d *db.DB, opts IndexOptions) (*Index, error) {
	if err := d.Migrate(ctx, "stores", indexMigrations); err != nil {
		return nil, fmt.Errorf("sector index schema: %w", err)
	}
	i := &Index{
		indexLocks: newIndexLocks(),
		db:         d, now: opts.Now, staleAfter: opts.StaleAfter, log: opts.Logger,
		stores: map[storiface.ID]*storeEntry{}, sectors: map[abi.SectorID][]declEntry{},
	}
	if i.now == nil {
		i.now = time.Now
	}
	if i.staleAfter <= 0 {
		i.staleAfter = DefaultStaleAfter
	}
	if i.log == nil {
		i.log = slog.Default()
	}
	i.log = i.log.With("component", "stores.index")
	if err := i.load(ctx); err != nil {
		return nil, err
	}
	return i, nil
}

// load fills the in-memory copy from SQL.
func (i *Index) load(ctx context.Context) error {
	rows, err := i.db.QueryContext(ctx, `SELECT id, info, stat FROM storage_paths`)
	if err != nil {
		return fmt.Errorf("loading storage paths: %w", err)
	}
	defer rows.Close()
	now := i.now()
	for rows.Next() {
		var id, infoJSON, statJSON string
		if err := rows.Scan(&id, &infoJSON, &statJSON); err != nil {
			return fmt.Errorf("loading storage paths: %w", err)
		}
		e := &storeEntry{lastHeartbeat: now}
		if err := json.Unmarshal([]byte(infoJSON), &e.info); err != nil {
			return fmt.Errorf("loading storage path %s: %w", id, err)
		}
		if err := json.Unmarshal([]byte(statJSON), &e.stat); err != nil {
			return fmt.Errorf("loading storage path %s: %w", id, err)
		}
		e.setInfo(e.info)
		i.stores[storiface.ID(id)] = e
		i.reorder(e)
	}
	if err := rows.Err(); err != nil {
		return fmt.Errorf("loading storage paths: %w", err)
	}
	return i.loadSectors(ctx)
}

func (i *Index) loadSectors(ctx context.Context) error {
	rows, err := i.db.QueryContext(ctx, `SELECT storage_id, miner, number, file_type, is_primary FROM sector_files`)
	if err != nil {
		return fmt.Errorf("loading sector files: %w", err)
	}
	defer rows.Close()
	for rows.Next() {
		var id string
		var miner, number uint64
		var ft, primary int
		if err := rows.Scan(&id, &miner, &number, &ft, &primary); err != nil {
			return fmt.Errorf("loading sector files: %w", err)
		}
		e, ok := i.stores[storiface.ID(id)]
		if !ok {
			continue
		}
		s := abi.SectorID{Miner: abi.ActorID(miner), Number: abi.SectorNumber(number)}
		i.declareMem(e, storiface.ID(id), s, storiface.SectorFileType(ft), primary != 0)
	}
	return rows.Err()
}

// setInfo records a path's settings with the derived filters that the hot paths use.
func (e *storeEntry) setInfo(info storiface.StorageInfo) {
	e.info = info
	e.baseURLs = trimURLs(info.URLs)
	e.allowed = storiface.FTAll.SubAllowed(info.AllowTypes, info.DenyTypes)
	e.allowMiners, e.denyMiners = parseMiners(info.AllowMiners), parseMiners(info.DenyMiners)
}

// parseMiners parses validated miner strings (unparsable ones are dropped: they match no miner).
func parseMiners(list []string) []abi.ActorID {
	var out []abi.ActorID
	for _, s := range list {
		if id, err := ParseMinerID(s); err == nil {
			out = append(out, id)
		}
	}
	return out
}

// minerOK applies the path's allow/deny miner lists.
func (e *storeEntry) minerOK(miner abi.ActorID) bool {
	if len(e.allowMiners) > 0 && !slices.Contains(e.allowMiners, miner) {
		return false
	}
	return !slices.Contains(e.denyMiners, miner)
}

// trimURLs copies urls without trailing slashes.
func trimURLs(urls []string) []string {
	out := make([]string, len(urls))
	for k, u := range urls {
		out[k] = strings.TrimRight(u, "/")
	}
	return out
}

// validateInfo checks what a node sends when attaching a path.
func validateInfo(si storiface.StorageInfo) error {
	meta := LocalStorageMeta{ID: si.ID, CanSeal: si.CanSeal, CanStore: si.CanStore, Groups: si.Groups,
		AllowTo: si.AllowTo, AllowTypes: si.AllowTypes, DenyTypes: si.DenyTypes,
		AllowMiners: si.AllowMiners, DenyMiners: si.DenyMiners}
	if err := meta.Validate(); err != nil {
		return err
	}
	for _, u := range si.URLs {
		pu, err := url.Parse(u)
		if err != nil || (pu.Scheme != "http" && pu.Scheme != "https") || pu.Host == "" {
			return fmt.Errorf("storage %s: URL %q: accepted is an absolute http(s) URL such as http://host:port/remote", si.ID, u)
		}
	}
	return nil
}

// StorageAttach registers a path or updates a known one: its URLs are merged (the new ones first), its settings
// and figures replaced, and the attach counts as a heartbeat.
func (i *Index) StorageAttach(ctx context.Context, si storiface.StorageInfo, st storiface.FsStat) error {
	if err := validateInfo(si); err != nil {
		return storiface.Err(storiface.ErrBadInput, fmt.Errorf("attaching storage: %w", err))
	}
	i.wmu.Lock()
	defer i.wmu.Unlock()
	e, known := i.stores[si.ID]
	merged := si
	if known { // the URLs just attached first: a node that moved is tried at its new address before the old one
		merged.URLs = append([]string(nil), si.URLs...)
		for _, u := range e.info.URLs {
			if !slices.Contains(merged.URLs, u) {
				merged.URLs = append(merged.URLs, u)
			}
		}
	}
	infoJSON, _ := json.Marshal(merged)
	statJSON, _ := json.Marshal(st)
	now := i.now()
	if _, err := i.db.ExecContext(ctx, i.db.Rebind(`INSERT INTO storage_paths (id, info, stat, attached_at)
		VALUES (?, ?, ?, ?) ON CONFLICT (id) DO UPDATE SET info = excluded.info, stat = excluded.stat`),
		string(si.ID), string(infoJSON), string(statJSON), now.UnixNano()); err != nil {
		return fmt.Errorf("attaching storage %s: %w", si.ID, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	if !known {
		e = &storeEntry{}
		i.stores[si.ID] = e
		i.log.Info("storage path attached", "id", si.ID, "urls", si.URLs)
	}
	e.setInfo(merged)
	e.stat = st
	e.lastHeartbeat, e.heartbeatErr = now, ""
	i.reorder(e)
	return nil
}

// StorageDetach removes URL u of path id; when no URL is left (or the path never had one) the path and its
// declarations are forgotten. A URL the path does not have is an error.
func (i *Index) StorageDetach(ctx context.Context, id storiface.ID, u string) error {
	i.wmu.Lock()
	defer i.wmu.Unlock()
	e, ok := i.stores[id]
	if !ok {
		return fmt.Errorf("detaching %s: %w", id, ErrStorageNotFound)
	}
	if len(e.info.URLs) > 0 {
		if !slices.Contains(e.info.URLs, u) {
			return fmt.Errorf("detaching %s: it has no URL %q (it has %v)", id, u, e.info.URLs)
		}
		if len(e.info.URLs) > 1 {
			info := e.info
			info.URLs = slices.DeleteFunc(slices.Clone(info.URLs), func(x string) bool { return x == u })
			infoJSON, _ := json.Marshal(info)
			if _, err := i.db.ExecContext(ctx, i.db.Rebind(`UPDATE storage_paths SET info = ? WHERE id = ?`),
				string(infoJSON), string(id)); err != nil {
				return fmt.Errorf("detaching URL %s of %s: %w", u, id, err)
			}
			i.mu.Lock()
			defer i.mu.Unlock()
			e.setInfo(info)
			return nil
		}
	}
	if err := i.inTx(ctx, func(tx *sql.Tx) error {
		if _, err := tx.ExecContext(ctx, i.db.Rebind(`DELETE FROM sector_files WHERE storage_id = ?`), string(id)); err != nil {
			return err
		}
		_, err := tx.ExecContext(ctx, i.db.Rebind(`DELETE FROM storage_paths WHERE id = ?`), string(id))
		return err
	}); err != nil {
		return fmt.Errorf("detaching %s: %w", id, err)
	}
	i.mu.Lock()
	defer i.mu.Unlock()
	for s, decls := range i.sectors {
		if slices.ContainsFunc(decls, func(d declEntry) bool { return d.storage == id }) {
			i.setDecls(s, slices.DeleteFunc(decls, func(d declEntry) bool { return d.storage == id }))
		}
	}
	delete(i.stores, id)
	i.unorder(e)
	i.log.Warn("storage path detached", "id", id, "declarations", e.files)
	return nil
}

// inTx runs f in a transaction, committing if it returns nil.
func (i *Index) inTx(ctx context.Context, f func(tx *sql.Tx) error) error {
	tx, err := i.db.BeginTx(ctx, nil)
	if err != nil {
		return err
	}
	if err := f(tx); err != nil {
		tx.Rollback() //nolint:errcheck // the error from f matters more
		return err
	}
	return tx.Commit()
}

// StorageInfo returns the index's record of a path.
func (i *Index) StorageInfo(ctx context.Context, id storiface.ID) (storiface.StorageInfo, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	e, ok := i.stores[id]
	if !ok {
		return storiface.StorageInfo{}, fmt.Errorf("storage %s: %w", id, ErrStorageNotFound)
	}
	return e.info, nil
}

// StorageReportHealth records a heartbeat: the path's figures and error (a path reporting an error is not
// offered until a report without one). Heartbeats live in memory only; they are not a durable record.
func (i *Index) StorageReportHealth(ctx context.Context, id storiface.ID, r storiface.HealthReport) error {
	i.mu.Lock()
	defer i.mu.Unlock()
	e, ok := i.stores[id]
	if !ok {
		return fmt.Errorf("health report for %s: %w", id, ErrStorageNotFound)
	}
	e.stat, e.heartbeatErr, e.lastHeartbeat = r.Stat, r.Err, i.now()
	i.reorder(e)
	return nil
}

// PathStatus is a path as the index sees it, for operators (storage list).
type PathStatus struct {
	Info          storiface.StorageInfo
	Stat          storiface.FsStat
	LastHeartbeat time.Time
	HeartbeatErr  string
	// Healthy is false when the last heartbeat is older than the stale threshold or carried an error.
	Healthy bool
	// Files is the number of sector files declared in the path.
	Files int
}

// StoragePaths lists every path with its figures and health, sorted by ID.
func (i *Index) StoragePaths(ctx context.Context) ([]PathStatus, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	now := i.now()
	out := make([]PathStatus, 0, len(i.stores))
	for _, e := range i.stores {
		out = append(out, PathStatus{Info: e.info, Stat: e.stat, LastHeartbeat: e.lastHeartbeat,
			HeartbeatErr: e.heartbeatErr, Healthy: i.healthy(e, now) == "", Files: e.files})
	}
	sort.Slice(out, func(a, b int) bool { return out[a].Info.ID < out[b].Info.ID })
	return out, nil
}

// StorageStat returns the figures of a path from its last heartbeat.
func (i *Index) StorageStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	e, ok := i.stores[id]
	if !ok {
		return storiface.FsStat{}, fmt.Errorf("storage %s: %w", id, ErrStorageNotFound)
	}
	return e.stat, nil
}

// healthy returns "" for a path with a fresh, error-free heartbeat, else the reason it is not offered.
func (i *Index) healthy(e *storeEntry, now time.Time) string {
	if age := now.Sub(e.lastHeartbeat); age > i.staleAfter {
		return fmt.Sprintf("no heartbeat for %s (threshold %s)", age.Round(time.Second), i.staleAfter)
	}
	if e.heartbeatErr != "" {
		return "heartbeat error: " + e.heartbeatErr
	}
	return ""
}

// StorageList lists every path with the sector files declared in it (one Decl per sector, types merged).
func (i *Index) StorageList(ctx context.Context) (map[storiface.ID][]storiface.Decl, error) {
	i.mu.RLock()
	defer i.mu.RUnlock()
	out := make(map[storiface.ID][]storiface.Decl, len(i.stores))
	for id := range i.stores {
		out[id] = []storiface.Decl{}
	}
	for s, decls := range i.sectors {
		for _, d := range decls {
			out[d.storage] = append(out[d.storage], storiface.Decl{SectorID: s, SectorFileType: d.types})
		}
	}
	for _, l := range out {
		sort.Slice(l, func(a, b int) bool {
			if l[a].Miner != l[b].Miner {
				return l[a].Miner < l[b].Miner
			}
			return l[a].Number < l[b].Number
		})
	}
	return out, nil
}
