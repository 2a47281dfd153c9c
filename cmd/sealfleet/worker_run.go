package main

import (
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/manager"
	"sealfleet/worker"
)

var workerRunCmd = &cli.Command{
	Name:  "run",
	Usage: "run a remote worker: connect to the manager, serve /rpc/v0 and /remote, run sealing calls",
	Flags: []cli.Flag{
		managerRepoFlag,
		workerRepoFlag,
		&cli.StringFlag{Name: "manager", Usage: "manager base URL, e.g. http://10.0.0.1:2345 (default: from " +
			api.EnvAPIInfo + " or the manager repo)"},
		&cli.StringFlag{Name: "listen", Value: "127.0.0.1:3456", Usage: "host:port to serve the worker API and /remote on"},
		&cli.StringFlag{Name: "advertise", Usage: "base URL the manager and other nodes reach this worker at " +
			"(default http://<listen>; required for a wildcard listen host)"},
		&cli.StringFlag{Name: "name", Usage: "worker name shown by `sealing workers` (default: hostname)"},
		&cli.BoolFlag{Name: "no-local-storage", Usage: "do not create a default sealing path in the worker repo"},
		&cli.IntFlag{Name: "parallel-fetch-limit", Value: 5, Usage: "most concurrent fetches"},
		&cli.BoolFlag{Name: "addpiece", Value: true, Usage: "accept AddPiece and DataCid"},
		&cli.BoolFlag{Name: "precommit1", Value: true, Usage: "accept PreCommit1"},
		&cli.BoolFlag{Name: "precommit2", Value: true, Usage: "accept PreCommit2"},
		&cli.BoolFlag{Name: "commit", Value: true, Usage: "accept Commit2"},
		&cli.BoolFlag{Name: "unseal", Value: true, Usage: "accept Unseal"},
	},
	Action: func(cctx *cli.Context) error {
		cfg, err := workerDaemonConfig(cctx)
		if err != nil {
			return err
		}
		backend, err := newSealBackend(cctx)
		if err != nil {
			return err
		}
		d, err := worker.StartDaemon(cctx.Context, cfg, worker.DaemonDeps{Backend: backend})
		if err != nil {
			return err
		}
		defer d.Close()
		if err := api.WriteEndpointToken(cfg.Repo, d.URL(), cfg.Manager.Token); err != nil {
			return err
		}
		sig := make(chan os.Signal, 1)
		signal.Notify(sig, syscall.SIGINT, syscall.SIGTERM)
		select {
		case s := <-sig:
			slog.Info("stopping worker", "signal", s)
		case <-d.Done():
			slog.Info("worker stopped")
		}
		return nil
	},
}

// workerDaemonConfig turns the flags into a daemon configuration.
func workerDaemonConfig(cctx *cli.Context) (worker.DaemonConfig, error) {
	var mgr api.Info
	if env := os.Getenv(api.EnvAPIInfo); env != "" {
		info, err := api.ParseInfo(env)
		if err != nil {
			return worker.DaemonConfig{}, err
		}
		mgr = info
	} else {
		info, err := api.ReadInfo(managerRepo(cctx))
		if err != nil && cctx.String("manager") == "" {
			return worker.DaemonConfig{}, fmt.Errorf("no manager: pass --manager and %s, or --repo: %w", api.EnvAPIInfo, err)
		}
		mgr = info
	}
	if u := cctx.String("manager"); u != "" {
		mgr.URL = u
	}
	if mgr.Token == "" {
		return worker.DaemonConfig{}, fmt.Errorf("no API token for the manager: set %s=<token>:<url> "+
			"(sealfleet auth api-info --perm admin prints it)", api.EnvAPIInfo)
	}
	if n := cctx.Int("parallel-fetch-limit"); n < 0 {
		return worker.DaemonConfig{}, fmt.Errorf("--parallel-fetch-limit %d: must be 0 (no limit) or more", n)
	}
	res, err := worker.DetectResources(cctx.Context)
	if err != nil {
		return worker.DaemonConfig{}, err
	}
	toggles := manager.SealerConfig{AllowAddPiece: cctx.Bool("addpiece"), AllowPreCommit1: cctx.Bool("precommit1"),
		AllowPreCommit2: cctx.Bool("precommit2"), AllowCommit: cctx.Bool("commit"), AllowUnseal: cctx.Bool("unseal")}
	return worker.DaemonConfig{
		Manager: mgr, Listen: cctx.String("listen"), Advertise: cctx.String("advertise"),
		Repo: cctx.String("worker-repo"), NoLocalStorage: cctx.Bool("no-local-storage"),
		Worker: worker.Config{Name: cctx.String("name"), TaskTypes: toggles.LocalTasks(), Resources: res,
			ParallelFetchLimit: cctx.Int("parallel-fetch-limit")},
	}, nil
}
