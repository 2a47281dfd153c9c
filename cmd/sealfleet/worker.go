package main

import (
	"fmt"
	"os"
	"path/filepath"
	"sort"
	"strings"

	"github.com/urfave/cli/v2"

	"sealfleet/api"
	"sealfleet/storiface"
)

// workerRepoFlag names a worker's repo dir (storage.json, worker.db, and the endpoint/token files its commands read).
var workerRepoFlag = &cli.StringFlag{Name: "worker-repo", Usage: "worker repo dir; " + api.EnvWorkerAPIInfo +
	"=token:url overrides it for the commands that talk to a running worker",
	EnvVars: []string{"SEALFLEET_WORKER_REPO"}, Value: defaultWorkerRepo()}

func defaultWorkerRepo() string {
	home, err := os.UserHomeDir()
	if err != nil {
		return ".sealfleet-worker"
	}
	return filepath.Join(home, ".sealfleet-worker")
}

// dialWorker connects to the worker named by --worker-repo or $SEALFLEET_WORKER_API_INFO.
func dialWorker(cctx *cli.Context) (api.Worker, api.ClientCloser, error) {
	info, err := api.ReadWorkerInfo(cctx.String("worker-repo"))
	if err != nil {
		return nil, nil, err
	}
	return api.NewWorkerClient(cctx.Context, info, api.ClientOptions{Scheme: "http"})
}

var workerInfoCmd = &cli.Command{
	Name:  "info",
	Usage: "print the worker's description, session, enabled state, tasks, paths and jobs",
	Flags: []cli.Flag{workerRepoFlag, sealingJSONFlag},
	Action: func(cctx *cli.Context) error {
		w, closer, err := dialWorker(cctx)
		if err != nil {
			return err
		}
		defer closer()
		ctx := cctx.Context
		info, err := w.Info(ctx)
		if err != nil {
			return err
		}
		ses, err := w.Session(ctx)
		if err != nil {
			return err
		}
		enabled, err := w.Enabled(ctx)
		if err != nil {
			return err
		}
		tasks, err := w.TaskTypes(ctx)
		if err != nil {
			return err
		}
		paths, err := w.Paths(ctx)
		if err != nil {
			return err
		}
		jobs, err := w.Jobs(ctx)
		if err != nil {
			return err
		}
		names := make([]string, 0, len(tasks))
		for tt := range tasks {
			names = append(names, tt.Short())
		}
		sort.Strings(names)
		if cctx.Bool("json") {
			return printJSON(os.Stdout, map[string]any{"Info": info, "Session": ses, "Enabled": enabled,
				"Tasks": names, "Paths": paths, "Jobs": jobs})
		}
		fmt.Printf("Worker %s (%s), session %s, enabled: %v\n", info.Name, info.Hostname, ses, enabled)
		fmt.Printf("CPUs: %d, RAM: %s (swap %s), GPUs: %s\n", info.Resources.CPUs, renderGiB(info.Resources.MemPhysical),
			renderGiB(info.Resources.MemSwap), strings.Join(info.Resources.GPUs, ", "))
		fmt.Printf("Tasks: %s\n", strings.Join(names, " "))
		for _, p := range paths {
			fmt.Printf("Path %s: %s (seal %v, store %v, weight %d)\n", p.ID, p.LocalPath, p.CanSeal, p.CanStore, p.Weight)
		}
		for _, j := range jobs {
			fmt.Printf("Job %s: sector %d %s %s\n", j.ID, j.Sector.Number, j.Task.Short(), runWaitName(j.RunWait))
		}
		return nil
	},
}

var workerTasksCmd = &cli.Command{
	Name:  "tasks",
	Usage: "enable or disable task types on a running worker",
	Subcommands: []*cli.Command{
		workerTaskToggle("enable", "accept these task types"),
		workerTaskToggle("disable", "stop accepting these task types (running calls finish)"),
	},
}

func workerTaskToggle(name, usage string) *cli.Command {
	return &cli.Command{
		Name:      name,
		Usage:     usage,
		ArgsUsage: "<task type>... (short names: AP PC1 PC2 C1 C2 FIN GET UNS … or full names)",
		Flags:     []cli.Flag{workerRepoFlag},
		Action: func(cctx *cli.Context) error {
			if cctx.NArg() == 0 {
				return fmt.Errorf("tasks %s: name at least one task type", name)
			}
			var tts []storiface.TaskType
			for _, a := range cctx.Args().Slice() {
				tt, err := storiface.ParseTaskType(a)
				if err != nil {
					return err
				}
				tts = append(tts, tt)
			}
			w, closer, err := dialWorker(cctx)
			if err != nil {
				return err
			}
			defer closer()
			for _, tt := range tts {
				if name == "enable" {
					err = w.TaskEnable(cctx.Context, tt)
				} else {
					err = w.TaskDisable(cctx.Context, tt)
				}
				if err != nil {
					return fmt.Errorf("%s %s: %w", name, tt.Short(), err)
				}
			}
			return nil
		},
	}
}

var workerSetCmd = &cli.Command{
	Name:  "set",
	Usage: "change a running worker's settings",
	Flags: []cli.Flag{workerRepoFlag, &cli.BoolFlag{Name: "enabled", Usage: "take new work (false: finish running calls, take no more)",
		Required: true}},
	Action: func(cctx *cli.Context) error {
		w, closer, err := dialWorker(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return w.SetEnabled(cctx.Context, cctx.Bool("enabled"))
	},
}

var workerWaitQuietCmd = &cli.Command{
	Name:  "wait-quiet",
	Usage: "wait until the worker runs no calls and holds no unreturned results",
	Flags: []cli.Flag{workerRepoFlag},
	Action: func(cctx *cli.Context) error {
		info, err := api.ReadWorkerInfo(cctx.String("worker-repo"))
		if err != nil {
			return err
		}
		// A WebSocket connection: the wait may outlast an HTTP request timeout.
		w, closer, err := api.NewWorkerClient(cctx.Context, info, api.ClientOptions{Timeout: 1 << 62})
		if err != nil {
			return err
		}
		defer closer()
		return w.WaitQuiet(cctx.Context)
	},
}

var workerStopCmd = &cli.Command{
	Name:  "stop",
	Usage: "stop the worker process (running calls are reported as lost to a restart when it comes back)",
	Flags: []cli.Flag{workerRepoFlag},
	Action: func(cctx *cli.Context) error {
		w, closer, err := dialWorker(cctx)
		if err != nil {
			return err
		}
		defer closer()
		return w.Shutdown(cctx.Context)
	},
}
