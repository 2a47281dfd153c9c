package worker

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"time"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/seal"
	"sealfleet/seal/partialfile"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// DaemonConfig configures a remote worker process (`sealfleet worker run`).
type DaemonConfig struct {
	// Manager is how to reach the manager's API (token and URL).
	Manager api.Info
	// Listen is the address the worker serves /rpc/v0 and /remote on, e.g. "0.0.0.0:3456".
	Listen string
	// Advertise is the base URL the manager and other nodes reach this worker at (default http://<Listen>;
	// required when Listen has no host or a wildcard host).
	Advertise string
	// Repo is the worker's directory: storage.json, its database and its default storage path.
	Repo string
	// NoLocalStorage skips creating a default sealing path in the repo when no path is configured.
	NoLocalStorage bool
	// Worker is the LocalWorker configuration (tasks, name, resources, fetch limit).
	Worker Config
	// Heartbeat is how often the manager's session is checked (default 5s).
	Heartbeat time.Duration
	// Logger (default slog.Default()).
	Logger *slog.Logger
}

// DaemonDeps are the parts of a worker process that other packages build.
type DaemonDeps struct {
	// Backend runs the sealing calls.
	Backend seal.Backend
	// Allocated tells the /remote handler which ranges of an unsealed file hold data (nil: partialfile.Allocated,
	// which reads the file's allocation trailer).
	Allocated stores.AllocatedFunc
}

// Daemon is a running worker process.
type Daemon struct {
	cfg     DaemonConfig
	log     *slog.Logger
	mgr     api.Manager
	closer  api.ClientCloser
	local   *stores.Local
	worker  *LocalWorker
	srv     *http.Server
	db      *db.DB
	baseURL string
	cancel  context.CancelFunc
	done    chan struct{}
}

// StartDaemon connects to the manager, opens the worker's storage and call tracker, serves the worker API and
// /remote, and registers with the manager. It then watches the manager's session: when the manager restarts,
// the worker re-declares its storage and reconnects at once, whatever calls it is running.
func StartDaemon(ctx context.Context, cfg DaemonConfig, deps DaemonDeps) (*Daemon, error) {
	if cfg.Logger == nil {
		cfg.Logger = slog.Default()
	}
	if cfg.Heartbeat <= 0 {
		cfg.Heartbeat = 5 * time.Second
	}
	if cfg.Worker.Clock == nil {
		cfg.Worker.Clock = RealClock{}
	}
	lst, err := net.Listen("tcp", cfg.Listen)
	if err != nil {
		return nil, fmt.Errorf("listening on %s: %w", cfg.Listen, err)
	}
	base, err := advertiseURL(lst.Addr().String(), cfg.Advertise)
	if err != nil {
		lst.Close()
		return nil, err
	}
	if deps.Backend == nil {
		lst.Close()
		return nil, errors.New("worker daemon: no sealing backend")
	}
	dctx, cancel := context.WithCancel(context.Background())
	d := &Daemon{cfg: cfg, log: cfg.Logger.With("component", "worker-daemon"), baseURL: base, cancel: cancel,
		done: make(chan struct{})}
	if err := d.start(ctx, dctx, deps, lst); err != nil {
		lst.Close()
		d.Close()
		return nil, err
	}
	go d.watchManager(dctx)
	return d, nil
}

func (d *Daemon) start(ctx, dctx context.Context, deps DaemonDeps, lst net.Listener) error {
	var err error
	d.mgr, d.closer, err = api.NewManagerClient(dctx, d.cfg.Manager, api.ClientOptions{Timeout: 10 * time.Minute})
	if err != nil {
		return fmt.Errorf("connecting to the manager: %w", err)
	}
	if v, err := d.mgr.Version(ctx); err != nil {
		return fmt.Errorf("checking the manager's version: %w", err)
	} else if v != api.Version {
		return fmt.Errorf("manager API version %q, this worker speaks %q", v, api.Version)
	}
	if d.db, err = db.OpenSQLite(filepath.Join(d.cfg.Repo, "worker.db")); err != nil {
		return err
	}
	ls := stores.NewFileLocalStorage(filepath.Join(d.cfg.Repo, "storage.json"))
	d.local, err = stores.NewLocal(ctx, ls, d.mgr, stores.LocalOptions{URLs: []string{d.baseURL + "/remote"},
		Logger: d.cfg.Logger})
	if err != nil {
		return fmt.Errorf("opening local storage: %w", err)
	}
	if err := d.defaultPath(ctx, ls); err != nil {
		return err
	}
	go func() { _ = d.local.Run(dctx) }()
	store := stores.NewRemote(d.local, d.mgr, stores.RemoteOptions{Auth: d.cfg.Manager.Header(),
		FetchLimit: d.cfg.Worker.ParallelFetchLimit, Logger: d.cfg.Logger})
	d.worker, err = New(ctx, d.cfg.Worker, Deps{Backend: deps.Backend, Store: store, Index: d.mgr,
		Local: attachingPaths{d.local}, Return: d.mgr, DB: d.db, Verify: d.mgr.AuthVerify, Shutdown: d.shutdown})
	if err != nil {
		return err
	}
	d.serve(deps, lst)
	return nil
}

// defaultPath creates and attaches <repo>/local as a sealing path when no path is configured.
func (d *Daemon) defaultPath(ctx context.Context, ls *stores.FileLocalStorage) error {
	sc, err := ls.GetStorage()
	if err != nil {
		return fmt.Errorf("reading storage.json: %w", err)
	}
	if len(sc.StoragePaths) > 0 || d.cfg.NoLocalStorage {
		return nil
	}
	root := filepath.Join(d.cfg.Repo, "local")
	if _, err := os.Stat(filepath.Join(root, "sectorstore.json")); errors.Is(err, os.ErrNotExist) {
		if _, err := stores.InitPath(root, stores.LocalStorageMeta{Weight: 10, CanSeal: true}); err != nil {
			return fmt.Errorf("initialising default storage %s: %w", root, err)
		}
	}
	return d.local.AttachPath(ctx, root)
}

func (d *Daemon) serve(deps DaemonDeps, lst net.Listener) {
	verify := api.CachingVerifier(d.mgr.AuthVerify, time.Minute, nil)
	mux := http.NewServeMux()
	mux.Handle(api.RPCPath, api.WorkerHandler(d.worker, verify))
	allocated := deps.Allocated
	if allocated == nil {
		allocated = partialfile.Allocated
	}
	mux.Handle("/remote/", stores.NewFetchHandler(d.local, api.Authorize(verify, api.PermAdmin), allocated))
	d.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 30 * time.Second}
	go func() {
		if err := d.srv.Serve(lst); err != nil && !errors.Is(err, http.ErrServerClosed) {
			d.log.Error("worker API server stopped", "err", err)
			d.shutdown()
		}
	}()
	d.log.Info("worker serving", "listen", lst.Addr().String(), "url", d.baseURL)
}

// connect re-declares the local storage and asks the manager to dial this worker back.
func (d *Daemon) connect(ctx context.Context) error {
	if err := d.local.Redeclare(ctx, nil, false); err != nil {
		return fmt.Errorf("re-declaring storage: %w", err)
	}
	if err := d.mgr.WorkerConnect(ctx, d.baseURL); err != nil {
		return fmt.Errorf("registering with the manager: %w", err)
	}
	d.log.Info("connected to the manager", "manager", d.cfg.Manager.URL)
	return nil
}

// watchManager connects at start and again at once whenever the manager's session changes (it restarted).
func (d *Daemon) watchManager(ctx context.Context) {
	defer close(d.done)
	var last [16]byte
	connected := false
	for {
		s, err := d.mgr.Session(ctx)
		switch {
		case err != nil:
			if ctx.Err() != nil {
				return
			}
			d.log.Warn("manager unreachable", "err", err)
		case !connected || s != last:
			if connected {
				d.log.Info("manager restarted: reconnecting", "session", s)
			}
			if err := d.connect(ctx); err != nil {
				d.log.Warn("connecting to the manager", "err", err)
			} else {
				last, connected = s, true
			}
		}
		select {
		case <-d.cfg.Worker.Clock.After(d.cfg.Heartbeat):
		case <-ctx.Done():
			return
		}
	}
}

// Worker returns the daemon's LocalWorker.
func (d *Daemon) Worker() *LocalWorker { return d.worker }

// URL returns the base URL the worker advertises.
func (d *Daemon) URL() string { return d.baseURL }

// Done is closed when the daemon has stopped (Shutdown called or Close).
func (d *Daemon) Done() <-chan struct{} { return d.done }

func (d *Daemon) shutdown() { d.cancel() }

// Close stops serving, stops the worker (its tracked calls stay persisted) and disconnects from the manager.
func (d *Daemon) Close() error {
	d.cancel()
	if d.srv != nil {
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = d.srv.Shutdown(sctx)
		cancel()
	}
	if d.worker != nil {
		_ = d.worker.Close()
	}
	if d.closer != nil {
		d.closer()
	}
	if d.db != nil {
		return d.db.Close()
	}
	return nil
}

// attachingPaths makes StorageAddLocal persist the path in storage.json (AttachPath), initialising it as a
// sealing path when it has no sectorstore.json yet.
type attachingPaths struct{ st *stores.Local }

// Local lists the local paths.
func (a attachingPaths) Local(ctx context.Context) ([]storiface.StoragePath, error) {
	return a.st.Local(ctx)
}

// DetachPath closes a path and removes it from storage.json.
func (a attachingPaths) DetachPath(ctx context.Context, rootOrID string) error {
	return a.st.DetachPath(ctx, rootOrID)
}

// Redeclare re-declares sector files.
func (a attachingPaths) Redeclare(ctx context.Context, id *storiface.ID, dropMissing bool) error {
	return a.st.Redeclare(ctx, id, dropMissing)
}

// OpenPath initialises root if needed and attaches it.
func (a attachingPaths) OpenPath(ctx context.Context, root string) error {
	if _, err := os.Stat(filepath.Join(root, "sectorstore.json")); errors.Is(err, os.ErrNotExist) {
		if _, err := stores.InitPath(root, stores.LocalStorageMeta{Weight: 10, CanSeal: true}); err != nil {
			return fmt.Errorf("initialising %s: %w", root, err)
		}
	}
	return a.st.AttachPath(ctx, root)
}

// advertiseURL returns the worker's base URL: advertise if set, else http://<listen> when listen names a host.
func advertiseURL(listen, advertise string) (string, error) {
	if advertise != "" {
		if !strings.HasPrefix(advertise, "http://") && !strings.HasPrefix(advertise, "https://") {
			return "", fmt.Errorf("advertise URL %q: must start with http:// or https://", advertise)
		}
		return strings.TrimSuffix(advertise, "/"), nil
	}
	host, port, err := net.SplitHostPort(listen)
	if err != nil {
		return "", fmt.Errorf("listen address %q: want host:port: %w", listen, err)
	}
	if ip := net.ParseIP(host); host == "" || (ip != nil && ip.IsUnspecified()) {
		return "", fmt.Errorf("listen address %q has no routable host: set the advertise URL", listen)
	}
	return "http://" + net.JoinHostPort(host, port), nil
}
