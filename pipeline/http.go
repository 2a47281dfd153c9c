package pipeline

import (
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// The paths Handler serves.
const (
	// PiecesPath takes deal data: POST PiecesPath?size=N with the N payload bytes as the body answers a JSON
	// SectorPieceLocation.
	PiecesPath = "/pieces"
	// ReadPath reads unsealed data: GET ReadPath/<sector>?offset=O&size=S answers the S bytes.
	ReadPath = "/pieces/read"
)

// Handler serves PiecesPath and ReadPath for p (mount it at both paths on the manager's mux). authorize is
// called first with the request and the permission needed ("write" to add, "read" to read); an error answers
// 401. Bad input answers 400 with the reason, an unknown sector 404.
func Handler(p *Pipeline, authorize func(r *http.Request, perm string) error) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+PiecesPath, func(w http.ResponseWriter, r *http.Request) {
		if err := authorize(r, "write"); err != nil {
			http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
			return
		}
		size, err := strconv.ParseUint(r.URL.Query().Get("size"), 10, 64)
		if err != nil {
			http.Error(w, "query parameter size: want the payload length in bytes", http.StatusBadRequest)
			return
		}
		if r.ContentLength >= 0 && uint64(r.ContentLength) != size {
			http.Error(w, fmt.Sprintf("body has %d bytes, size says %d", r.ContentLength, size), http.StatusBadRequest)
			return
		}
		loc, err := p.AddPiece(r.Context(), r.Body, size)
		if err != nil {
			httpError(w, err)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		_ = json.NewEncoder(w).Encode(loc)
	})
	mux.HandleFunc("GET "+ReadPath+"/{sector}", func(w http.ResponseWriter, r *http.Request) {
		if err := authorize(r, "read"); err != nil {
			http.Error(w, "unauthorized: "+err.Error(), http.StatusUnauthorized)
			return
		}
		n, err1 := strconv.ParseUint(r.PathValue("sector"), 10, 64)
		off, err2 := strconv.ParseUint(r.URL.Query().Get("offset"), 10, 64)
		size, err3 := strconv.ParseUint(r.URL.Query().Get("size"), 10, 64)
		if err := errors.Join(err1, err2, err3); err != nil {
			http.Error(w, "want "+ReadPath+"/<sector>?offset=<bytes>&size=<bytes> (decimal): "+err.Error(),
				http.StatusBadRequest)
			return
		}
		tw := &trackingWriter{w: w}
		err := p.ReadPiece(r.Context(), tw, abi.SectorNumber(n), storiface.UnpaddedByteIndex(off), abi.UnpaddedPieceSize(size))
		if err != nil && !tw.wrote {
			httpError(w, err)
		}
	})
	return mux
}

// httpError answers err with its status: 400 for bad input, 404 for an unknown sector, 500 otherwise.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, ErrBadInput):
		code = http.StatusBadRequest
	case errors.Is(err, ErrUnknownSector):
		code = http.StatusNotFound
	}
	http.Error(w, err.Error(), code)
}

// trackingWriter records whether the body has started (after which an error can no longer change the status).
type trackingWriter struct {
	w     http.ResponseWriter
	wrote bool
}

func (t *trackingWriter) Write(b []byte) (int, error) {
	if !t.wrote {
		t.w.Header().Set("Content-Type", "application/octet-stream")
		t.wrote = true
	}
	return t.w.Write(b)
}
