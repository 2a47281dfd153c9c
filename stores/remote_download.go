package stores

import (
	"bufio"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"os"
	"strings"
	"sync"
	"time"
)

// download GETs u into tmp and verifies it (see receive). Plain-http URLs go over a connection of our own (when
// the Remote uses its default client) so that the body of a sector file is spliced from the socket into the file
// without passing through user space; the sender uses sendfile, so the bytes are copied only by the kernel.
func (r *Remote) download(ctx context.Context, u, tmp string) error {
	if pu, err := url.Parse(u); err == nil && r.raw && pu.Scheme == "http" {
		return r.downloadRaw(ctx, pu, tmp)
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, u, nil)
	if err != nil {
		return err
	}
	req.Header = r.auth.Clone()
	resp, err := r.client.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return err
	}
	return receive(resp, tmp)
}

func checkStatus(resp *http.Response) error {
	if resp.StatusCode == http.StatusOK {
		return nil
	}
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	return fmt.Errorf("status %d: %s", resp.StatusCode, strings.TrimSpace(string(msg)))
}

// rawConn is one HTTP/1.1 exchange over a connection of our own.
type rawConn struct {
	conn net.Conn
	br   *bufio.Reader
	stop func() bool
}

func (c *rawConn) close() {
	c.stop()
	c.conn.Close()
}

// rawDo sends one request over a new connection (Connection: close) and reads the response headers. Cancelling
// ctx sets a past deadline on the connection, which ends any read in progress.
func (r *Remote) rawDo(ctx context.Context, method string, pu *url.URL, hdr map[string]string) (*rawConn, *http.Response, error) {
	host := pu.Host
	if pu.Port() == "" {
		host = net.JoinHostPort(pu.Hostname(), "80")
	}
	var d net.Dialer
	conn, err := d.DialContext(ctx, "tcp", host)
	if err != nil {
		return nil, nil, err
	}
	c := &rawConn{conn: conn, br: bufio.NewReaderSize(conn, 64<<10)}
	c.stop = context.AfterFunc(ctx, func() { conn.SetDeadline(time.Unix(1, 0)) }) //nolint:errcheck // best effort wake-up
	req, err := http.NewRequestWithContext(ctx, method, pu.String(), nil)
	if err != nil {
		c.close()
		return nil, nil, err
	}
	req.Header = r.auth.Clone()
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	req.Close = true
	if err := req.Write(conn); err != nil {
		c.close()
		return nil, nil, fmt.Errorf("sending request: %w", err)
	}
	resp, err := http.ReadResponse(c.br, req)
	if err != nil {
		c.close()
		return nil, nil, fmt.Errorf("reading response: %w", err)
	}
	return c, resp, nil
}

// DefaultParallelMin is the smallest file fetched over several connections.
const DefaultParallelMin = 64 << 20

// downloadRaw is download over connections of our own. A large sector file is fetched as Streams byte ranges
// in parallel (after a HEAD for its size, with If-Range so a file changed in between is refused); anything else
// over one connection.
func (r *Remote) downloadRaw(ctx context.Context, pu *url.URL, tmp string) (err error) {
	defer func() {
		if err != nil && ctx.Err() != nil {
			err = fmt.Errorf("%w (%v)", ctx.Err(), err)
		}
	}()
	if r.streams > 1 {
		c, resp, err := r.rawDo(ctx, http.MethodHead, pu, nil)
		if err != nil {
			return err
		}
		c.close()
		if err := checkStatus(resp); err != nil {
			return err
		}
		if resp.Header.Get("Content-Type") == contentTypeFile && resp.ContentLength >= r.parallelMin {
			return r.downloadRanges(ctx, pu, tmp, resp.ContentLength, resp.Header.Get("Last-Modified"))
		}
	}
	c, resp, err := r.rawDo(ctx, http.MethodGet, pu, nil)
	if err != nil {
		return err
	}
	defer c.close()
	defer resp.Body.Close()
	if err := checkStatus(resp); err != nil {
		return err
	}
	if resp.Header.Get("Content-Type") != contentTypeFile || resp.ContentLength < 0 || len(resp.TransferEncoding) > 0 {
		return receive(resp, tmp) // tar streams and anything unusual: the ordinary body reader
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	err = spliceInto(f, c, resp.ContentLength)
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// spliceInto writes exactly n body bytes into f at its offset: what bufio already read, then the rest straight
// from the connection (File.ReadFrom splices from a TCP socket).
func spliceInto(f *os.File, c *rawConn, n int64) error {
	head, err := io.CopyN(f, c.br, min(int64(c.br.Buffered()), n))
	if err != nil {
		return err
	}
	rest, err := f.ReadFrom(io.LimitReader(c.conn, n-head))
	if err != nil {
		return err
	}
	if head+rest != n {
		return fmt.Errorf("got %d of %d bytes", head+rest, n)
	}
	return nil
}

// downloadRanges fetches a file of size bytes as r.streams ranges over parallel connections into a new file tmp,
// each range written at its offset; the first failure cancels the others. The file is synced before return.
func (r *Remote) downloadRanges(ctx context.Context, pu *url.URL, tmp string, size int64, lastMod string) error {
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := f.Truncate(size); err != nil {
		return err
	}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	part := (size/int64(r.streams) + copyBufSize - 1) / copyBufSize * copyBufSize
	var wg sync.WaitGroup
	for off := int64(0); off < size; off += part {
		end := min(off+part, size) - 1
		wg.Go(func() {
			if err := r.fetchRange(ctx, pu, tmp, off, end, size, lastMod); err != nil {
				cancel(fmt.Errorf("range %d-%d: %w", off, end, err))
			}
		})
	}
	wg.Wait()
	if err := context.Cause(ctx); err != nil {
		return err
	}
	if err := f.Sync(); err != nil {
		return err
	}
	fi, err := f.Stat()
	if err == nil && fi.Size() != size {
		err = fmt.Errorf("file is %d bytes, want %d", fi.Size(), size)
	}
	return err
}

// fetchRange fetches bytes [off, end] of a file of size into tmp at off, checking the server answered exactly
// that range of the same file version.
func (r *Remote) fetchRange(ctx context.Context, pu *url.URL, tmp string, off, end, size int64, lastMod string) error {
	hdr := map[string]string{"Range": fmt.Sprintf("bytes=%d-%d", off, end)}
	if lastMod != "" {
		hdr["If-Range"] = lastMod
	}
	c, resp, err := r.rawDo(ctx, http.MethodGet, pu, hdr)
	if err != nil {
		return err
	}
	defer c.close()
	defer resp.Body.Close()
	want := fmt.Sprintf("bytes %d-%d/%d", off, end, size)
	if resp.StatusCode != http.StatusPartialContent || resp.Header.Get("Content-Range") != want || resp.ContentLength != end-off+1 {
		return fmt.Errorf("status %d, Content-Range %q: want 206 with %q (did the file change?)",
			resp.StatusCode, resp.Header.Get("Content-Range"), want)
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY, 0)
	if err != nil {
		return err
	}
	defer f.Close()
	if _, err := f.Seek(off, io.SeekStart); err != nil {
		return err
	}
	return spliceInto(f, c, end-off+1)
}
