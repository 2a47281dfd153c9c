package stores

import (
	"archive/tar"
	"bytes"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// tarOf builds a tar stream from entries (a name ending in "/" is a directory; link set makes a symlink).
func tarOf(t *testing.T, entries []struct{ name, body, link string }) []byte {
	t.Helper()
	var buf bytes.Buffer
	tw := tar.NewWriter(&buf)
	for _, e := range entries {
		h := &tar.Header{Name: e.name, Mode: 0o644, Size: int64(len(e.body)), Typeflag: tar.TypeReg}
		switch {
		case strings.HasSuffix(e.name, "/"):
			h.Typeflag, h.Size = tar.TypeDir, 0
		case e.link != "":
			h.Typeflag, h.Linkname, h.Size = tar.TypeSymlink, e.link, 0
		}
		if err := tw.WriteHeader(h); err != nil {
			t.Fatal(err)
		}
		if h.Size > 0 {
			tw.Write([]byte(e.body)) //nolint:errcheck // bytes.Buffer
		}
	}
	tw.Close()
	return buf.Bytes()
}

func TestExtractTar(t *testing.T) {
	good := tarOf(t, []struct{ name, body, link string }{{"sub/", "", ""}, {"p_aux", "aux", ""}, {"sub/tree.dat", "0123456789", ""}})
	tests := []struct {
		name      string
		stream    []byte
		files     int
		bytes     int64
		wantErr   string
		wantFiles map[string]string
	}{
		{"complete", good, 2, 13, "", map[string]string{"p_aux": "aux", "sub/tree.dat": "0123456789"}},
		{"truncated mid-stream", good[:len(good)-1024-600], 2, 13, "unexpected EOF", nil},
		{"truncated at an entry boundary", tarOf(t, []struct{ name, body, link string }{{"p_aux", "aux", ""}}), 2, 13, "incomplete", nil},
		{"parent escape", tarOf(t, []struct{ name, body, link string }{{"../evil", "x", ""}}), 1, 1, "not a relative path", nil},
		{"absolute", tarOf(t, []struct{ name, body, link string }{{"/etc/evil", "x", ""}}), 1, 1, "not a relative path", nil},
		{"symlink", tarOf(t, []struct{ name, body, link string }{{"link", "", "/etc/passwd"}}), 0, 0, "refused", nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			dest := filepath.Join(dir, "out")
			_, err := extractTar(bytes.NewReader(tc.stream), dest, tc.files, tc.bytes)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", err, tc.wantErr)
				}
				if _, err := os.Stat(filepath.Join(dir, "evil")); err == nil {
					t.Fatal("wrote outside the destination")
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			for name, body := range tc.wantFiles {
				if got := readFile(t, filepath.Join(dest, name)); string(got) != body {
					t.Fatalf("%s = %q", name, got)
				}
			}
		})
	}
}
