package pipeline

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// DirPieceStore keeps piece bytes as files in a local directory, served to workers over HTTP by Handler.
// Files are written under a temporary name and renamed once complete, so a served file is always whole.
type DirPieceStore struct {
	dir     string
	baseURL string
	headers map[string]string
}

var _ PieceStore = (*DirPieceStore)(nil)

// pieceSuffix ends every stored piece file; temporary files end in ".tmp".
const pieceSuffix = ".piece"

// NewDirPieceStore opens (creating) dir. baseURL is where Handler is reachable from workers (e.g.
// "http://manager:2345/piece-data"); headers are sent by workers with each GET (e.g. an Authorization token).
// Leftover temporary files from an interrupted Put are removed.
func NewDirPieceStore(dir, baseURL string, headers map[string]string) (*DirPieceStore, error) {
	if dir == "" || baseURL == "" {
		return nil, errors.New("piece store: dir and baseURL are required")
	}
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return nil, fmt.Errorf("piece store: creating %s: %w", dir, err)
	}
	tmps, err := filepath.Glob(filepath.Join(dir, "*.tmp"))
	if err != nil {
		return nil, fmt.Errorf("piece store: listing %s: %w", dir, err)
	}
	for _, t := range tmps {
		if err := os.Remove(t); err != nil {
			return nil, fmt.Errorf("piece store: removing leftover %s: %w", t, err)
		}
	}
	return &DirPieceStore{dir: dir, baseURL: strings.TrimRight(baseURL, "/"), headers: headers}, nil
}

// Put implements PieceStore: it copies exactly size bytes from r to a new file and returns its URL.
func (d *DirPieceStore) Put(ctx context.Context, r io.Reader, size abi.UnpaddedPieceSize) (storiface.PieceData, func(), error) {
	var idb [16]byte
	if _, err := rand.Read(idb[:]); err != nil {
		return storiface.PieceData{}, nil, fmt.Errorf("piece store: naming piece: %w", err)
	}
	id := hex.EncodeToString(idb[:])
	final := filepath.Join(d.dir, id+pieceSuffix)
	tmp := final + ".tmp"
	f, err := os.Create(tmp)
	if err != nil {
		return storiface.PieceData{}, nil, fmt.Errorf("piece store: %w", err)
	}
	n, err := io.Copy(f, io.LimitReader(ctxReader{ctx, r}, int64(size)))
	if err == nil && n < int64(size) {
		err = fmt.Errorf("read %d of %d bytes: %w", n, size, io.ErrUnexpectedEOF)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	if err == nil {
		err = os.Rename(tmp, final)
	}
	if err != nil {
		_ = os.Remove(tmp)
		return storiface.PieceData{}, nil, fmt.Errorf("piece store: writing piece: %w", err)
	}
	hdr := make(map[string]string, len(d.headers))
	for k, v := range d.headers {
		hdr[k] = v
	}
	data := storiface.PieceData{URL: d.baseURL + "/" + id, Headers: hdr}
	return data, func() { _ = os.Remove(final) }, nil
}

// Release implements PieceStore. Data not from this store is an error; a file already gone is not.
func (d *DirPieceStore) Release(_ context.Context, data storiface.PieceData) error {
	id, ok := strings.CutPrefix(data.URL, d.baseURL+"/")
	if !ok || !validPieceID(id) {
		return fmt.Errorf("piece store: %q is not a URL of this store (%s/<id>)", data.URL, d.baseURL)
	}
	if err := os.Remove(filepath.Join(d.dir, id+pieceSuffix)); err != nil && !errors.Is(err, os.ErrNotExist) {
		return fmt.Errorf("piece store: %w", err)
	}
	return nil
}

// Handler serves GET <prefix>/<id> for the stored pieces (Range requests included); authorize is called
// first and an error from it answers 401. Mount it with http.StripPrefix so the path is "/<id>".
func (d *DirPieceStore) Handler(authorize func(*http.Request) error) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "method not allowed: use GET", http.StatusMethodNotAllowed)
			return
		}
		if err := authorize(r); err != nil {
			http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
			return
		}
		id := strings.TrimPrefix(r.URL.Path, "/")
		if !validPieceID(id) {
			http.Error(w, "bad piece id: want 32 hex digits", http.StatusBadRequest)
			return
		}
		f, err := os.Open(filepath.Join(d.dir, id+pieceSuffix))
		if errors.Is(err, os.ErrNotExist) {
			http.Error(w, "no such piece", http.StatusNotFound)
			return
		}
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		defer f.Close()
		st, err := f.Stat()
		if err != nil {
			http.Error(w, err.Error(), http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "application/octet-stream")
		http.ServeContent(w, r, "", st.ModTime(), f)
	})
}

// validPieceID accepts exactly the ids Put makes: 32 lower-case hex digits (so no path can escape dir).
func validPieceID(id string) bool {
	if len(id) != 32 {
		return false
	}
	for _, c := range id {
		if (c < '0' || c > '9') && (c < 'a' || c > 'f') {
			return false
		}
	}
	return true
}

// ctxReader stops reading once ctx is cancelled.
type ctxReader struct {
	ctx context.Context
	r   io.Reader
}

func (c ctxReader) Read(b []byte) (int, error) {
	if err := c.ctx.Err(); err != nil {
		return 0, err
	}
	return c.r.Read(b)
}
