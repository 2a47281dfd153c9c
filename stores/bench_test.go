package stores

import (
	"context"
	"fmt"
	"math/rand/v2"
	"net/http"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/storiface"
)

// benchIndex builds an index of nPaths healthy paths and nSectors sectors, each with sealed+cache in one path
// and, for one sector in ten, a second copy of sealed elsewhere.
func benchIndex(b *testing.B, nPaths, nSectors int) *Index {
	b.Helper()
	ctx := context.Background()
	idx, _, _ := newTestIndex(b)
	rng := rand.New(rand.NewPCG(1, 2))
	for p := range nPaths {
		spec := pathSpec{id: fmt.Sprintf("path-%04d", p), weight: uint64(1 + p%10), seal: p%2 == 0, store: p%2 == 1,
			avail: int64(100+rng.IntN(900)) * GiB}
		if p%7 == 0 {
			spec.groups = []string{"g1"}
		}
		attachAll(b, idx, spec)
	}
	perPath := make([][]storiface.Decl, nPaths)
	copies := make([][]storiface.Decl, nPaths)
	for s := range nSectors {
		sid := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(s)}
		p := rng.IntN(nPaths)
		perPath[p] = append(perPath[p], storiface.Decl{SectorID: sid, SectorFileType: storiface.FTSealed | storiface.FTCache})
		if s%10 == 0 {
			q := (p + 1 + rng.IntN(nPaths-1)) % nPaths
			copies[q] = append(copies[q], storiface.Decl{SectorID: sid, SectorFileType: storiface.FTSealed})
		}
	}
	for p := range nPaths {
		id := storiface.ID(fmt.Sprintf("path-%04d", p))
		if err := idx.StorageDeclareSectors(ctx, id, perPath[p], true); err != nil {
			b.Fatal(err)
		}
		if err := idx.StorageDeclareSectors(ctx, id, copies[p], false); err != nil {
			b.Fatal(err)
		}
	}
	return idx
}

// cpuTime is the process's user+system CPU time: on a shared machine it shows the work done per operation better
// than wall time, which includes waiting for a core.
func cpuTime() time.Duration {
	var ru syscall.Rusage
	syscall.Getrusage(syscall.RUSAGE_SELF, &ru) //nolint:errcheck // cannot fail for RUSAGE_SELF
	return time.Duration(ru.Utime.Nano() + ru.Stime.Nano())
}

// reportCPU runs f under b.Loop and reports the CPU time per operation as cpu-ns/op.
func reportCPU(b *testing.B, f func(n int)) {
	start, n := cpuTime(), 0
	for b.Loop() {
		f(n)
		n++
	}
	b.ReportMetric(float64(cpuTime()-start)/float64(n), "cpu-ns/op")
}

// BenchmarkIndex measures FindSector and BestAlloc at 1,000 paths × 100,000 sectors (target: ≤ 1 ms each).
func BenchmarkIndex(b *testing.B) {
	const nPaths, nSectors = 1000, 100_000
	idx := benchIndex(b, nPaths, nSectors)
	ctx := context.Background()
	ssize := abi.SectorSize(32 << 30)
	b.Run("FindSector", func(b *testing.B) {
		reportCPU(b, func(n int) {
			sid := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(n % nSectors)}
			if found, err := idx.StorageFindSector(ctx, sid, storiface.FTSealed, ssize, false); err != nil || len(found) == 0 {
				b.Fatal(err, found)
			}
		})
	})
	b.Run("FindSector/allowFetch", func(b *testing.B) {
		reportCPU(b, func(n int) {
			sid := abi.SectorID{Miner: 1000, Number: abi.SectorNumber(n % nSectors)}
			if found, err := idx.StorageFindSector(ctx, sid, storiface.FTSealed|storiface.FTCache, ssize, true); err != nil || len(found) < 2 {
				b.Fatal(err, len(found))
			}
		})
	})
	for _, pt := range []storiface.PathType{storiface.PathSealing, storiface.PathStorage} {
		b.Run("BestAlloc/"+string(pt), func(b *testing.B) {
			reportCPU(b, func(int) {
				if best, err := idx.StorageBestAlloc(ctx, storiface.FTSealed|storiface.FTCache, ssize, pt, 1000); err != nil || len(best) == 0 {
					b.Fatal(err)
				}
			})
		})
	}
}

const benchFileSize = 512 << 20

// BenchmarkFetchInterleaved512MiB runs, in each iteration, a local copy, a remote fetch and a read/write copy of
// the same 512 MiB file, so the three share the machine's load (the figures of separate sub-benchmarks drift
// apart on a shared machine). It reports the throughputs and the ratios remote/local (time of the local copy
// over time of the fetch; ≥ 1 means the fetch is as fast).
func BenchmarkFetchInterleaved512MiB(b *testing.B) {
	ctx := context.Background()
	idx, _, _ := newTestIndex(b)
	src := newTestNode(b, idx, LocalStorageMeta{ID: "src", Weight: 10, CanStore: true})
	dst := newTestNode(b, idx, LocalStorageMeta{ID: "dst", Weight: 10, CanSeal: true})
	srcName := src.put(b, "src", storiface.FTSealed, map[string][]byte{"": pattern(benchFileSize, 9)}, true)
	ref := storiface.SectorRef{ID: sec1, ProofType: abi.RegisteredSealProof_StackedDrg512MiBV1_1}
	dstRoot, _ := dst.local.root("dst")
	to := filepath.Join(dstRoot, "sealed", "copy")
	buf := make([]byte, copyBufSize)
	for _, streams := range benchStreams {
		b.Run(fmt.Sprintf("streams=%d", streams), func(b *testing.B) {
			remote := NewRemote(dst.local, idx, RemoteOptions{Auth: http.Header{"Authorization": {testToken}}, Streams: streams, Logger: testLogger})
			steps := []func() error{
				func() error { return copyFile(srcName, to) },
				func() error {
					_, _, err := remote.AcquireSector(ctx, ref, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
					return err
				},
				func() error { return readWriteCopy(srcName, to, buf) },
			}
			var took [3]time.Duration
			n := 0
			for b.Loop() {
				for k := range steps { // rotate the order so no step always follows the same one
					step := (k + n) % len(steps)
					t0 := time.Now()
					if err := steps[step](); err != nil {
						b.Fatal(err)
					}
					took[step] += time.Since(t0)
					os.Remove(to)
				}
				n++
				if err := dst.local.Remove(ctx, sec1, storiface.FTSealed, false, []storiface.ID{"src"}); err != nil {
					b.Fatal(err)
				}
			}
			mbps := func(d time.Duration) float64 { return float64(n) * benchFileSize / 1e6 / d.Seconds() }
			b.ReportMetric(mbps(took[1]), "fetch-MB/s")
			b.ReportMetric(mbps(took[0]), "copy-MB/s")
			b.ReportMetric(mbps(took[2]), "readwrite-MB/s")
			b.ReportMetric(took[0].Seconds()/took[1].Seconds(), "fetch/copy")
			b.ReportMetric(took[2].Seconds()/took[1].Seconds(), "fetch/readwrite")
		})
	}
}

// readWriteCopy copies through a user-space buffer and syncs (no copy_file_range).
func readWriteCopy(from, to string, buf []byte) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	defer out.Close()
	for {
		n, rerr := in.Read(buf)
		if n > 0 {
			if _, err := out.Write(buf[:n]); err != nil {
				return err
			}
		}
		if rerr != nil {
			break
		}
	}
	return out.Sync()
}

// benchStreams are the stream counts BenchmarkFetchInterleaved512MiB compares.
var benchStreams = []int{1, 2, DefaultStreams, 8}
