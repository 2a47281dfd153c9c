package stores

import (
	"archive/tar"
	"encoding/hex"
	"errors"
	"fmt"
	"hash"
	"hash/crc32"
	"io"
	"io/fs"
	"net/http"
	"os"
	gopath "path"
	"path/filepath"
	"strconv"
	"strings"
)

// copyBufSize is the buffer for streaming sector data where no zero-copy path applies.
const copyBufSize = 1 << 20

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// tarEntry is one entry of a cache directory stream.
type tarEntry struct {
	name string // relative, slash-separated
	dir  bool
	size int64
}

// listTree lists the directories and regular files under rel inside root (symlinks and other kinds skipped).
func listTree(root *os.Root, rel string) ([]tarEntry, int64, error) {
	var entries []tarEntry
	var total int64
	err := fs.WalkDir(root.FS(), rel, func(p string, d fs.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if p == rel {
			return nil
		}
		name := strings.TrimPrefix(p, rel+"/")
		switch {
		case d.IsDir():
			entries = append(entries, tarEntry{name: name, dir: true})
		case d.Type().IsRegular():
			fi, err := d.Info()
			if err != nil {
				return err
			}
			entries = append(entries, tarEntry{name: name, size: fi.Size()})
			total += fi.Size()
		}
		return nil
	})
	return entries, total, err
}

// serveTar streams the directory rel as a tar archive, announcing the file count and byte total in headers and
// sending a CRC-32C of the stream as a trailer. If a file changes size while streaming, the connection is
// aborted so the receiver sees a failed transfer rather than a short, well-formed archive.
func (h *FetchHandler) serveTar(w http.ResponseWriter, r *http.Request, root *os.Root, rel string) {
	entries, total, err := listTree(root, rel)
	if err != nil {
		h.fail(w, err)
		return
	}
	files := 0
	for _, e := range entries {
		if !e.dir {
			files++
		}
	}
	w.Header().Set("Content-Type", contentTypeTar)
	w.Header().Set(HeaderTarFiles, strconv.Itoa(files))
	w.Header().Set(HeaderTarBytes, strconv.FormatInt(total, 10))
	w.Header().Set("Trailer", TrailerChecksum)
	w.WriteHeader(http.StatusOK)
	if r.Method == http.MethodHead {
		return
	}
	sum := crc32.New(castagnoli)
	tw := tar.NewWriter(io.MultiWriter(w, sum))
	buf := make([]byte, copyBufSize)
	for _, e := range entries {
		if err := writeTarEntry(tw, root, rel, e, buf); err != nil {
			h.Log.Error("streaming cache directory", "dir", rel, "err", err)
			panic(http.ErrAbortHandler)
		}
	}
	if err := tw.Close(); err != nil {
		h.Log.Error("streaming cache directory", "dir", rel, "err", err)
		panic(http.ErrAbortHandler)
	}
	w.Header().Set(TrailerChecksum, hex.EncodeToString(sum.Sum(nil)))
}

func writeTarEntry(tw *tar.Writer, root *os.Root, rel string, e tarEntry, buf []byte) error {
	if e.dir {
		return tw.WriteHeader(&tar.Header{Typeflag: tar.TypeDir, Name: e.name + "/", Mode: 0o755})
	}
	f, err := root.Open(rel + "/" + e.name)
	if err != nil {
		return err
	}
	defer f.Close()
	if err := tw.WriteHeader(&tar.Header{Typeflag: tar.TypeReg, Name: e.name, Size: e.size, Mode: 0o644}); err != nil {
		return err
	}
	n, err := io.CopyBuffer(tw, io.LimitReader(f, e.size), buf)
	if err != nil {
		return err
	}
	if n != e.size {
		return fmt.Errorf("%s shrank from %d to %d bytes while streaming", e.name, e.size, n)
	}
	return nil
}

// extractTar unpacks a cache directory stream into dest (which must not exist) and checks it against the
// announced file count and byte total. Entry names are checked: nothing is written outside dest, and only
// directories and regular files are accepted. It returns the CRC-32C of the stream it read.
func extractTar(body io.Reader, dest string, wantFiles int, wantBytes int64) (hash.Hash32, error) {
	sum := crc32.New(castagnoli)
	tr := tar.NewReader(io.TeeReader(body, sum))
	if err := os.MkdirAll(dest, 0o755); err != nil {
		return nil, err
	}
	buf := make([]byte, copyBufSize)
	files, bytes := 0, int64(0)
	for {
		hdr, err := tr.Next()
		if errors.Is(err, io.EOF) {
			break
		}
		if err != nil {
			return nil, fmt.Errorf("reading tar stream: %w", err)
		}
		clean := gopath.Clean(hdr.Name)
		if !fs.ValidPath(clean) || clean == "." || strings.Contains(hdr.Name, `\`) {
			return nil, fmt.Errorf("tar entry %q: not a relative path inside the directory", hdr.Name)
		}
		target := filepath.Join(dest, filepath.FromSlash(clean))
		switch hdr.Typeflag {
		case tar.TypeDir:
			if err := os.MkdirAll(target, 0o755); err != nil {
				return nil, err
			}
		case tar.TypeReg:
			n, err := writeEntry(target, tr, buf)
			if err != nil {
				return nil, fmt.Errorf("tar entry %s: %w", hdr.Name, err)
			}
			if n != hdr.Size {
				return nil, fmt.Errorf("tar entry %s: got %d of %d bytes", hdr.Name, n, hdr.Size)
			}
			files++
			bytes += n
		default:
			return nil, fmt.Errorf("tar entry %q: type %q refused (only directories and regular files)", hdr.Name, hdr.Typeflag)
		}
	}
	// Drain what follows the end marker so the trailer (sent after the body) is read.
	if _, err := io.Copy(io.Discard, body); err != nil {
		return nil, fmt.Errorf("reading tar stream: %w", err)
	}
	if wantFiles >= 0 && (files != wantFiles || bytes != wantBytes) {
		return nil, fmt.Errorf("tar stream incomplete: %d files / %d bytes, announced %d / %d", files, bytes, wantFiles, wantBytes)
	}
	return sum, nil
}

func writeEntry(target string, r io.Reader, buf []byte) (int64, error) {
	if err := ensureParent(target); err != nil {
		return 0, err
	}
	f, err := os.OpenFile(target, os.O_WRONLY|os.O_CREATE|os.O_EXCL, 0o644)
	if err != nil {
		return 0, err
	}
	n, err := io.CopyBuffer(f, r, buf)
	if cerr := f.Close(); err == nil {
		err = cerr
	}
	return n, err
}
