package partialfile

import (
	"errors"
	"io"
	"os"
	"path/filepath"
	"slices"
	"testing"
)

func TestCreateOpen(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "s-t01000-1")
	pf, err := Create(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := Create(path, 2048); err == nil {
		t.Fatal("create over existing file: want error")
	}
	w, err := pf.Writer(256, 256)
	if err != nil {
		t.Fatal(err)
	}
	data := make([]byte, 256)
	for i := range data {
		data[i] = byte(i)
	}
	if _, err := w.Write(data); err != nil {
		t.Fatal(err)
	}
	if _, err := w.Write([]byte{1}); err == nil {
		t.Fatal("write past range: want error")
	}
	if _, err := pf.Reader(256, 256); !errors.Is(err, ErrNotAllocated) {
		t.Fatalf("reader before MarkAllocated: %v", err)
	}
	if err := pf.MarkAllocated(256, 256); err != nil {
		t.Fatal(err)
	}
	if err := pf.MarkAllocated(1024, 1024); err != nil {
		t.Fatal(err)
	}
	if err := pf.Close(); err != nil {
		t.Fatal(err)
	}

	pf, err = Open(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if got, want := pf.Allocated(), []Span{{256, 256}, {1024, 1024}}; !slices.Equal(got, want) {
		t.Fatalf("allocated after reopen: %v", got)
	}
	r, err := pf.Reader(256, 256)
	if err != nil {
		t.Fatal(err)
	}
	back, _ := io.ReadAll(r)
	if !slices.Equal(back, data) {
		t.Fatal("read back differs")
	}
	for _, tc := range []struct {
		off, size uint64
		want      bool
	}{{254, 127, true}, {0, 127, false}, {254, 254, true}, {254, 255, false}, {1016, 1016, true}, {300, 1, true}} {
		got, err := pf.HasAllocated(UnpaddedIndex(tc.off), UnpaddedSize(tc.size))
		if err != nil || got != tc.want {
			t.Errorf("HasAllocated(%d, %d) = %v, %v; want %v", tc.off, tc.size, got, err, tc.want)
		}
	}
	if err := pf.Free(1024, 512); err != nil {
		t.Fatal(err)
	}
	if got, want := pf.Allocated(), []Span{{256, 256}, {1536, 512}}; !slices.Equal(got, want) {
		t.Fatalf("allocated after free: %v", got)
	}
}

func TestOpenErrors(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "f")
	pf, err := Create(path, 2048)
	if err != nil {
		t.Fatal(err)
	}
	pf.Close()
	if _, err := Open(path, 4096); err == nil {
		t.Fatal("wrong sector size: want error")
	}
	if _, err := Open(filepath.Join(dir, "missing"), 2048); err == nil {
		t.Fatal("missing file: want error")
	}
	if _, err := Create(filepath.Join(dir, "g"), 3000); err == nil {
		t.Fatal("non power of two: want error")
	}
	// A truncated file.
	if err := os.Truncate(path, 2000); err != nil {
		t.Fatal(err)
	}
	if _, err := Open(path, 2048); err == nil {
		t.Fatal("truncated file: want error")
	}
}

func TestRangeErrors(t *testing.T) {
	pf, err := Create(filepath.Join(t.TempDir(), "f"), 2048)
	if err != nil {
		t.Fatal(err)
	}
	defer pf.Close()
	if _, err := pf.Writer(2048, 128); err == nil {
		t.Error("writer past end: want error")
	}
	if _, err := pf.Writer(0, 0); err == nil {
		t.Error("empty writer: want error")
	}
	if err := pf.MarkAllocated(1024, 2048); err == nil {
		t.Error("mark past end: want error")
	}
	if _, err := pf.HasAllocated(0, 2033); err == nil {
		t.Error("HasAllocated past end: want error")
	}
}
