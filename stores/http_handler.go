package stores

import (
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// Authorizer checks a /remote request's credentials (a JWT with admin permission, in the manager and workers).
// A non-nil error refuses the request with 401.
type Authorizer func(r *http.Request) error

// AllocatedFunc reports whether the unsealed file at path holds data for the unpadded range [offset,
// offset+size) of a sector of ssize. The seal/partialfile package provides it; nil treats every unsealed file as
// fully allocated (true for files without an allocation trailer).
type AllocatedFunc func(path string, ssize abi.SectorSize, offset storiface.UnpaddedByteIndex, size abi.UnpaddedPieceSize) (bool, error)

// Response headers of a cache-directory tar stream, so the receiver can verify it got everything.
const (
	HeaderTarFiles  = "X-Sealfleet-Tar-Files" // number of regular files in the stream
	HeaderTarBytes  = "X-Sealfleet-Tar-Bytes" // sum of their sizes
	TrailerChecksum = "X-Sealfleet-Crc32c"    // trailer: CRC-32C (Castagnoli) of the whole tar stream, hex
	contentTypeTar  = "application/x-tar"     // cache directories
	contentTypeFile = "application/octet-stream"
)

// FetchHandler serves a node's sector files to other nodes under /remote:
//
//	GET    /remote/stat/{id}                                      FsStat of an attached path (JSON)
//	GET    /remote/{type}/{sector}                                a file (Range supported) or a cache dir (tar)
//	DELETE /remote/{type}/{sector}?keep=id,id                     remove the local copies not in keep
//	GET    /remote/{type}/{sector}/{spt}/allocated/{offset}/{size} 200 if the unsealed range is allocated, else 416
//
// Every request must pass Auth. Only files declared in the index in a path attached to Local are reachable:
// names are parsed strictly, paths with "..", encoded slashes or backslashes are refused, files are opened
// through os.Root (no escape by symlink) and symlinks themselves are not served.
type FetchHandler struct {
	Local     *Local
	Auth      Authorizer
	Allocated AllocatedFunc
	Log       *slog.Logger

	mux     *http.ServeMux
	serving chan struct{} // one slot per file or directory being sent
	waiting atomic.Int64  // requests waiting for a slot
}

// Transfers reports how many transfers are being served and how many wait for a slot.
func (h *FetchHandler) Transfers() (serving, waiting int) {
	return len(h.serving), int(h.waiting.Load())
}

// DefaultMaxServing is how many file transfers a node's /remote serves at once; more wait their turn, so a burst
// of fetchers (a fetch storm) does not thrash the source's disks.
const DefaultMaxServing = 16

// SetMaxServing changes how many transfers are served at once (n ≥ 1). Call it before serving requests.
func (h *FetchHandler) SetMaxServing(n int) {
	h.serving = make(chan struct{}, max(n, 1))
}

// NewFetchHandler returns a handler serving local's files to requests that auth accepts. auth must not be nil.
func NewFetchHandler(local *Local, auth Authorizer, allocated AllocatedFunc) *FetchHandler {
	h := &FetchHandler{Local: local, Auth: auth, Allocated: allocated, Log: local.log.With("component", "stores.remote-handler"),
		serving: make(chan struct{}, DefaultMaxServing)}
	h.mux = http.NewServeMux()
	h.mux.HandleFunc("GET /remote/stat/{id}", h.stat)
	h.mux.HandleFunc("GET /remote/{type}/{sector}", h.get)
	h.mux.HandleFunc("DELETE /remote/{type}/{sector}", h.delete)
	h.mux.HandleFunc("GET /remote/{type}/{sector}/{spt}/allocated/{offset}/{size}", h.allocated)
	return h
}

// ServeHTTP authorises the request, refuses suspicious paths and dispatches it.
func (h *FetchHandler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if h.Auth == nil {
		http.Error(w, "no authorizer configured", http.StatusUnauthorized)
		return
	}
	if err := h.Auth(r); err != nil {
		http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
		return
	}
	raw := r.URL.EscapedPath()
	lower := strings.ToLower(raw)
	if strings.Contains(lower, "%2f") || strings.Contains(lower, "%5c") || strings.Contains(raw, `\`) ||
		strings.Contains(lower, "%2e") || hasDotSegment(r.URL.Path) {
		http.Error(w, "bad path", http.StatusBadRequest)
		return
	}
	h.mux.ServeHTTP(w, r)
}

// hasDotSegment reports whether a path has a "." or ".." segment.
func hasDotSegment(p string) bool {
	for _, seg := range strings.Split(p, "/") {
		if seg == ".." || seg == "." {
			return true
		}
	}
	return false
}

func (h *FetchHandler) stat(w http.ResponseWriter, r *http.Request) {
	st, err := h.Local.FsStat(r.Context(), storiface.ID(r.PathValue("id")))
	if errors.Is(err, ErrPathNotFound) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	if err != nil {
		h.Log.Error("stat", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "application/json")
	if err := json.NewEncoder(w).Encode(st); err != nil {
		h.Log.Warn("writing stat response", "err", err)
	}
}

// parseTarget parses {type} and {sector}; errors are meant for a 400 response.
func parseTarget(r *http.Request) (storiface.SectorFileType, abi.SectorID, error) {
	ft, err := storiface.ParseFileType(r.PathValue("type"))
	if err != nil {
		return 0, abi.SectorID{}, err
	}
	sid, err := storiface.ParseSectorName(r.PathValue("sector"))
	if err != nil {
		return 0, abi.SectorID{}, err
	}
	return ft, sid, nil
}

// errNotHere means the file is not declared in a path attached to this node.
var errNotHere = errors.New("sector file not declared in a path of this node")

// open finds a declared local copy of file ft of sector s and opens it inside its path's root.
func (h *FetchHandler) open(r *http.Request, ft storiface.SectorFileType, s abi.SectorID) (*os.Root, string, os.FileInfo, error) {
	found, err := h.Local.index.StorageFindSector(r.Context(), s, ft, 0, false)
	if err != nil {
		return nil, "", nil, fmt.Errorf("finding %s of %s: %w", ft, storiface.SectorName(s), err)
	}
	rel := ft.String() + "/" + storiface.SectorName(s)
	for _, si := range found {
		dir, ok := h.Local.root(si.ID)
		if !ok {
			continue
		}
		root, err := os.OpenRoot(dir)
		if err != nil {
			return nil, "", nil, fmt.Errorf("opening %s: %w", dir, err)
		}
		fi, err := root.Lstat(rel)
		if err != nil || fi.Mode()&os.ModeSymlink != 0 || !(fi.Mode().IsRegular() || fi.IsDir()) {
			root.Close()
			continue
		}
		return root, rel, fi, nil
	}
	return nil, "", nil, errNotHere
}

func (h *FetchHandler) get(w http.ResponseWriter, r *http.Request) {
	ft, sid, err := parseTarget(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	root, rel, fi, err := h.open(r, ft, sid)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer root.Close()
	if r.Method == http.MethodGet { // HEAD sends no body: no slot needed
		h.waiting.Add(1)
		select {
		case h.serving <- struct{}{}:
			h.waiting.Add(-1)
			defer func() { <-h.serving }()
		case <-r.Context().Done():
			h.waiting.Add(-1)
			http.Error(w, "too many transfers in progress", http.StatusServiceUnavailable)
			return
		}
	}
	if fi.IsDir() {
		if r.Header.Get("Range") != "" {
			http.Error(w, "Range is not supported on directories", http.StatusRequestedRangeNotSatisfiable)
			return
		}
		h.serveTar(w, r, root, rel)
		return
	}
	f, err := root.Open(rel)
	if err != nil {
		h.fail(w, err)
		return
	}
	defer f.Close()
	w.Header().Set("Content-Type", contentTypeFile)
	// ServeContent handles Range and, copying from an *os.File to the connection, uses sendfile.
	http.ServeContent(w, r, "", fi.ModTime(), f)
}

// fail answers 404 for files that are not here and 500 otherwise.
func (h *FetchHandler) fail(w http.ResponseWriter, err error) {
	if errors.Is(err, errNotHere) || errors.Is(err, os.ErrNotExist) {
		http.Error(w, err.Error(), http.StatusNotFound)
		return
	}
	h.Log.Error("serving sector file", "err", err)
	http.Error(w, err.Error(), http.StatusInternalServerError)
}

func (h *FetchHandler) delete(w http.ResponseWriter, r *http.Request) {
	ft, sid, err := parseTarget(r)
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var keep []storiface.ID
	for _, k := range strings.Split(r.URL.Query().Get("keep"), ",") {
		if k = strings.TrimSpace(k); k != "" {
			keep = append(keep, storiface.ID(k))
		}
	}
	if err := h.Local.Remove(r.Context(), sid, ft, true, keep); err != nil {
		h.Log.Error("remote delete", "sector", storiface.SectorName(sid), "type", ft.String(), "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
		return
	}
	w.WriteHeader(http.StatusOK)
}

func (h *FetchHandler) allocated(w http.ResponseWriter, r *http.Request) {
	ft, sid, err := parseTarget(r)
	if err == nil && ft != storiface.FTUnsealed {
		err = fmt.Errorf("allocated ranges exist only for unsealed files, not %s", ft)
	}
	var ssize abi.SectorSize
	var offset, size uint64
	if err == nil {
		ssize, offset, size, err = parseAllocated(r)
	}
	if err != nil {
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	root, rel, fi, err := h.open(r, ft, sid)
	if err != nil {
		h.fail(w, err)
		return
	}
	root.Close()
	if fi.IsDir() {
		http.Error(w, "unsealed file is a directory", http.StatusInternalServerError)
		return
	}
	has := true
	if h.Allocated != nil {
		has, err = h.Allocated(filepath.Join(root.Name(), rel), ssize, storiface.UnpaddedByteIndex(offset), abi.UnpaddedPieceSize(size))
		if err != nil {
			h.Log.Error("checking allocated range", "err", err)
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
	}
	if !has {
		w.WriteHeader(http.StatusRequestedRangeNotSatisfiable)
		return
	}
	w.WriteHeader(http.StatusOK)
}

// parseAllocated parses {spt}, {offset} and {size} of an allocated-range request and checks they fit the sector.
func parseAllocated(r *http.Request) (abi.SectorSize, uint64, uint64, error) {
	spt, err := strconv.ParseInt(r.PathValue("spt"), 10, 64)
	if err != nil {
		return 0, 0, 0, fmt.Errorf("seal proof type %q: want a registered seal proof number", r.PathValue("spt"))
	}
	ssize, err := abi.RegisteredSealProof(spt).SectorSize()
	if err != nil {
		return 0, 0, 0, fmt.Errorf("seal proof type %d: %w", spt, err)
	}
	offset, err1 := strconv.ParseUint(r.PathValue("offset"), 10, 64)
	size, err2 := strconv.ParseUint(r.PathValue("size"), 10, 64)
	if err1 != nil || err2 != nil {
		return 0, 0, 0, errors.New("offset and size: want unpadded byte counts in decimal")
	}
	if err := storiface.UnpaddedByteIndex(offset).Valid(); err != nil {
		return 0, 0, 0, err
	}
	if err := abi.UnpaddedPieceSize(size).Validate(); err != nil {
		return 0, 0, 0, fmt.Errorf("size %d: %w", size, err)
	}
	if max := uint64(abi.PaddedPieceSize(ssize).Unpadded()); offset > max || size > max-offset {
		return 0, 0, 0, fmt.Errorf("range %d+%d is beyond the sector's %d unpadded bytes", offset, size, max)
	}
	return ssize, offset, size, nil
}
