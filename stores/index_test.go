package stores

import (
	"context"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
	"sealfleet/storiface"
)

const GiB = 1 << 30

var (
	sec1 = abi.SectorID{Miner: 1000, Number: 1}
	sec2 = abi.SectorID{Miner: 1000, Number: 2}
)

func TestIndexFindSector(t *testing.T) {
	ctx := context.Background()
	ssize := abi.SectorSize(2 << 10)
	tests := []struct {
		name       string
		paths      []pathSpec
		decls      map[string]storiface.SectorFileType // path -> types of sec1
		primary    map[string]bool
		stale      []string // paths whose heartbeat is let go stale
		ft         storiface.SectorFileType
		allowFetch bool
		want       []storiface.ID
	}{
		{
			name:    "primary before weight",
			paths:   []pathSpec{{id: "a", weight: 10, seal: true}, {id: "b", weight: 20, store: true}},
			decls:   map[string]storiface.SectorFileType{"a": storiface.FTSealed, "b": storiface.FTSealed},
			primary: map[string]bool{"a": true},
			ft:      storiface.FTSealed,
			want:    []storiface.ID{"a", "b"},
		},
		{
			name:  "higher weight first among copies",
			paths: []pathSpec{{id: "a", weight: 10, seal: true}, {id: "b", weight: 20, seal: true}},
			decls: map[string]storiface.SectorFileType{"a": storiface.FTSealed, "b": storiface.FTSealed},
			ft:    storiface.FTSealed,
			want:  []storiface.ID{"b", "a"},
		},
		{
			name:  "more requested types wins",
			paths: []pathSpec{{id: "a", weight: 10, seal: true}, {id: "b", weight: 15, seal: true}},
			decls: map[string]storiface.SectorFileType{"a": storiface.FTSealed | storiface.FTCache, "b": storiface.FTSealed},
			ft:    storiface.FTSealed | storiface.FTCache,
			want:  []storiface.ID{"a", "b"},
		},
		{
			name:    "stale holders last",
			paths:   []pathSpec{{id: "a", weight: 50, seal: true}, {id: "b", weight: 10, seal: true}},
			decls:   map[string]storiface.SectorFileType{"a": storiface.FTSealed, "b": storiface.FTSealed},
			primary: map[string]bool{"a": true},
			stale:   []string{"a"},
			ft:      storiface.FTSealed,
			want:    []storiface.ID{"b", "a"},
		},
		{
			name:  "other type not listed",
			paths: []pathSpec{{id: "a", weight: 10, seal: true}},
			decls: map[string]storiface.SectorFileType{"a": storiface.FTCache},
			ft:    storiface.FTSealed,
			want:  []storiface.ID{},
		},
		{
			name: "fetch targets: healthy, room, types, miners, not holders",
			paths: []pathSpec{
				{id: "a", weight: 10, seal: true, avail: GiB},
				{id: "b", weight: 10, seal: true, avail: GiB},
				{id: "c", weight: 10, store: true, avail: 2 * GiB},
				{id: "full", weight: 10, seal: true, avail: 10},
				{id: "stale", weight: 10, seal: true, avail: GiB},
				{id: "deny", weight: 10, seal: true, avail: GiB, denyTypes: []string{"sealed"}},
				{id: "miner", weight: 10, seal: true, avail: GiB, allowMin: []string{"t01001"}},
			},
			decls:      map[string]storiface.SectorFileType{"a": storiface.FTSealed},
			stale:      []string{"stale"},
			ft:         storiface.FTSealed,
			allowFetch: true,
			want:       []storiface.ID{"a", "c", "b"},
		},
		{
			name: "fetch targets limited to the source's AllowTo groups",
			paths: []pathSpec{
				{id: "a", weight: 10, seal: true, avail: GiB, allowTo: []string{"g1"}},
				{id: "in", weight: 10, seal: true, avail: GiB, groups: []string{"g1"}},
				{id: "out", weight: 10, seal: true, avail: GiB, groups: []string{"g2"}},
				{id: "none", weight: 10, seal: true, avail: GiB},
			},
			decls:      map[string]storiface.SectorFileType{"a": storiface.FTSealed},
			ft:         storiface.FTSealed,
			allowFetch: true,
			want:       []storiface.ID{"a", "in"},
		},
		{
			name: "a source without AllowTo allows every group",
			paths: []pathSpec{
				{id: "a", weight: 10, seal: true, avail: GiB, allowTo: []string{"g1"}},
				{id: "b", weight: 10, seal: true, avail: GiB},
				{id: "out", weight: 10, seal: true, avail: GiB, groups: []string{"g2"}},
			},
			decls:      map[string]storiface.SectorFileType{"a": storiface.FTSealed, "b": storiface.FTSealed},
			ft:         storiface.FTSealed,
			allowFetch: true,
			want:       []storiface.ID{"a", "b", "out"},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx, clk, _ := newTestIndex(t)
			attachAll(t, idx, tc.paths...)
			for id, ft := range tc.decls {
				if err := idx.StorageDeclareSector(ctx, storiface.ID(id), sec1, ft, tc.primary[id]); err != nil {
					t.Fatal(err)
				}
			}
			if len(tc.stale) > 0 {
				clk.Advance(2 * time.Minute)
				for _, p := range tc.paths {
					if !slices.Contains(tc.stale, p.id) {
						st := storiface.FsStat{Capacity: 1 << 50, Available: p.avail, FSAvailable: p.avail}
						if err := idx.StorageReportHealth(ctx, storiface.ID(p.id), storiface.HealthReport{Stat: st}); err != nil {
							t.Fatal(err)
						}
					}
				}
			}
			got, err := idx.StorageFindSector(ctx, sec1, tc.ft, ssize, tc.allowFetch)
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(foundIDs(got), tc.want) {
				t.Fatalf("found %v, want %v", foundIDs(got), tc.want)
			}
		})
	}
}

func TestIndexFindSectorURLs(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	attachAll(t, idx, pathSpec{id: "a", weight: 1, seal: true})
	if err := idx.StorageDeclareSector(ctx, "a", sec1, storiface.FTCache, true); err != nil {
		t.Fatal(err)
	}
	got, err := idx.StorageFindSector(ctx, sec1, storiface.FTCache, 0, false)
	if err != nil || len(got) != 1 {
		t.Fatalf("find: %v %v", got, err)
	}
	if want := "http://a.example:2345/remote/cache/s-t01000-1"; got[0].URLs[0] != want || !got[0].Primary {
		t.Fatalf("URL %q primary %v, want %q primary", got[0].URLs[0], got[0].Primary, want)
	}
	if got[0].BaseURLs[0] != "http://a.example:2345/remote" {
		t.Fatalf("base URL %q", got[0].BaseURLs[0])
	}
}

func TestIndexBestAlloc(t *testing.T) {
	ctx := context.Background()
	ssize := abi.SectorSize(1 << 20) // sealed|cache while sealing: 15 MiB
	tests := []struct {
		name    string
		paths   []pathSpec
		ft      storiface.SectorFileType
		pt      storiface.PathType
		miner   abi.ActorID
		stale   []string
		errPath []string // paths reporting an error
		want    []storiface.ID
		wantErr string
	}{
		{
			name: "weight times free space",
			paths: []pathSpec{
				{id: "a", weight: 10, seal: true, avail: 100 << 20},
				{id: "b", weight: 20, seal: true, avail: 100 << 20},
				{id: "c", weight: 10, seal: true, avail: 300 << 20},
			},
			ft: storiface.FTSealed | storiface.FTCache, pt: storiface.PathSealing, miner: 1000,
			want: []storiface.ID{"c", "b", "a"},
		},
		{
			name: "not enough room",
			paths: []pathSpec{
				{id: "small", weight: 100, seal: true, avail: 10 << 20},
				{id: "ok", weight: 1, seal: true, avail: 15 << 20},
			},
			ft: storiface.FTSealed | storiface.FTCache, pt: storiface.PathSealing, miner: 1000,
			want: []storiface.ID{"ok"},
		},
		{
			name: "storage kind uses finalized sizes",
			paths: []pathSpec{
				{id: "seal", weight: 10, seal: true, avail: 100 << 20},
				{id: "store", weight: 10, store: true, avail: 2 << 20},
			},
			ft: storiface.FTSealed | storiface.FTCache, pt: storiface.PathStorage, miner: 1000,
			want: []storiface.ID{"store"},
		},
		{
			name: "miner and type filters",
			paths: []pathSpec{
				{id: "allow", weight: 1, seal: true, avail: GiB, allowMin: []string{"f01000"}},
				{id: "other", weight: 1, seal: true, avail: GiB, allowMin: []string{"1001"}},
				{id: "denied", weight: 1, seal: true, avail: GiB, denyMin: []string{"t01000"}},
				{id: "notype", weight: 1, seal: true, avail: GiB, allowTypes: []string{"sealed"}},
				{id: "alltype", weight: 1, seal: true, avail: 2 * GiB, allowTypes: []string{"sealed", "cache"}},
			},
			ft: storiface.FTSealed | storiface.FTCache, pt: storiface.PathSealing, miner: 1000,
			want: []storiface.ID{"alltype", "allow"},
		},
		{
			name: "stale and failing paths excluded",
			paths: []pathSpec{
				{id: "a", weight: 1, seal: true, avail: GiB},
				{id: "b", weight: 1, seal: true, avail: GiB},
				{id: "c", weight: 1, seal: true, avail: GiB},
			},
			stale: []string{"a"}, errPath: []string{"b"},
			ft: storiface.FTSealed, pt: storiface.PathSealing, miner: 1000,
			want: []storiface.ID{"c"},
		},
		{
			name: "none: the error says why each path was refused",
			paths: []pathSpec{
				{id: "a", weight: 1, store: true, avail: GiB},
				{id: "b", weight: 1, seal: true, avail: 1},
			},
			ft: storiface.FTSealed, pt: storiface.PathSealing, miner: 1000,
			wantErr: "a: not a sealing path; b: needs 1048576 bytes, has 1",
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			idx, clk, _ := newTestIndex(t)
			attachAll(t, idx, tc.paths...)
			if len(tc.stale) > 0 {
				clk.Advance(2 * time.Minute)
			}
			for _, p := range tc.paths {
				if slices.Contains(tc.stale, p.id) {
					continue
				}
				r := storiface.HealthReport{Stat: storiface.FsStat{Capacity: 1 << 50, Available: p.avail, FSAvailable: p.avail}}
				if slices.Contains(tc.errPath, p.id) {
					r.Err = "disk on fire"
				}
				if err := idx.StorageReportHealth(ctx, storiface.ID(p.id), r); err != nil {
					t.Fatal(err)
				}
			}
			got, err := idx.StorageBestAlloc(ctx, tc.ft, ssize, tc.pt, tc.miner)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) || storiface.CodeOf(err) != storiface.ErrTempAllocateSpace {
					t.Fatalf("err %v, want one containing %q with code allocate-space", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !slices.Equal(allocIDs(got), tc.want) {
				t.Fatalf("best %v, want %v", allocIDs(got), tc.want)
			}
		})
	}
}

func TestIndexStaleHeartbeats(t *testing.T) {
	ctx := context.Background()
	idx, clk, dbPath := newTestIndex(t)
	attachAll(t, idx, pathSpec{id: "a", weight: 1, seal: true, avail: GiB})
	alloc := func() error {
		_, err := idx.StorageBestAlloc(ctx, storiface.FTSealed, 2048, storiface.PathSealing, 1000)
		return err
	}
	steps := []struct {
		name    string
		advance time.Duration
		report  bool
		wantOK  bool
	}{
		{"fresh after attach", 0, false, true},
		{"just under the threshold", time.Minute, false, true},
		{"over the threshold", time.Second, false, false},
		{"heartbeat revives it", 0, true, true},
	}
	for _, s := range steps {
		t.Run(s.name, func(t *testing.T) {
			clk.Advance(s.advance)
			if s.report {
				st := storiface.FsStat{Capacity: GiB, Available: GiB, FSAvailable: GiB}
				if err := idx.StorageReportHealth(ctx, "a", storiface.HealthReport{Stat: st}); err != nil {
					t.Fatal(err)
				}
			}
			if err := alloc(); (err == nil) != s.wantOK {
				t.Fatalf("alloc err %v, want ok=%v", err, s.wantOK)
			}
		})
	}
	t.Run("reloaded index gives known paths a grace period", func(t *testing.T) {
		clk.Advance(time.Hour) // everything stale in the old index
		d, err := db.OpenSQLite(dbPath)
		if err != nil {
			t.Fatal(err)
		}
		defer d.Close()
		idx2, err := NewIndex(ctx, d, IndexOptions{Now: clk.Now, StaleAfter: time.Minute, Logger: testLogger})
		if err != nil {
			t.Fatal(err)
		}
		if _, err := idx2.StorageBestAlloc(ctx, storiface.FTSealed, 2048, storiface.PathSealing, 1000); err != nil {
			t.Fatalf("after reload: %v", err)
		}
	})
}

func TestIndexPersistenceAndDetach(t *testing.T) {
	ctx := context.Background()
	idx, clk, dbPath := newTestIndex(t)
	attachAll(t, idx, pathSpec{id: "a", weight: 1, seal: true}, pathSpec{id: "b", weight: 1, store: true})
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	must(idx.StorageDeclareSector(ctx, "a", sec1, storiface.FTSealed|storiface.FTCache, false))
	must(idx.StorageDeclareSector(ctx, "a", sec1, storiface.FTSealed, true)) // upgrade to primary
	must(idx.StorageDeclareSector(ctx, "b", sec1, storiface.FTSealed, false))
	must(idx.StorageDeclareSector(ctx, "b", sec2, storiface.FTUnsealed, true))
	must(idx.StorageDropSector(ctx, "a", sec1, storiface.FTCache))
	second := pathSpec{id: "a", weight: 1, seal: true}.info()
	second.URLs = []string{"http://other.example/remote"}
	must(idx.StorageAttach(ctx, second, storiface.FsStat{}))

	d, err := db.OpenSQLite(dbPath)
	must(err)
	defer d.Close()
	re, err := NewIndex(ctx, d, IndexOptions{Now: clk.Now, Logger: testLogger})
	must(err)
	list, err := re.StorageList(ctx)
	must(err)
	want := map[storiface.ID][]storiface.Decl{
		"a": {{SectorID: sec1, SectorFileType: storiface.FTSealed}},
		"b": {{SectorID: sec1, SectorFileType: storiface.FTSealed}, {SectorID: sec2, SectorFileType: storiface.FTUnsealed}},
	}
	for id, decls := range want {
		if !slices.Equal(list[id], decls) {
			t.Fatalf("reloaded %s: %v, want %v", id, list[id], decls)
		}
	}
	found, err := re.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
	must(err)
	if len(found) != 2 || found[0].ID != "a" || !found[0].Primary || found[1].Primary {
		t.Fatalf("reloaded find: %+v", found)
	}
	if len(found[0].URLs) != 2 {
		t.Fatalf("merged URLs lost: %v", found[0].URLs)
	}

	t.Run("detach one URL keeps the path", func(t *testing.T) {
		must(re.StorageDetach(ctx, "a", "http://other.example/remote"))
		if _, err := re.StorageInfo(ctx, "a"); err != nil {
			t.Fatal(err)
		}
	})
	t.Run("detach unknown URL refused", func(t *testing.T) {
		if err := re.StorageDetach(ctx, "a", "http://nope/remote"); err == nil {
			t.Fatal("want error")
		}
	})
	t.Run("detach last URL drops path and declarations", func(t *testing.T) {
		must(re.StorageDetach(ctx, "a", "http://a.example:2345/remote"))
		found, err := re.StorageFindSector(ctx, sec1, storiface.FTSealed, 0, false)
		must(err)
		if !slices.Equal(foundIDs(found), []storiface.ID{"b"}) {
			t.Fatalf("after detach: %v", foundIDs(found))
		}
		var n int
		must(d.QueryRow(`SELECT COUNT(*) FROM sector_files WHERE storage_id = 'a'`).Scan(&n))
		if n != 0 {
			t.Fatalf("%d SQL rows left for a", n)
		}
	})
}

func TestIndexBadInput(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	attachAll(t, idx, pathSpec{id: "a", weight: 1, seal: true})
	bad := []struct {
		name string
		call func() error
	}{
		{"attach bad type", func() error {
			si := pathSpec{id: "x", seal: true, allowTypes: []string{"sealedd"}}.info()
			return idx.StorageAttach(ctx, si, storiface.FsStat{})
		}},
		{"attach bad url", func() error {
			si := pathSpec{id: "x", seal: true}.info()
			si.URLs = []string{"ftp://x/remote"}
			return idx.StorageAttach(ctx, si, storiface.FsStat{})
		}},
		{"declare unknown storage", func() error { return idx.StorageDeclareSector(ctx, "zz", sec1, storiface.FTSealed, true) }},
		{"declare no type", func() error { return idx.StorageDeclareSector(ctx, "a", sec1, 0, true) }},
		{"declare unknown type", func() error { return idx.StorageDeclareSector(ctx, "a", sec1, 1<<10, true) }},
		{"best alloc bad kind", func() error {
			_, err := idx.StorageBestAlloc(ctx, storiface.FTSealed, 2048, "scratch", 1)
			return err
		}},
		{"health of unknown", func() error { return idx.StorageReportHealth(ctx, "zz", storiface.HealthReport{}) }},
	}
	for _, tc := range bad {
		t.Run(tc.name, func(t *testing.T) {
			if err := tc.call(); err == nil {
				t.Fatal("want error")
			}
		})
	}
}

func TestIndexReattachPutsNewURLsFirst(t *testing.T) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(t)
	attachAll(t, idx, pathSpec{id: "a", weight: 1, seal: true})
	moved := pathSpec{id: "a", weight: 1, seal: true}.info()
	moved.URLs = []string{"http://new.example:2345/remote"}
	if err := idx.StorageAttach(ctx, moved, storiface.FsStat{}); err != nil {
		t.Fatal(err)
	}
	si, _ := idx.StorageInfo(ctx, "a")
	if want := []string{"http://new.example:2345/remote", "http://a.example:2345/remote"}; !slices.Equal(si.URLs, want) {
		t.Fatalf("URLs %v, want %v", si.URLs, want)
	}
}

func TestIndexConcurrentWritersAndReaders(t *testing.T) {
	ctx := context.Background()
	idx, _, dbPath := newTestIndex(t)
	attachAll(t, idx, pathSpec{id: "a", weight: 1, seal: true, avail: GiB}, pathSpec{id: "b", weight: 2, store: true, avail: GiB})
	const perWriter = 40
	var wg sync.WaitGroup
	for w := range 4 {
		wg.Go(func() {
			id := storiface.ID([]string{"a", "b"}[w%2])
			for k := range perWriter {
				s := abi.SectorID{Miner: abi.ActorID(w), Number: abi.SectorNumber(k)}
				if err := idx.StorageDeclareSector(ctx, id, s, storiface.FTSealed|storiface.FTCache, true); err != nil {
					t.Error(err)
					return
				}
				if k%2 == 1 {
					if err := idx.StorageDropSector(ctx, id, s, storiface.FTCache); err != nil {
						t.Error(err)
						return
					}
				}
			}
		})
	}
	stop := make(chan struct{})
	var readers sync.WaitGroup
	readers.Go(func() {
		for n := 0; ; n++ {
			select {
			case <-stop:
				return
			default:
			}
			st := storiface.FsStat{Capacity: GiB, Available: GiB, FSAvailable: int64(n % 1000)}
			if err := idx.StorageReportHealth(ctx, "a", storiface.HealthReport{Stat: st}); err != nil {
				t.Error(err)
				return
			}
			if _, err := idx.StorageFindSector(ctx, abi.SectorID{Miner: 1, Number: abi.SectorNumber(n % perWriter)}, storiface.FTSealed, 2048, true); err != nil {
				t.Error(err)
				return
			}
		}
	})
	wg.Wait()
	close(stop)
	readers.Wait()

	d, err := db.OpenSQLite(dbPath)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Close()
	re, err := NewIndex(ctx, d, IndexOptions{Logger: testLogger})
	if err != nil {
		t.Fatal(err)
	}
	for _, x := range []*Index{idx, re} {
		list, _ := x.StorageList(ctx)
		files := 0
		for _, decls := range list {
			for _, dcl := range decls {
				files += len(dcl.SectorFileType.All())
			}
		}
		if want := 4 * (perWriter + perWriter/2); files != want {
			t.Fatalf("%d files declared, want %d", files, want)
		}
	}
}
