package worker

import (
	"context"
	"fmt"
	"io"
	"net/http"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// zeroReader reads zeros forever.
type zeroReader struct{}

func (zeroReader) Read(p []byte) (int, error) {
	clear(p)
	return len(p), nil
}

// pieceReader opens the bytes of a piece: zeros for a pledge piece, else the body of a GET of data.URL. The
// reader yields exactly size bytes or an error; close it when done.
func pieceReader(ctx context.Context, size abi.UnpaddedPieceSize, data storiface.PieceData) (io.ReadCloser, error) {
	if data.IsZero() {
		return io.NopCloser(io.LimitReader(zeroReader{}, int64(size))), nil
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, data.URL, nil)
	if err != nil {
		return nil, storiface.Errf(storiface.ErrBadInput, "piece data URL %q: %v", data.URL, err)
	}
	for k, v := range data.Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		return nil, storiface.Errf(storiface.ErrTempUnknown, "fetching piece data %s: %v", data.URL, err)
	}
	if resp.StatusCode != http.StatusOK {
		resp.Body.Close()
		return nil, storiface.Errf(storiface.ErrTempUnknown, "fetching piece data %s: HTTP %s", data.URL, resp.Status)
	}
	return &exactReader{r: resp.Body, left: int64(size), c: resp.Body}, nil
}

// exactReader yields exactly left bytes of r: a short body is an error, not a short piece.
type exactReader struct {
	r    io.Reader
	c    io.Closer
	left int64
}

func (e *exactReader) Read(p []byte) (int, error) {
	if e.left <= 0 {
		return 0, io.EOF
	}
	if int64(len(p)) > e.left {
		p = p[:e.left]
	}
	n, err := e.r.Read(p)
	e.left -= int64(n)
	if err == io.EOF && e.left > 0 {
		return n, fmt.Errorf("piece data ended %d bytes early", e.left)
	}
	if err == io.EOF {
		err = nil
	}
	return n, err
}

func (e *exactReader) Close() error { return e.c.Close() }
