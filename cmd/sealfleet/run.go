package main

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"

	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/internal/progress"
	"sealfleet/node"
)

var runCmd = &cli.Command{
	Name: "run",
	Usage: "run the all-in-one manager: API, scheduler, sector pipeline, local worker, dashboard, metrics " +
		"(config in <repo>/config.toml; see `sealfleet config default`)",
	Flags: []cli.Flag{
		managerRepoFlag,
		&cli.StringFlag{Name: "listen", Usage: "host:port to serve on (default 127.0.0.1:2345; config API.ListenAddress)"},
		&cli.StringFlag{Name: "sector-size", Usage: "size of new sectors: 2KiB, 8MiB, 512MiB, 32GiB or 64GiB " +
			"(default 2KiB; config Sealing.SectorSize)"},
		&cli.IntFlag{Name: "pledge", Usage: "pledge N committed-capacity sectors at start and show their progress " +
			"until they are Proving, then keep serving"},
		&cli.BoolFlag{Name: "no-local-worker", Usage: "run no embedded worker: every task goes to remote " +
			"workers (sealfleet worker run --manager URL)"},
	},
	Action: func(cctx *cli.Context) error {
		repo := managerRepo(cctx)
		cfg, err := runConfig(cctx, repo)
		if err != nil {
			return err
		}
		if n := cctx.Int("pledge"); n < 0 {
			return fmt.Errorf("--pledge %d: accepted is 0 or more sectors", n)
		}
		ctx, stop := signal.NotifyContext(cctx.Context, os.Interrupt, syscall.SIGTERM)
		defer stop()
		// While --pledge draws a progress bar on a terminal, only warnings are logged so the bar stays readable.
		level := new(slog.LevelVar)
		quietBar := cctx.Int("pledge") > 0 && progress.IsTerminal(cctx.App.ErrWriter)
		logger := slog.Default()
		if quietBar {
			level.Set(slog.LevelWarn)
			logger = slog.New(slog.NewTextHandler(cctx.App.ErrWriter, &slog.HandlerOptions{Level: level}))
			slog.SetDefault(logger) // packages that log through the default logger (seal/sdr) too
		}
		n, err := node.New(ctx, cfg, node.Options{Repo: repo, Prover: proverFromEnv(), Logger: logger})
		if err != nil {
			return err
		}
		defer n.Close()
		printRunBanner(cctx, n, repo)
		runErr := make(chan error, 1)
		go func() { runErr <- n.Run(ctx) }()
		if count := cctx.Int("pledge"); count > 0 {
			err := pledgeAndWatch(ctx, cctx, n, count)
			level.Set(slog.LevelInfo)
			if err != nil && !errors.Is(err, context.Canceled) {
				stop()
				<-runErr
				return err
			}
		}
		err = <-runErr
		slog.Info("node stopped")
		return err
	},
}

// runConfig reads <repo>/config.toml with its environment overrides, then applies the flags that were given.
func runConfig(cctx *cli.Context, repo string) (node.Config, error) {
	cfg, err := node.LoadConfig(repo)
	if err != nil {
		return node.Config{}, err
	}
	if cctx.IsSet("listen") {
		cfg.API.ListenAddress = cctx.String("listen")
	}
	if cctx.IsSet("sector-size") {
		cfg.Sealing.SectorSize = cctx.String("sector-size")
	}
	if cctx.IsSet("no-local-worker") {
		cfg.Sealer.NoLocalWorker = cctx.Bool("no-local-worker")
	}
	if err := cfg.Validate(); err != nil {
		return node.Config{}, err
	}
	return cfg, nil
}

// printRunBanner tells the operator where the node serves and how to sign in.
func printRunBanner(cctx *cli.Context, n *node.Node, repo string) {
	w := cctx.App.Writer
	fmt.Fprintf(w, "sealfleet node running (repo %s)\n", repo)
	fmt.Fprintf(w, "  API:        %s%s (JSON-RPC, namespace %s)\n", n.URL(), api.RPCPath, api.Namespace)
	fmt.Fprintf(w, "  dashboard:  %s/\n", n.URL())
	fmt.Fprintf(w, "  metrics:    %s/metrics\n", n.URL())
	fmt.Fprintf(w, "  tokens:     an admin token is in %s/%s; sign in to the dashboard with the output of\n",
		repo, api.TokenFile)
	fmt.Fprintf(w, "              sealfleet auth create-token --perm read   (add --repo %s if not the default)\n", repo)
	fmt.Fprintf(w, "  workers:    %s=$(sealfleet auth api-info --perm admin) sealfleet worker run --manager %s\n",
		api.EnvAPIInfo, n.URL())
}

// pledgeAndWatch pledges count sectors and reports their progress until they are Proving.
func pledgeAndWatch(ctx context.Context, cctx *cli.Context, n *node.Node, count int) error {
	nums, err := n.PledgeSectors(ctx, count)
	if err != nil {
		return err
	}
	fmt.Fprintf(cctx.App.ErrWriter, "pledged sectors %v\n", nums)
	return node.WatchProving(ctx, n.Pipeline(), nums, cctx.App.ErrWriter, 0)
}
