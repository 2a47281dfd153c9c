package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/urfave/cli/v2"

	"sealfleet/stores"
	"sealfleet/storiface"
)

// fakeStorage is an in-memory storageAPI for the command tests.
type fakeStorage struct {
	paths []stores.PathStatus
	local map[storiface.ID]string
	found map[storiface.SectorFileType][]storiface.SectorStorageInfo
	locks storiface.SectorLocks
}

func (f *fakeStorage) StorageAddLocal(ctx context.Context, path string) error    { return nil }
func (f *fakeStorage) StorageDetachLocal(ctx context.Context, path string) error { return nil }
func (f *fakeStorage) StorageRedeclareLocal(ctx context.Context, id *storiface.ID, drop bool) error {
	return nil
}
func (f *fakeStorage) StorageLocal(ctx context.Context) (map[storiface.ID]string, error) {
	return f.local, nil
}
func (f *fakeStorage) StoragePaths(ctx context.Context) ([]stores.PathStatus, error) {
	return f.paths, nil
}
func (f *fakeStorage) StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error) {
	return f.found[ft], nil
}
func (f *fakeStorage) StorageGetLocks(ctx context.Context) (storiface.SectorLocks, error) {
	return f.locks, nil
}

var _ storageAPI = (*fakeStorage)(nil)

func TestStorageBar(t *testing.T) {
	tests := []struct {
		used, reserved, total int64
		want                  string
	}{
		{0, 0, 100, "[" + strings.Repeat(".", 40) + "]"},
		{50, 25, 100, "[" + strings.Repeat("#", 20) + strings.Repeat("+", 10) + strings.Repeat(".", 10) + "]"},
		{90, 50, 100, "[" + strings.Repeat("#", 36) + strings.Repeat("+", 4) + "]"},
		{10, 0, 0, "[" + strings.Repeat("?", 40) + "]"},
	}
	for _, tc := range tests {
		if got := storageBar(tc.used, tc.reserved, tc.total); got != tc.want {
			t.Errorf("storageBar(%d,%d,%d) = %s, want %s", tc.used, tc.reserved, tc.total, got, tc.want)
		}
	}
}

func TestStorageListRender(t *testing.T) {
	f := &fakeStorage{
		local: map[storiface.ID]string{"b": "/data/b"},
		paths: []stores.PathStatus{
			{Info: storiface.StorageInfo{ID: "b", Weight: 10, CanSeal: true, URLs: []string{"http://m:2345/remote"}, Groups: []string{"g1"}},
				Stat:          storiface.FsStat{Capacity: 4 << 40, Available: 3 << 40, FSAvailable: 2 << 40, Reserved: 1 << 40},
				LastHeartbeat: time.Unix(0, 0), Healthy: true, Files: 3},
			{Info: storiface.StorageInfo{ID: "a", Weight: 1, CanStore: true, DenyTypes: []string{"unsealed"}},
				Stat:         storiface.FsStat{Capacity: 10 << 40, Available: 5 << 40, FSAvailable: 1 << 40, Max: 2 << 40, Used: 1 << 40},
				HeartbeatErr: "disk gone"},
		},
	}
	var out bytes.Buffer
	if err := storageList(context.Background(), f, &out, false); err != nil {
		t.Fatal(err)
	}
	got := out.String()
	for _, want := range []string{
		"a  store  weight 1  files 0  UNHEALTHY: disk gone\n",
		"[" + strings.Repeat("#", 20) + strings.Repeat(".", 20) + "] 1.0 TiB used, 0 B reserved, 1.0 TiB free of 2.0 TiB",
		"deny types: unsealed",
		"b  seal  weight 10  files 3  ok\n  local: /data/b\n  url:   http://m:2345/remote\n",
		"[" + strings.Repeat("#", 10) + strings.Repeat("+", 10) + strings.Repeat(".", 20) + "] 1.0 TiB used, 1.0 TiB reserved, 2.0 TiB free of 4.0 TiB",
		"groups: g1  allow-to: -",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("output lacks %q:\n%s", want, got)
		}
	}
	if strings.Index(got, "a  store") > strings.Index(got, "b  seal") {
		t.Error("paths not sorted by ID")
	}
	out.Reset()
	if err := storageList(context.Background(), f, &out, true); err != nil || !strings.Contains(out.String(), `"HeartbeatErr": "disk gone"`) {
		t.Fatalf("json: %v\n%s", err, out.String())
	}
}

func TestStorageFindRender(t *testing.T) {
	f := &fakeStorage{
		local: map[storiface.ID]string{"a": "/data/a"},
		found: map[storiface.SectorFileType][]storiface.SectorStorageInfo{
			storiface.FTSealed: {{ID: "a", Primary: true, CanSeal: true, BaseURLs: []string{"http://m/remote"}},
				{ID: "b", CanStore: true, BaseURLs: []string{"http://w/remote"}}},
			storiface.FTCache: {{ID: "a", Primary: true, CanSeal: true, BaseURLs: []string{"http://m/remote"}}},
		},
	}
	var out bytes.Buffer
	if err := storageFind(context.Background(), f, &out, abi.SectorID{Miner: 1000, Number: 7}, false); err != nil {
		t.Fatal(err)
	}
	want := "a  seal\n  types:   sealed|cache\n  primary: sealed|cache\n  local:   /data/a\n  url:     http://m/remote\n" +
		"b  store\n  types:   sealed\n  primary: none\n  url:     http://w/remote\n"
	if out.String() != want {
		t.Fatalf("got\n%s\nwant\n%s", out.String(), want)
	}
	out.Reset()
	if err := storageFind(context.Background(), &fakeStorage{}, &out, abi.SectorID{Miner: 1000, Number: 7}, false); err != nil || out.String() != "no files of s-t01000-7 are declared\n" {
		t.Fatalf("%v %q", err, out.String())
	}
}

func TestRenderLocks(t *testing.T) {
	locks := storiface.SectorLocks{Locks: []storiface.SectorLock{
		{Sector: abi.SectorID{Miner: 1000, Number: 1}, Write: [6]uint{0, 1, 1}, Read: [6]uint{2}},
	}}
	var out bytes.Buffer
	if err := renderLocks(&out, locks); err != nil {
		t.Fatal(err)
	}
	want := "SECTOR      UNSEALED  SEALED  CACHE  UPDATE  UPDATE-CACHE  PIECE\ns-t01000-1  R2        W       W      -       -             -\n"
	if out.String() != want {
		t.Fatalf("got\n%q\nwant\n%q", out.String(), want)
	}
}

func TestMetaFromFlags(t *testing.T) {
	tests := []struct {
		name    string
		args    []string
		want    stores.LocalStorageMeta
		wantErr string
	}{
		{"seal with cap", []string{"--seal", "--weight", "5", "--max-storage", "2TiB", "--groups", "g1", "--allow-to", "g2"},
			stores.LocalStorageMeta{Weight: 5, CanSeal: true, MaxStorage: 2 << 40, Groups: []string{"g1"}, AllowTo: []string{"g2"}}, ""},
		{"neither", []string{"--weight", "5"}, stores.LocalStorageMeta{}, "--seal, --store"},
		{"bad size", []string{"--store", "--max-storage", "lots"}, stores.LocalStorageMeta{}, "--max-storage"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var got stores.LocalStorageMeta
			var gotErr error
			app := &cli.App{Name: "t", Flags: storageAttachCmd.Flags, Action: func(cctx *cli.Context) error {
				got, gotErr = metaFromFlags(cctx)
				return nil
			}}
			if err := app.Run(append([]string{"t"}, tc.args...)); err != nil {
				t.Fatal(err)
			}
			if tc.wantErr != "" {
				if gotErr == nil || !strings.Contains(gotErr.Error(), tc.wantErr) {
					t.Fatalf("err %v, want %q", gotErr, tc.wantErr)
				}
				return
			}
			if gotErr != nil || got.Weight != tc.want.Weight || got.CanSeal != tc.want.CanSeal || got.MaxStorage != tc.want.MaxStorage ||
				strings.Join(got.Groups, ",") != "g1" || strings.Join(got.AllowTo, ",") != "g2" {
				t.Fatalf("got %+v %v", got, gotErr)
			}
		})
	}
}
