// Package fetchbench measures fetching a sector file between two nodes over loopback HTTP (stores.Remote from a
// stores.FetchHandler) against copying the same file locally, as `sealfleet bench fetch` reports it.
package fetchbench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"time"

	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/db"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// Config sets up a run. Dir must be on the filesystem to measure; it is left empty afterwards.
type Config struct {
	Dir     string
	Size    int64 // bytes of the sector file
	Runs    int   // iterations; each does a local copy, a fetch and a read/write copy, in rotating order
	Streams int   // parallel ranges per fetch (stores.RemoteOptions.Streams)
}

// Result is what a run measured. Ratios are time of the copy / time of the fetch (1 = as fast).
type Result struct {
	Size               int64   `json:"size_bytes"`
	Runs               int     `json:"runs"`
	Streams            int     `json:"streams"`
	FetchMBps          float64 `json:"fetch_mb_s"`
	CopyMBps           float64 `json:"copy_file_range_mb_s"`
	ReadWriteMBps      float64 `json:"read_write_mb_s"`
	FetchOverCopy      float64 `json:"fetch_over_copy"`
	FetchOverReadWrite float64 `json:"fetch_over_read_write"`
}

// node is one in-process node: a storage path, its Local, a /remote server and a Remote.
type node struct {
	local  *stores.Local
	remote *stores.Remote
	srv    *http.Server
}

// Run measures cfg.Runs iterations and cleans up.
func Run(ctx context.Context, cfg Config) (Result, error) {
	if cfg.Size <= 0 || cfg.Runs <= 0 || cfg.Streams <= 0 {
		return Result{}, errors.New("fetch bench: size, runs and streams must be positive")
	}
	ctx, cancel := context.WithCancel(ctx) // stops the nodes' heartbeats
	defer cancel()
	dir, err := os.MkdirTemp(cfg.Dir, "sealfleet-fetchbench-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(dir)
	d, err := db.OpenSQLite(filepath.Join(dir, "index.db"))
	if err != nil {
		return Result{}, err
	}
	defer d.Close()
	quiet := slog.New(slog.DiscardHandler)
	idx, err := stores.NewIndex(ctx, d, stores.IndexOptions{Logger: quiet})
	if err != nil {
		return Result{}, err
	}
	token := make([]byte, 16)
	rand.Read(token) //nolint:errcheck // never fails
	auth := "Bearer " + hex.EncodeToString(token)
	src, err := startNode(ctx, idx, dir, "src", auth, cfg.Streams, quiet)
	if err != nil {
		return Result{}, err
	}
	defer src.srv.Close()
	dst, err := startNode(ctx, idx, dir, "dst", auth, cfg.Streams, quiet)
	if err != nil {
		return Result{}, err
	}
	defer dst.srv.Close()
	return measure(ctx, cfg, idx, src, dst)
}

// startNode initialises a path, opens it on a new Local and serves /remote on a loopback port.
func startNode(ctx context.Context, idx *stores.Index, dir, name, auth string, streams int, log *slog.Logger) (*node, error) {
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		return nil, err
	}
	root := filepath.Join(dir, name)
	if _, err := stores.InitPath(root, stores.LocalStorageMeta{ID: storiface.ID(name), Weight: 10, CanSeal: true, CanStore: true}); err != nil {
		ln.Close()
		return nil, err
	}
	ls := stores.NewFileLocalStorage(filepath.Join(dir, name+"-storage.json"))
	local, err := stores.NewLocal(ctx, ls, idx, stores.LocalOptions{URLs: []string{"http://" + ln.Addr().String() + "/remote"}, Logger: log})
	if err == nil {
		err = local.AttachPath(ctx, root)
	}
	if err != nil {
		ln.Close()
		return nil, err
	}
	check := func(r *http.Request) error {
		if r.Header.Get("Authorization") != auth {
			return errors.New("bad token")
		}
		return nil
	}
	n := &node{local: local, srv: &http.Server{Handler: stores.NewFetchHandler(local, check, nil), ReadHeaderTimeout: 10 * time.Second}}
	go n.srv.Serve(ln) //nolint:errcheck // ends with Close
	go local.Run(ctx)  //nolint:errcheck // heartbeats until ctx ends
	n.remote = stores.NewRemote(local, idx, stores.RemoteOptions{Auth: http.Header{"Authorization": {auth}}, Streams: streams, Logger: log})
	return n, nil
}

// measure writes the file on src, then runs the iterations.
func measure(ctx context.Context, cfg Config, idx *stores.Index, src, dst *node) (Result, error) {
	sector := abi.SectorID{Miner: 1000, Number: 1}
	ref := storiface.SectorRef{ID: sector, ProofType: abi.RegisteredSealProof_StackedDrg512MiBV1_1}
	srcName, err := src.local.LocalPathOf("src", sector, storiface.FTSealed)
	if err != nil {
		return Result{}, err
	}
	if err := writeRandom(srcName, cfg.Size); err != nil {
		return Result{}, err
	}
	if err := idx.StorageDeclareSector(ctx, "src", sector, storiface.FTSealed, true); err != nil {
		return Result{}, err
	}
	dstName, _ := dst.local.LocalPathOf("dst", sector, storiface.FTSealed)
	to := dstName + ".copy"
	steps := []func() error{
		func() error { return copyFile(srcName, to) },
		func() error {
			_, _, err := dst.remote.AcquireSector(ctx, ref, storiface.FTSealed, 0, storiface.PathSealing, storiface.AcquireCopy)
			return err
		},
		func() error { return readWriteCopy(srcName, to) },
	}
	var took [3]time.Duration
	for n := range cfg.Runs {
		for k := range steps {
			step := (k + n) % len(steps)
			t0 := time.Now()
			if err := steps[step](); err != nil {
				return Result{}, err
			}
			took[step] += time.Since(t0)
			os.Remove(to)
		}
		if err := dst.local.Remove(ctx, sector, storiface.FTSealed, false, []storiface.ID{"src"}); err != nil {
			return Result{}, err
		}
	}
	mbps := func(d time.Duration) float64 { return float64(cfg.Runs) * float64(cfg.Size) / 1e6 / d.Seconds() }
	return Result{
		Size: cfg.Size, Runs: cfg.Runs, Streams: cfg.Streams,
		FetchMBps: mbps(took[1]), CopyMBps: mbps(took[0]), ReadWriteMBps: mbps(took[2]),
		FetchOverCopy: took[0].Seconds() / took[1].Seconds(), FetchOverReadWrite: took[2].Seconds() / took[1].Seconds(),
	}, nil
}

// writeRandom writes size random bytes (incompressible, so no filesystem shortcut) and syncs them.
func writeRandom(name string, size int64) error {
	f, err := os.Create(name)
	if err != nil {
		return err
	}
	buf := make([]byte, 1<<20)
	for left := size; left > 0; left -= int64(len(buf)) {
		rand.Read(buf) //nolint:errcheck // never fails
		if _, err := f.Write(buf[:min(int64(len(buf)), left)]); err != nil {
			f.Close()
			return err
		}
	}
	if err := f.Sync(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

// copyFile is a local copy as tools do it: io.Copy between files (copy_file_range), then fsync.
func copyFile(from, to string) error {
	return copyThenSync(from, to, func(out io.Writer, in io.Reader) error {
		if _, err := io.Copy(out, in); err != nil {
			return fmt.Errorf("copying %s: %w", from, err)
		}
		return nil
	})
}

// readWriteCopy copies through a 1 MiB user-space buffer, then fsyncs.
func readWriteCopy(from, to string) error {
	return copyThenSync(from, to, func(out io.Writer, in io.Reader) error {
		_, err := io.CopyBuffer(struct{ io.Writer }{out}, struct{ io.Reader }{in}, make([]byte, 1<<20))
		return err
	})
}

// copyThenSync opens from, creates to, runs cp from the one into the other (out and in are the *os.File
// themselves, so io.Copy may use copy_file_range), then fsyncs and closes to. Errors are returned as they
// come, cp's included; the destination is closed on every path.
func copyThenSync(from, to string, cp func(out io.Writer, in io.Reader) error) error {
	in, err := os.Open(from)
	if err != nil {
		return err
	}
	defer in.Close()
	out, err := os.Create(to)
	if err != nil {
		return err
	}
	if err := cp(out, in); err != nil {
		out.Close()
		return err
	}
	if err := out.Sync(); err != nil {
		out.Close()
		return err
	}
	return out.Close()
}
