package main

import (
	"context"
	"fmt"

	"github.com/urfave/cli/v2"

	"sealfleet/api"
)

// managerRepoFlag names the manager's repo dir for the auth, sealing and worker commands.
var managerRepoFlag = &cli.StringFlag{Name: "repo", Usage: "manager repo dir (JWT secret, API endpoint, token); " +
	api.EnvAPIInfo + "=token:url overrides it", EnvVars: []string{api.EnvRepo}}

func managerRepo(cctx *cli.Context) string {
	if r := cctx.String("repo"); r != "" {
		return r
	}
	return api.DefaultRepo()
}

// dialManager connects to the manager named by --repo or $SEALFLEET_API_INFO.
func dialManager(cctx *cli.Context) (api.Manager, api.ClientCloser, error) {
	info, err := api.ReadInfo(managerRepo(cctx))
	if err != nil {
		return nil, nil, err
	}
	return api.NewManagerClient(cctx.Context, info, api.ClientOptions{Scheme: "http"})
}

// authCmd groups the token commands.
var authCmd = &cli.Command{
	Name:        "auth",
	Usage:       "API tokens (JWT, HS256) for the manager and workers",
	Flags:       []cli.Flag{managerRepoFlag},
	Subcommands: []*cli.Command{authCreateTokenCmd, authAPIInfoCmd},
}

var permFlag = &cli.StringFlag{Name: "perm", Usage: "permission level: read, write or admin (each includes the weaker ones)",
	Required: true}

var authCreateTokenCmd = &cli.Command{
	Name:  "create-token",
	Usage: "print a new token with the given permission",
	Flags: []cli.Flag{permFlag},
	Action: func(cctx *cli.Context) error {
		tok, err := newToken(cctx.Context, cctx, cctx.String("perm"))
		if err != nil {
			return err
		}
		fmt.Println(tok)
		return nil
	},
}

var authAPIInfoCmd = &cli.Command{
	Name:  "api-info",
	Usage: "print " + api.EnvAPIInfo + "=<token>:<url> for the manager, with a new token of the given permission",
	Flags: []cli.Flag{permFlag},
	Action: func(cctx *cli.Context) error {
		info, err := api.ReadInfo(managerRepo(cctx))
		if err != nil {
			return err
		}
		tok, err := newToken(cctx.Context, cctx, cctx.String("perm"))
		if err != nil {
			return err
		}
		fmt.Printf("%s=%s\n", api.EnvAPIInfo, api.Info{Token: tok, URL: info.URL})
		return nil
	},
}

// newToken signs a token with the repo's secret when it is readable, and asks the manager otherwise.
func newToken(ctx context.Context, cctx *cli.Context, level string) (string, error) {
	perms, err := api.PermsUpTo(level)
	if err != nil {
		return "", fmt.Errorf("--perm: %w", err)
	}
	if secret, err := api.ReadSecret(managerRepo(cctx)); err == nil {
		return api.NewToken(secret, perms)
	}
	m, closer, err := dialManager(cctx)
	if err != nil {
		return "", fmt.Errorf("no readable JWT secret in the repo, and the manager cannot be reached: %w", err)
	}
	defer closer()
	return m.AuthNew(ctx, perms)
}
