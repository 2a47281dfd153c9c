package stores

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// DefaultFetchLimit is how many fetches a node runs at once by default.
const DefaultFetchLimit = 4

// DefaultStreams is how many parallel range requests fetch one large file by default.
const DefaultStreams = 4

// RemoteOptions configures a Remote; the zero value gives the defaults.
type RemoteOptions struct {
	// Auth holds the headers sent with every request to other nodes (Authorization: Bearer <admin JWT>).
	Auth http.Header
	// Client is the HTTP client (default: one without compression and with large buffers).
	Client *http.Client
	// FetchLimit caps the fetches running at once on this node (DefaultFetchLimit if 0).
	FetchLimit int
	// Streams is how many connections fetch one large sector file in parallel, as byte ranges
	// (DefaultStreams if 0; 1 for a single stream). It applies to http:// URLs with the default client.
	Streams int
	// ParallelMin is the smallest file fetched in parallel ranges (DefaultParallelMin if 0).
	ParallelMin int64
	// Logger receives the store's logs.
	Logger *slog.Logger
	// OnFetch, when set, is called after each successful fetch with the bytes fetched and the time the
	// download took (e.g. to feed metrics.AddFetch).
	OnFetch func(bytes int64, d time.Duration)
}

// Remote is the Store of a node: Local for what is here, the index and other nodes' /remote for the rest.
// One fetch per sector runs at a time (others wait for it, then find the file local), and at most FetchLimit
// fetches run on the node, so a burst of tasks does not start a fetch storm.
type Remote struct {
	onFetch     func(int64, time.Duration)
	local       *Local
	index       SectorIndex
	auth        http.Header
	client      *http.Client
	raw         bool // plain-http downloads over our own connection, so files are spliced socket → disk
	streams     int
	parallelMin int64
	limit       chan struct{}
	log         *slog.Logger

	mu       sync.Mutex
	fetching map[abi.SectorID]chan struct{}
}

var _ Store = (*Remote)(nil)

// NewRemote returns the Store of a node over its Local and the cluster's index.
func NewRemote(local *Local, index SectorIndex, opts RemoteOptions) *Remote {
	r := &Remote{local: local, index: index, auth: opts.Auth.Clone(), client: opts.Client,
		log: opts.Logger, fetching: map[abi.SectorID]chan struct{}{}, onFetch: opts.OnFetch}
	if r.client == nil {
		r.raw = true
		r.client = &http.Client{Transport: &http.Transport{
			Proxy: http.ProxyFromEnvironment, DisableCompression: true, MaxIdleConnsPerHost: 16,
			ReadBufferSize: 1 << 20, WriteBufferSize: 64 << 10, ForceAttemptHTTP2: false,
		}}
	}
	if r.auth == nil {
		r.auth = http.Header{}
	}
	r.streams, r.parallelMin = opts.Streams, DefaultParallelMin
	if opts.ParallelMin > 0 {
		r.parallelMin = opts.ParallelMin
	}
	if r.streams <= 0 {
		r.streams = DefaultStreams
	}
	n := opts.FetchLimit
	if n <= 0 {
		n = DefaultFetchLimit
	}
	r.limit = make(chan struct{}, n)
	if r.log == nil {
		r.log = slog.Default()
	}
	r.log = r.log.With("component", "stores.remote")
	return r
}

// lockSector waits until no other fetch of sector s runs here, then claims it; the returned func gives it back.
func (r *Remote) lockSector(ctx context.Context, s abi.SectorID) (func(), error) {
	for {
		r.mu.Lock()
		c, busy := r.fetching[s]
		if !busy {
			done := make(chan struct{})
			r.fetching[s] = done
			r.mu.Unlock()
			return func() {
				r.mu.Lock()
				delete(r.fetching, s)
				r.mu.Unlock()
				close(done)
			}, nil
		}
		r.mu.Unlock()
		select {
		case <-c:
		case <-ctx.Done():
			return nil, fmt.Errorf("waiting for another fetch of %s: %w", storiface.SectorName(s), ctx.Err())
		}
	}
}

// AcquireSector is Local.AcquireSector plus fetching: existing types this node lacks are fetched from the other
// paths that hold them (healthy before stale, primary first, then highest weight, every URL of each), after
// reserving room in the best local path of kind pt. A file is fetched into the path's temp dir, verified, renamed
// into place and only then declared (primary if op is AcquireMove, in which case the source copy is then
// deleted). On failure or cancellation the temp files are removed and the reservation released.
func (r *Remote) AcquireSector(ctx context.Context, s storiface.SectorRef, existing, allocate storiface.SectorFileType, pt storiface.PathType, op storiface.AcquireMode) (paths, ids storiface.SectorPaths, err error) {
	if existing&allocate != 0 {
		return paths, ids, storiface.Errf(storiface.ErrBadInput, "acquiring %s: %s both existing and allocated", s, existing&allocate)
	}
	unlock, err := r.lockSector(ctx, s.ID)
	if err != nil {
		return paths, ids, err
	}
	defer unlock()

	paths, ids, err = r.local.AcquireSector(ctx, s, existing, allocate, pt, op)
	if err != nil {
		return paths, ids, fmt.Errorf("acquiring %s locally: %w", s, err)
	}
	var toFetch storiface.SectorFileType
	for _, t := range existing.All() {
		if paths.PathByType(t) == "" {
			toFetch |= t
		}
	}
	if toFetch == storiface.FTNone {
		return paths, ids, nil
	}
	dst, dstIDs, release, err := r.local.AllocateAndReserve(ctx, s, toFetch, pt)
	if err != nil {
		return storiface.SectorPaths{}, storiface.SectorPaths{}, fmt.Errorf("making room to fetch %s of %s: %w", toFetch, s, err)
	}
	defer release()
	for _, t := range toFetch.All() {
		dstID := storiface.ID(dstIDs.PathByType(t))
		src, srcID, err := r.fetchType(ctx, s.ID, t, dstID, dst.PathByType(t))
		if err != nil {
			return storiface.SectorPaths{}, storiface.SectorPaths{}, err
		}
		if err := r.index.StorageDeclareSector(ctx, dstID, s.ID, t, op == storiface.AcquireMove); err != nil {
			return storiface.SectorPaths{}, storiface.SectorPaths{}, fmt.Errorf("declaring fetched %s of %s in %s: %w", t, s, dstID, err)
		}
		paths.SetPathByType(t, dst.PathByType(t))
		ids.SetPathByType(t, string(dstID))
		if op == storiface.AcquireMove {
			r.dropMovedSource(ctx, s.ID, t, src, srcID, dstID)
		}
	}
	return paths, ids, nil
}

// dropMovedSource deletes the source copy of a moved file (file type t of sector s, fetched from URL src in
// path srcID to path dstID). If the source node cannot delete it (it is down, say), the source's declaration is
// dropped from the index so that no task is placed on the stale copy; when that node opens the path again it
// finds the file declared primary elsewhere and leaves it undeclared (Local.declareSectors).
func (r *Remote) dropMovedSource(ctx context.Context, s abi.SectorID, t storiface.SectorFileType, src string, srcID, dstID storiface.ID) {
	err := r.deleteRemote(ctx, src, []storiface.ID{dstID})
	if err == nil {
		return
	}
	r.log.Warn("deleting the source of a moved file; dropping its declaration", "url", src, "storage", srcID, "err", err)
	if derr := r.index.StorageDropSector(context.WithoutCancel(ctx), srcID, s, t); derr != nil {
		r.log.Error("dropping the declaration of a moved file's source", "storage", srcID,
			"sector", storiface.SectorName(s), "type", t, "err", derr)
	}
}

// fetchType fetches file type t of sector s into dest (in local path dstID) from the first source that works,
// returning the URL it came from and that source's path.
func (r *Remote) fetchType(ctx context.Context, s abi.SectorID, t storiface.SectorFileType, dstID storiface.ID, dest string) (string, storiface.ID, error) {
	sources, err := r.index.StorageFindSector(ctx, s, t, 0, false)
	if err != nil {
		return "", "", fmt.Errorf("finding sources of %s of %s: %w", t, storiface.SectorName(s), err)
	}
	p, err := r.local.path(dstID)
	if err != nil {
		return "", "", err
	}
	tmp := p.fetchTempPath(s, t)
	var errs []error
	for _, src := range sources {
		if _, local := r.local.root(src.ID); local {
			continue // declared here but not found by Local: nothing to fetch from ourselves
		}
		for _, u := range src.URLs {
			err := r.fetchOne(ctx, u, dest, tmp)
			if err == nil {
				if len(errs) > 0 {
					r.log.Warn("fetched after failed attempts", "url", u, "errors", errors.Join(errs...))
				}
				return u, src.ID, nil
			}
			errs = append(errs, fmt.Errorf("%s (storage %s): %w", u, src.ID, err))
			if ctx.Err() != nil {
				return "", "", fmt.Errorf("fetching %s of %s: %w", t, storiface.SectorName(s), ctx.Err())
			}
		}
	}
	// Both are worth retrying later (a node may come back, a file may be declared), hence the temporary code.
	if len(errs) == 0 {
		return "", "", storiface.Errf(storiface.ErrTempUnknown, "fetching %s of %s: no other node holds it", t, storiface.SectorName(s))
	}
	return "", "", storiface.Err(storiface.ErrTempUnknown, fmt.Errorf("fetching %s of %s: every source failed: %w",
		t, storiface.SectorName(s), errors.Join(errs...)))
}

// fetchOne downloads one URL into tmp, verifies it and renames it to dest; on failure tmp is removed.
func (r *Remote) fetchOne(ctx context.Context, u, dest, tmp string) (err error) {
	select {
	case r.limit <- struct{}{}:
		defer func() { <-r.limit }()
	case <-ctx.Done():
		return ctx.Err()
	}
	if err := removeAndPrepare(tmp); err != nil {
		return err
	}
	defer func() {
		if err != nil {
			if rerr := removeAll(tmp); rerr != nil {
				err = errors.Join(err, rerr)
			}
		}
	}()
	start := time.Now()
	if err := r.download(ctx, u, tmp); err != nil {
		return err
	}
	if r.onFetch != nil {
		took := time.Since(start)
		if n, err := DiskUsage(tmp); err == nil {
			r.onFetch(n, took)
		}
	}
	if err := removeAll(dest); err != nil { // an undeclared leftover
		return err
	}
	if err := ensureParent(dest); err != nil {
		return err
	}
	return renameInto(tmp, dest)
}

// deleteRemote asks the node behind a file URL to delete its copies, except in the paths of keep.
func (r *Remote) deleteRemote(ctx context.Context, fileURL string, keep []storiface.ID) error {
	u, err := url.Parse(fileURL)
	if err != nil {
		return err
	}
	if len(keep) > 0 {
		ks := make([]string, len(keep))
		for k, id := range keep {
			ks[k] = string(id)
		}
		u.RawQuery = url.Values{"keep": {strings.Join(ks, ",")}}.Encode()
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodDelete, u.String(), nil)
	if err != nil {
		return err
	}
	req.Header = r.auth.Clone()
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		return fmt.Errorf("DELETE %s: status %d: %s", u, resp.StatusCode, strings.TrimSpace(string(msg)))
	}
	return nil
}

// Reserve reserves space in local paths (see Local.Reserve).
func (r *Remote) Reserve(ctx context.Context, s storiface.SectorRef, ft storiface.SectorFileType, ids storiface.SectorPaths, pt storiface.PathType) (func(), error) {
	return r.local.Reserve(ctx, s, ft, ids, pt)
}

// Remove deletes the files of the types everywhere except in keepIn: the local copies directly, the others by
// asking their nodes. Without force, a type declared nowhere is an error.
func (r *Remote) Remove(ctx context.Context, s abi.SectorID, types storiface.SectorFileType, force bool, keepIn []storiface.ID) error {
	if err := r.local.Remove(ctx, s, types, force, keepIn); err != nil {
		return fmt.Errorf("removing local copies: %w", err)
	}
	for _, t := range types.All() {
		if err := r.removeRemote(ctx, s, t, func(si storiface.SectorStorageInfo) bool { return slices.Contains(keepIn, si.ID) }, keepIn); err != nil {
			return err
		}
	}
	return nil
}

// RemoveCopies deletes every non-primary copy of the types, here and on other nodes, if a primary exists.
func (r *Remote) RemoveCopies(ctx context.Context, s abi.SectorID, types storiface.SectorFileType) error {
	if err := r.local.RemoveCopies(ctx, s, types); err != nil {
		return fmt.Errorf("removing local copies: %w", err)
	}
	for _, t := range types.All() {
		found, err := r.index.StorageFindSector(ctx, s, t, 0, false)
		if err != nil {
			return fmt.Errorf("finding %s of %s: %w", t, storiface.SectorName(s), err)
		}
		var keep []storiface.ID
		for _, si := range found {
			if si.Primary {
				keep = append(keep, si.ID)
			}
		}
		if len(keep) == 0 {
			continue
		}
		if err := r.removeRemote(ctx, s, t, func(si storiface.SectorStorageInfo) bool { return si.Primary }, keep); err != nil {
			return err
		}
	}
	return nil
}

// removeRemote sends DELETE (with keep) to each non-local holder of type t that skip does not spare.
func (r *Remote) removeRemote(ctx context.Context, s abi.SectorID, t storiface.SectorFileType, skip func(storiface.SectorStorageInfo) bool, keep []storiface.ID) error {
	found, err := r.index.StorageFindSector(ctx, s, t, 0, false)
	if err != nil {
		return fmt.Errorf("finding %s of %s: %w", t, storiface.SectorName(s), err)
	}
	for _, si := range found {
		if _, local := r.local.root(si.ID); local || skip(si) {
			continue
		}
		var errs []error
		for _, u := range si.URLs {
			if err := r.deleteRemote(ctx, u, keep); err != nil {
				errs = append(errs, err)
				continue
			}
			errs = nil
			break
		}
		if len(errs) > 0 {
			return fmt.Errorf("removing %s of %s in %s: %w", t, storiface.SectorName(s), si.ID, errors.Join(errs...))
		}
	}
	return nil
}

// MoveStorage brings the files here (moving them) and then into a local storage path.
func (r *Remote) MoveStorage(ctx context.Context, s storiface.SectorRef, types storiface.SectorFileType) error {
	if _, _, err := r.AcquireSector(ctx, s, types, storiface.FTNone, storiface.PathStorage, storiface.AcquireMove); err != nil {
		return fmt.Errorf("moving %s: bringing files here: %w", s, err)
	}
	return r.local.MoveStorage(ctx, s, types)
}

// FsStat returns a path's figures: locally if attached here, else from its node's /remote/stat.
func (r *Remote) FsStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error) {
	st, err := r.local.FsStat(ctx, id)
	if !errors.Is(err, ErrPathNotFound) {
		return st, err
	}
	si, err := r.index.StorageInfo(ctx, id)
	if err != nil {
		return storiface.FsStat{}, fmt.Errorf("stat of %s: %w", id, err)
	}
	var errs []error
	for _, base := range si.URLs {
		st, err := r.statURL(ctx, strings.TrimRight(base, "/")+"/stat/"+url.PathEscape(string(id)))
		if err == nil {
			return st, nil
		}
		errs = append(errs, err)
	}
	return storiface.FsStat{}, fmt.Errorf("stat of %s: every URL failed: %w", id, errors.Join(errs...))
}

func (r *Remote) statURL(ctx context.Context, u string) (storiface.FsStat, error) {
	var st storiface.FsStat
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return st, err
	}
	req.Header = r.auth.Clone()
	resp, err := r.client.Do(req)
	if err != nil {
		return st, err
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		return st, fmt.Errorf("GET %s: status %d", u, resp.StatusCode)
	}
	if err := json.NewDecoder(resp.Body).Decode(&st); err != nil {
		return st, fmt.Errorf("GET %s: %w", u, err)
	}
	return st, nil
}
