package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/filecoin-project/go-state-types/abi"
	"github.com/urfave/cli/v2"

	"sealfleet/stores"
	"sealfleet/storiface"
)

// storageAPI is what the storage commands need from the manager (served at /rpc/v0).
type storageAPI interface {
	StorageAddLocal(ctx context.Context, path string) error
	StorageDetachLocal(ctx context.Context, path string) error
	StorageRedeclareLocal(ctx context.Context, id *storiface.ID, dropMissing bool) error
	StorageLocal(ctx context.Context) (map[storiface.ID]string, error)
	StoragePaths(ctx context.Context) ([]stores.PathStatus, error)
	StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error)
	StorageGetLocks(ctx context.Context) (storiface.SectorLocks, error)
}

// managerBase is the part of the manager client every build has.
type managerBase interface {
	StorageAddLocal(ctx context.Context, path string) error
	StorageDetachLocal(ctx context.Context, path string) error
	StorageLocal(ctx context.Context) (map[storiface.ID]string, error)
	StorageStat(ctx context.Context, id storiface.ID) (storiface.FsStat, error)
	StorageInfo(ctx context.Context, id storiface.ID) (storiface.StorageInfo, error)
	StorageList(ctx context.Context) (map[storiface.ID][]storiface.Decl, error)
	StorageFindSector(ctx context.Context, s abi.SectorID, ft storiface.SectorFileType, ssize abi.SectorSize, allowFetch bool) ([]storiface.SectorStorageInfo, error)
	StorageGetLocks(ctx context.Context) (storiface.SectorLocks, error)
}

// managerStorage adapts the manager client to storageAPI. StorageRedeclareLocal and StoragePaths are used when
// the manager serves them; otherwise redeclare reports that it cannot and list assembles the paths from
// StorageList, StorageInfo and StorageStat (figures only for the manager's own paths).
type managerStorage struct{ managerBase }

// StorageRedeclareLocal calls the manager's method of that name if it serves one.
func (m managerStorage) StorageRedeclareLocal(ctx context.Context, id *storiface.ID, dropMissing bool) error {
	if r, ok := m.managerBase.(interface {
		StorageRedeclareLocal(context.Context, *storiface.ID, bool) error
	}); ok {
		return r.StorageRedeclareLocal(ctx, id, dropMissing)
	}
	return errors.New("this manager does not serve StorageRedeclareLocal")
}

// StoragePaths calls the manager's method of that name, or assembles the list from the index methods.
func (m managerStorage) StoragePaths(ctx context.Context) ([]stores.PathStatus, error) {
	if p, ok := m.managerBase.(interface {
		StoragePaths(context.Context) ([]stores.PathStatus, error)
	}); ok {
		return p.StoragePaths(ctx)
	}
	decls, err := m.StorageList(ctx)
	if err != nil {
		return nil, err
	}
	var out []stores.PathStatus
	for id, ds := range decls {
		info, err := m.StorageInfo(ctx, id)
		if err != nil {
			return nil, err
		}
		ps := stores.PathStatus{Info: info, Healthy: true}
		for _, d := range ds {
			ps.Files += len(d.SectorFileType.All())
		}
		if st, err := m.StorageStat(ctx, id); err == nil {
			ps.Stat = st
		}
		out = append(out, ps)
	}
	return out, nil
}

// dialStorage connects to the manager named by the --repo flag.
func dialStorage(cctx *cli.Context) (storageAPI, func(), error) {
	m, closer, err := dialManager(cctx)
	if err != nil {
		return nil, nil, err
	}
	return managerStorage{m}, func() { closer() }, nil
}

// storageCmd groups the storage path commands.
var storageCmd = &cli.Command{
	Name:  "storage",
	Usage: "storage paths: attach, list, find, detach, redeclare, locks",
	Flags: []cli.Flag{managerRepoFlag},
	Subcommands: []*cli.Command{
		storageAttachCmd, storageListCmd, storageFindCmd, storageDetachCmd, storageRedeclareCmd, storageLocksCmd,
	},
}

var storageJSONFlag = &cli.BoolFlag{Name: "json", Usage: "print JSON instead of text"}

var storageAttachCmd = &cli.Command{
	Name:      "attach",
	Usage:     "attach a storage path to the manager's node (with --init, create its sectorstore.json first)",
	ArgsUsage: "PATH",
	Flags:     pathInitFlags,
	Action: attachPathAction(func(cctx *cli.Context) (localPathAdder, func(), error) {
		return dialStorage(cctx)
	}),
}

// pathInitFlags are the attach flags that describe a path created with --init (metaFromFlags reads them).
var pathInitFlags = []cli.Flag{
	&cli.BoolFlag{Name: "init", Usage: "create sectorstore.json (and the type directories) in PATH"},
	&cli.Uint64Flag{Name: "weight", Value: 10, Usage: "(with --init) ranking weight for allocation and fetch"},
	&cli.BoolFlag{Name: "seal", Usage: "(with --init) use the path for sealing scratch files"},
	&cli.BoolFlag{Name: "store", Usage: "(with --init) use the path for finalized sectors"},
	&cli.StringFlag{Name: "max-storage", Usage: "(with --init) cap on the bytes the path may hold, e.g. 2TiB"},
	&cli.StringSliceFlag{Name: "groups", Usage: "(with --init) groups the path belongs to"},
	&cli.StringSliceFlag{Name: "allow-to", Usage: "(with --init) groups allowed to fetch from the path"},
}

// localPathAdder is the node (manager or worker) an attach command adds a path to.
type localPathAdder interface {
	StorageAddLocal(ctx context.Context, path string) error
}

// attachPathAction returns the action of an `attach PATH` command: PATH is made absolute (absPathArg); with
// --init its sectorstore.json is created first from the pathInitFlags and the new storage ID printed; then the
// node dial connects to adds the path, and "attached PATH" is printed.
func attachPathAction(dial func(*cli.Context) (localPathAdder, func(), error)) cli.ActionFunc {
	return func(cctx *cli.Context) error {
		path, err := absPathArg(cctx, "attach")
		if err != nil {
			return err
		}
		if cctx.Bool("init") {
			meta, err := metaFromFlags(cctx)
			if err != nil {
				return err
			}
			if meta, err = stores.InitPath(path, meta); err != nil {
				return err
			}
			fmt.Fprintf(os.Stdout, "initialised %s with ID %s\n", path, meta.ID)
		}
		a, closer, err := dial(cctx)
		if err != nil {
			return err
		}
		defer closer()
		if err := a.StorageAddLocal(cctx.Context, path); err != nil {
			return fmt.Errorf("attaching %s: %w", path, err)
		}
		fmt.Fprintf(os.Stdout, "attached %s\n", path)
		return nil
	}
}

// absPathArg checks that cmd got exactly one PATH argument and returns it made absolute.
func absPathArg(cctx *cli.Context, cmd string) (string, error) {
	if cctx.NArg() != 1 {
		return "", fmt.Errorf("%s: want exactly one PATH argument", cmd)
	}
	return filepath.Abs(cctx.Args().First())
}

// metaFromFlags builds a new path's settings from the attach flags.
func metaFromFlags(cctx *cli.Context) (stores.LocalStorageMeta, error) {
	m := stores.LocalStorageMeta{
		Weight: cctx.Uint64("weight"), CanSeal: cctx.Bool("seal"), CanStore: cctx.Bool("store"),
		Groups: cctx.StringSlice("groups"), AllowTo: cctx.StringSlice("allow-to"),
	}
	if !m.CanSeal && !m.CanStore {
		return m, errors.New("--init: pass --seal, --store or both")
	}
	if s := cctx.String("max-storage"); s != "" {
		n, err := stores.ParseBytes(s)
		if err != nil {
			return m, fmt.Errorf("--max-storage: %w", err)
		}
		m.MaxStorage = n
	}
	return m, nil
}

var storageListCmd = &cli.Command{
	Name:  "list",
	Usage: "list the storage paths with capacity, used and reserved space and health",
	Flags: []cli.Flag{storageJSONFlag},
	Action: func(cctx *cli.Context) error {
		a, closer, err := dialStorage(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return storageList(cctx.Context, a, os.Stdout, cctx.Bool("json"))
	},
}

// storageList prints every path (sorted by ID) with its bars, or JSON.
func storageList(ctx context.Context, a storageAPI, w io.Writer, asJSON bool) error {
	paths, err := a.StoragePaths(ctx)
	if err != nil {
		return err
	}
	local, err := a.StorageLocal(ctx)
	if err != nil {
		return err
	}
	if asJSON {
		return printJSON(w, paths)
	}
	return renderStorageList(w, paths, local)
}

var storageFindCmd = &cli.Command{
	Name:      "find",
	Usage:     "show where the files of a sector are",
	ArgsUsage: "MINER NUMBER",
	Flags:     []cli.Flag{storageJSONFlag},
	Action: func(cctx *cli.Context) error {
		if cctx.NArg() != 2 {
			return errors.New("find: want MINER (t01000, f01000 or 1000) and sector NUMBER")
		}
		miner, err := stores.ParseMinerID(cctx.Args().Get(0))
		if err != nil {
			return err
		}
		num, err := strconv.ParseUint(cctx.Args().Get(1), 10, 64)
		if err != nil {
			return fmt.Errorf("sector number %q: want a decimal number", cctx.Args().Get(1))
		}
		a, closer, err := dialStorage(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return storageFind(cctx.Context, a, os.Stdout, abi.SectorID{Miner: miner, Number: abi.SectorNumber(num)}, cctx.Bool("json"))
	},
}

// storageFind looks each file type of sector s up and prints the locations per path.
func storageFind(ctx context.Context, a storageAPI, w io.Writer, s abi.SectorID, asJSON bool) error {
	byType := map[storiface.SectorFileType][]storiface.SectorStorageInfo{}
	for _, t := range storiface.PathTypes {
		found, err := a.StorageFindSector(ctx, s, t, 0, false)
		if err != nil {
			return fmt.Errorf("finding %s of %s: %w", t, storiface.SectorName(s), err)
		}
		if len(found) > 0 {
			byType[t] = found
		}
	}
	local, err := a.StorageLocal(ctx)
	if err != nil {
		return err
	}
	locs := sectorLocations(byType, local)
	if asJSON {
		return printJSON(w, locs)
	}
	return renderSectorLocations(w, s, locs)
}

var storageDetachCmd = &cli.Command{
	Name:      "detach",
	Usage:     "stop using a storage path of the manager's node (files stay on disk; declarations are dropped)",
	ArgsUsage: "PATH",
	Action: func(cctx *cli.Context) error {
		path, err := absPathArg(cctx, "detach")
		if err != nil {
			return err
		}
		a, closer, err := dialStorage(cctx)
		if err != nil {
			return err
		}
		defer closer()
		if err := a.StorageDetachLocal(cctx.Context, path); err != nil {
			return fmt.Errorf("detaching %s: %w", path, err)
		}
		fmt.Fprintf(os.Stdout, "detached %s\n", path)
		return nil
	},
}

var storageRedeclareCmd = &cli.Command{
	Name:  "redeclare",
	Usage: "re-read the settings of the manager node's paths and declare their files again",
	Flags: []cli.Flag{
		&cli.StringFlag{Name: "id", Usage: "only the path with this storage ID"},
		&cli.BoolFlag{Name: "drop-missing", Usage: "drop declarations of files no longer on disk"},
	},
	Action: func(cctx *cli.Context) error {
		a, closer, err := dialStorage(cctx)
		if err != nil {
			return err
		}
		defer closer()
		var id *storiface.ID
		if s := strings.TrimSpace(cctx.String("id")); s != "" {
			v := storiface.ID(s)
			id = &v
		}
		return a.StorageRedeclareLocal(cctx.Context, id, cctx.Bool("drop-missing"))
	},
}

var storageLocksCmd = &cli.Command{
	Name:  "locks",
	Usage: "list the sector locks held",
	Flags: []cli.Flag{storageJSONFlag},
	Action: func(cctx *cli.Context) error {
		a, closer, err := dialStorage(cctx)
		if err != nil {
			return err
		}
		defer closer()
		locks, err := a.StorageGetLocks(cctx.Context)
		if err != nil {
			return err
		}
		if cctx.Bool("json") {
			return printJSON(os.Stdout, locks)
		}
		return renderLocks(os.Stdout, locks)
	},
}
