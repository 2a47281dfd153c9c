// Package node wires sealfleet's packages into the all-in-one manager process that `sealfleet run` starts: the
// repo dir (config.toml, JWT secret, SQLite database, storage.json and a default storage path), the sector index
// and stores, the scheduler, the manager with the native sealing backend and an embedded local worker, the sector
// pipeline, the dashboard and the Prometheus metrics, all behind one HTTP server:
//
//	/rpc/v0      JSON-RPC: the manager API and the pipeline's Sectors* methods (namespace Sealfleet)
//	/remote/     the node's sector files, for workers (admin token)
//	/pieces      deal data in, unsealed data out (pipeline.Handler)
//	/piece-data/ deal data waiting for AddPiece, for workers (admin token)
//	/metrics     Prometheus metrics
//	/            the dashboard (read token)
package node

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
	"sync"
	"time"

	"github.com/filecoin-project/go-jsonrpc/auth"

	"sealfleet/api"
	"sealfleet/db"
	"sealfleet/manager"
	"sealfleet/metrics"
	"sealfleet/pipeline"
	"sealfleet/sched"
	"sealfleet/seal"
	"sealfleet/seal/native"
	"sealfleet/seal/partialfile"
	"sealfleet/stores"
	"sealfleet/web"
)

// DBFile is the node's SQLite database in the repo dir.
const DBFile = "sealfleet.db"

// Options are the parts of a node that do not come from config.toml.
type Options struct {
	// Repo is the node's directory (created if missing).
	Repo string
	// Logger (default slog.Default()).
	Logger *slog.Logger
	// Backend seals for the local worker and reads pieces; nil means the native backend with Prover and
	// ParentsCacheDir.
	Backend seal.Backend
	// Prover is the native backend's C2 prover (nil: the vanilla prover).
	Prover native.Prover
	// ParentsCacheDir is the native backend's SDR parents cache ("" : its default).
	ParentsCacheDir string
	// ObserveInterval is how often worker resources, call-tracker states and sector counts are polled for the
	// dashboard and the metrics (default 1s); jobs are recorded as they happen, from the scheduler's OnJob hook.
	ObserveInterval time.Duration
}

// Node is a running all-in-one manager. Build it with New, serve with Run, release with Close.
type Node struct {
	cfg  Config
	opts Options
	log  *slog.Logger

	secret []byte
	token  string // admin token, for the node's own requests to workers
	db     *db.DB
	lst    net.Listener
	url    string

	index    *stores.Index
	local    *stores.Local
	sched    *sched.Scheduler
	mgr      *manager.Manager
	pipe     *pipeline.Pipeline
	pieces   *pipeline.DirPieceStore
	metrics  *metrics.Metrics
	web      *web.Server
	observer *observer
	handler  http.Handler

	unlock   func()          // releases the repo lock
	bg       context.Context // lives until Close: scheduler, storage heartbeats
	stopBg   context.CancelFunc
	bgDone   sync.WaitGroup
	closeOne sync.Once
}

// New opens (initialising if needed) the repo and builds every part of the node. It listens on
// cfg.API.ListenAddress at once, so that the address is known before the stores advertise it, and starts the
// scheduler and the embedded local worker; the HTTP server and the pipeline start with Run.
func New(ctx context.Context, cfg Config, opts Options) (_ *Node, err error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	if opts.Repo == "" {
		return nil, errors.New("node: no repo dir")
	}
	if opts.Logger == nil {
		opts.Logger = slog.Default()
	}
	if opts.ObserveInterval <= 0 {
		opts.ObserveInterval = time.Second
	}
	n := &Node{cfg: cfg, opts: opts, log: opts.Logger.With("component", "node")}
	n.bg, n.stopBg = context.WithCancel(context.Background())
	defer func() {
		if err != nil {
			n.Close()
		}
	}()
	n.metrics = metrics.New()
	n.observer = newObserver(n.metrics, time.Now)
	if err := n.openRepo(); err != nil {
		return nil, err
	}
	if err := n.listen(); err != nil {
		return nil, err
	}
	if err := n.openStores(ctx); err != nil {
		return nil, err
	}
	if err := n.startManager(ctx); err != nil {
		return nil, err
	}
	if err := n.openPipeline(); err != nil {
		return nil, err
	}
	if err := n.buildHTTP(); err != nil {
		return nil, err
	}
	return n, nil
}

// openRepo creates the repo dir, its JWT secret and opens the database.
func (n *Node) openRepo() error {
	if err := os.MkdirAll(n.opts.Repo, 0o700); err != nil {
		return fmt.Errorf("creating repo %s: %w", n.opts.Repo, err)
	}
	unlock, err := lockRepo(n.opts.Repo)
	if err != nil {
		return err
	}
	n.unlock = unlock
	secret, err := api.LoadOrCreateSecret(n.opts.Repo)
	if err != nil {
		return err
	}
	n.secret = secret
	if n.token, err = api.NewToken(secret, api.AllPermissions); err != nil {
		return err
	}
	if n.db, err = db.OpenSQLite(filepath.Join(n.opts.Repo, DBFile)); err != nil {
		return fmt.Errorf("opening the database: %w", err)
	}
	return nil
}

// listen opens the API listener and works out the base URL the node advertises.
func (n *Node) listen() error {
	lst, err := net.Listen("tcp", n.cfg.API.ListenAddress)
	if err != nil {
		return fmt.Errorf("listening on %s (config API.ListenAddress / --listen): %w", n.cfg.API.ListenAddress, err)
	}
	n.lst = lst
	if a := n.cfg.API.Advertise; a != "" {
		n.url = strings.TrimSuffix(a, "/")
		return nil
	}
	host, port, _ := net.SplitHostPort(lst.Addr().String())
	if ip := net.ParseIP(host); ip != nil && ip.IsUnspecified() {
		return fmt.Errorf("listen address %s has a wildcard host: set API.Advertise to the URL workers reach "+
			"this node at", n.cfg.API.ListenAddress)
	}
	n.url = "http://" + net.JoinHostPort(host, port)
	return nil
}

// openStores opens the sector index, the node's storage paths (creating the default path on first start) and
// the Remote store over them.
func (n *Node) openStores(ctx context.Context) error {
	var err error
	if n.index, err = stores.NewIndex(ctx, n.db, stores.IndexOptions{Logger: n.opts.Logger}); err != nil {
		return fmt.Errorf("opening the sector index: %w", err)
	}
	ls := stores.NewFileLocalStorage(filepath.Join(n.opts.Repo, "storage.json"))
	n.local, err = stores.NewLocal(ctx, ls, n.index, stores.LocalOptions{URLs: []string{n.url + "/remote"},
		Logger: n.opts.Logger})
	if err != nil {
		return fmt.Errorf("opening local storage: %w", err)
	}
	if err := n.defaultPath(ctx, ls); err != nil {
		return err
	}
	n.bgDone.Add(1)
	go func() { defer n.bgDone.Done(); _ = n.local.Run(n.bg) }()
	return nil
}

// defaultPath initialises and attaches Storage.DefaultPath (seal + store) when storage.json lists no path.
func (n *Node) defaultPath(ctx context.Context, ls *stores.FileLocalStorage) error {
	sc, err := ls.GetStorage()
	if err != nil {
		return fmt.Errorf("reading storage.json: %w", err)
	}
	if len(sc.StoragePaths) > 0 || n.cfg.Storage.DefaultPath == "" {
		return nil
	}
	root := n.cfg.Storage.DefaultPath
	if !filepath.IsAbs(root) {
		root = filepath.Join(n.opts.Repo, root)
	}
	if _, err := os.Stat(filepath.Join(root, stores.MetaFile)); errors.Is(err, os.ErrNotExist) {
		meta := stores.LocalStorageMeta{Weight: n.cfg.Storage.DefaultPathWeight, CanSeal: true, CanStore: true}
		if _, err := stores.InitPath(root, meta); err != nil {
			return fmt.Errorf("initialising the default storage path %s: %w", root, err)
		}
	}
	if err := n.local.AttachPath(ctx, root); err != nil {
		return fmt.Errorf("attaching the default storage path %s: %w", root, err)
	}
	return nil
}

// startManager starts the scheduler and builds the manager with its backend and local worker.
func (n *Node) startManager(ctx context.Context) error {
	scfg := n.cfg.SchedConfig()
	scfg.Logger = n.opts.Logger.With("component", "sched")
	scfg.OnJob = n.observer.jobEvent
	var err error
	if n.sched, err = sched.New(scfg); err != nil {
		return fmt.Errorf("config Scheduler: %w", err)
	}
	n.bgDone.Add(1)
	go func() { defer n.bgDone.Done(); n.sched.Run(n.bg) }()
	backend := n.opts.Backend
	if backend == nil {
		backend = native.New(native.Config{Prover: n.opts.Prover, ParentsCacheDir: n.opts.ParentsCacheDir,
			Logger: n.opts.Logger})
	}
	hdr := http.Header{}
	hdr.Set("Authorization", "Bearer "+n.token)
	store := stores.NewRemote(n.local, n.index, stores.RemoteOptions{Auth: hdr,
		FetchLimit: n.cfg.Sealer.ParallelFetchLimit, Logger: n.opts.Logger, OnFetch: n.metrics.AddFetch})
	n.mgr, err = manager.New(ctx, manager.Config{Sealer: n.cfg.ManagerSealerConfig(), Logger: n.opts.Logger},
		manager.Deps{Index: n.index, Local: n.local, Store: store, Sched: n.sched, DB: n.db, Secret: n.secret,
			Backend: backend})
	if err != nil {
		return fmt.Errorf("starting the manager: %w", err)
	}
	return nil
}

// openPipeline opens the sector pipeline with the manager as its sealer and reader.
func (n *Node) openPipeline() error {
	pc, err := n.cfg.PipelineConfig()
	if err != nil {
		return err
	}
	n.pieces, err = pipeline.NewDirPieceStore(filepath.Join(n.opts.Repo, "pieces"), n.url+pieceDataPath,
		map[string]string{"Authorization": "Bearer " + n.token})
	if err != nil {
		return fmt.Errorf("opening the piece store: %w", err)
	}
	n.pipe, err = pipeline.New(pc, n.db, n.mgr, n.pieces, pipeline.SystemClock{},
		pipeline.WithLogger(n.opts.Logger.With("component", "pipeline")), pipeline.WithReader(n.mgr))
	if err != nil {
		return fmt.Errorf("opening the pipeline: %w", err)
	}
	n.observer.attach(n.sched, n.mgr, n.pipe, pc.Miner)
	src := &source{index: n.index, local: n.local, sched: n.sched, pipe: n.pipe, obs: n.observer, miner: pc.Miner}
	n.web, err = web.New(web.Config{Source: src, Authorize: n.authorizeToken,
		Logger: n.opts.Logger.With("component", "web")})
	if err != nil {
		return fmt.Errorf("starting the dashboard: %w", err)
	}
	return nil
}

// pieceDataPath is where workers fetch deal data waiting for AddPiece.
const pieceDataPath = "/piece-data"

// buildHTTP assembles the node's HTTP surface.
func (n *Node) buildHTTP() error {
	verify := api.Verifier(n.secret)
	mux := http.NewServeMux()
	mux.Handle(api.RPCPath, api.ManagerHandlerWith(n.mgr, verify, newSectorsProxy(pipeline.RPC{P: n.pipe})))
	mux.Handle("/remote/", stores.NewFetchHandler(n.local, api.Authorize(verify, api.PermAdmin), partialfile.Allocated))
	ph := pipeline.Handler(n.pipe, func(r *http.Request, perm string) error {
		return api.Authorize(verify, auth.Permission(perm))(r)
	})
	mux.Handle(pipeline.PiecesPath, ph)
	mux.Handle(pipeline.PiecesPath+"/", ph)
	mux.Handle(pieceDataPath+"/", http.StripPrefix(pieceDataPath,
		n.pieces.Handler(api.Authorize(verify, api.PermAdmin))))
	mux.Handle("/metrics", n.metrics.Handler())
	mux.Handle("/", n.web)
	n.handler = mux
	return nil
}

// authorizeToken is the dashboard's token check.
func (n *Node) authorizeToken(token string) ([]string, error) {
	perms, err := api.VerifyToken(n.secret, token)
	if err != nil {
		return nil, err
	}
	out := make([]string, len(perms))
	for i, p := range perms {
		out[i] = string(p)
	}
	return out, nil
}

// Run serves HTTP, drives the pipeline and feeds the dashboard and metrics until ctx is cancelled. It writes
// the API endpoint and an admin token into the repo (api.WriteEndpoint) so local CLIs find the node.
func (n *Node) Run(ctx context.Context) error {
	if err := api.WriteEndpoint(n.opts.Repo, n.url, n.secret); err != nil {
		return fmt.Errorf("writing the API endpoint to the repo: %w", err)
	}
	srv := &http.Server{Handler: n.handler, ReadHeaderTimeout: 30 * time.Second}
	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(n.lst) }()
	rctx, cancel := context.WithCancel(ctx)
	defer cancel()
	var wg sync.WaitGroup
	pipeErr := make(chan error, 1)
	wg.Add(3)
	go func() { defer wg.Done(); pipeErr <- n.pipe.Run(rctx) }()
	go func() { defer wg.Done(); n.web.Run(rctx) }()
	go func() { defer wg.Done(); n.observer.run(rctx, n.opts.ObserveInterval) }()
	var err error
	select {
	case <-ctx.Done():
	case err = <-serveErr:
		err = fmt.Errorf("serving HTTP: %w", err)
	case err = <-pipeErr:
		if err != nil {
			err = fmt.Errorf("pipeline stopped: %w", err)
		}
	}
	cancel()
	sctx, scancel := context.WithTimeout(context.Background(), 5*time.Second)
	_ = srv.Shutdown(sctx)
	scancel()
	wg.Wait()
	return err
}

// URL returns the base URL the node serves and advertises, e.g. http://127.0.0.1:2345.
func (n *Node) URL() string { return n.url }

// AdminToken returns a token with every permission, signed with the repo's secret.
func (n *Node) AdminToken() string { return n.token }

// Token signs a token granting the permissions up to level ("read", "write" or "admin").
func (n *Node) Token(level string) (string, error) {
	perms, err := api.PermsUpTo(level)
	if err != nil {
		return "", err
	}
	return api.NewToken(n.secret, perms)
}

// Pipeline returns the node's sector pipeline.
func (n *Node) Pipeline() *pipeline.Pipeline { return n.pipe }

// Manager returns the node's manager.
func (n *Node) Manager() *manager.Manager { return n.mgr }

// Index returns the node's sector index.
func (n *Node) Index() *stores.Index { return n.index }

// Local returns the node's storage paths.
func (n *Node) Local() *stores.Local { return n.local }

// Metrics returns the node's metrics.
func (n *Node) Metrics() *metrics.Metrics { return n.metrics }

// Close stops the manager (its local worker; tracked work stays persisted), the scheduler and the storage
// heartbeats, closes the listener and the database. Call it after Run has returned. It is idempotent.
func (n *Node) Close() error {
	n.closeOne.Do(func() {
		if n.mgr != nil {
			_ = n.mgr.Close()
		}
		if n.sched != nil {
			cctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
			if err := n.sched.Close(cctx); err != nil {
				n.log.Warn("closing the scheduler", "err", err)
			}
			cancel()
		}
		n.stopBg()
		n.bgDone.Wait()
		if n.lst != nil {
			_ = n.lst.Close()
		}
		if n.db != nil {
			_ = n.db.Close()
		}
		if n.unlock != nil {
			n.unlock()
		}
	})
	return nil
}
