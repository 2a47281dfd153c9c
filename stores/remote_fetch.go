package stores

import (
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"os"
	"strconv"
)

// writerOnly hides *os.File's ReadFrom, whose generic fallback copies through a small buffer; with it hidden,
// io.CopyBuffer uses the large buffer given.
type writerOnly struct{ io.Writer }

// receive writes a /remote GET response into tmp and verifies it: a file must have exactly Content-Length bytes;
// a cache directory must match the announced file count and byte total and the CRC-32C trailer. Everything is
// synced to disk before it returns, so a file is never declared before it is durable.
func receive(resp *http.Response, tmp string) error {
	mt, _, err := mime.ParseMediaType(resp.Header.Get("Content-Type"))
	if err != nil {
		return fmt.Errorf("content type %q: %w", resp.Header.Get("Content-Type"), err)
	}
	switch mt {
	case contentTypeFile:
		return receiveFile(resp, tmp)
	case contentTypeTar:
		files, err1 := strconv.Atoi(resp.Header.Get(HeaderTarFiles))
		total, err2 := strconv.ParseInt(resp.Header.Get(HeaderTarBytes), 10, 64)
		if err1 != nil || err2 != nil {
			return fmt.Errorf("tar stream without valid %s / %s headers", HeaderTarFiles, HeaderTarBytes)
		}
		sum, err := extractTar(resp.Body, tmp, files, total)
		if err != nil {
			return err
		}
		got := hex.EncodeToString(sum.Sum(nil))
		if want := resp.Trailer.Get(TrailerChecksum); want != got {
			return fmt.Errorf("tar stream checksum %s, sender announced %q", got, want)
		}
		return syncDir(tmp)
	default:
		return fmt.Errorf("content type %q: accepted are %s and %s", mt, contentTypeFile, contentTypeTar)
	}
}

func receiveFile(resp *http.Response, tmp string) error {
	if resp.ContentLength < 0 {
		return errors.New("response without Content-Length: cannot verify the file is complete")
	}
	f, err := os.OpenFile(tmp, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return err
	}
	n, err := io.CopyBuffer(writerOnly{f}, resp.Body, make([]byte, copyBufSize))
	if err == nil && n != resp.ContentLength {
		err = fmt.Errorf("got %d of %d bytes", n, resp.ContentLength)
	}
	if err == nil {
		err = f.Sync()
	}
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return err
}

// syncDir fsyncs every regular file under dir.
func syncDir(dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	for _, e := range entries {
		name := dir + string(os.PathSeparator) + e.Name()
		if e.IsDir() {
			if err := syncDir(name); err != nil {
				return err
			}
			continue
		}
		f, err := os.Open(name)
		if err != nil {
			return err
		}
		err = f.Sync()
		f.Close()
		if err != nil {
			return fmt.Errorf("syncing %s: %w", name, err)
		}
	}
	return nil
}

// removeAndPrepare removes a stale temp file or dir and creates its parent.
func removeAndPrepare(tmp string) error {
	if err := removeAll(tmp); err != nil {
		return err
	}
	return ensureParent(tmp)
}

func removeAll(name string) error {
	if err := os.RemoveAll(name); err != nil {
		return fmt.Errorf("removing %s: %w", name, err)
	}
	return nil
}

// renameInto moves a verified temp file or dir into its final place (same filesystem: the temp dir is inside
// the destination path).
func renameInto(tmp, dest string) error {
	if err := os.Rename(tmp, dest); err != nil {
		return fmt.Errorf("renaming fetched %s into place: %w", dest, err)
	}
	return nil
}
