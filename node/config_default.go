package node

import (
	"bytes"
	"fmt"
	"text/template"
	"time"
)

// defaultConfigTemplate is config.toml with a comment on every key; DefaultConfigText fills in the defaults.
const defaultConfigTemplate = `# sealfleet node configuration (<repo>/config.toml).
# Every key is optional: a missing key keeps the default shown here. Environment variables and the flags of
# ` + "`sealfleet run`" + ` override this file (flags win).

[API]
  # host:port serving /rpc/v0 (JSON-RPC), /remote (sector files), /pieces, /metrics and the dashboard at /.
  # Env: SEALFLEET_LISTEN; flag: --listen.
  ListenAddress = {{q .API.ListenAddress}}
  # Base URL workers and other nodes reach this node at. Empty: http://<ListenAddress>. Required when
  # ListenAddress has a wildcard host (0.0.0.0, [::]).
  Advertise = {{q .API.Advertise}}

[Sealing]
  # Actor ID every sector belongs to: t01000, f01000 or 1000.
  Miner = {{q .Sealing.Miner}}
  # Size of new sectors (V1_1 proofs): 2KiB, 8MiB, 512MiB, 32GiB or 64GiB. Env: SEALFLEET_SECTOR_SIZE;
  # flag: --sector-size.
  SectorSize = {{q .Sealing.SectorSize}}
  # Sectors sealing at once (Packing through MoveStorage); others wait in Packing. 0: no limit.
  # Env: SEALFLEET_MAX_SEALING.
  MaxSealing = {{.Sealing.MaxSealing}}
  # Automatic retries of a failed step before the sector waits for an operator (sectors update-state).
  MaxRetries = {{.Sealing.MaxRetries}}
  # Wait before the first retry; each further retry doubles it, up to MaxRetryBackoff (Go durations).
  RetryBackoff = {{d .Sealing.RetryBackoff}}
  MaxRetryBackoff = {{d .Sealing.MaxRetryBackoff}}
  # Wait after PreCommit2 before the interactive seed is drawn (there is no chain: it stands in for the
  # seed lookback).
  WaitSeedDelay = {{d .Sealing.WaitSeedDelay}}
  # How long an open deal sector waits for more pieces before it is packed.
  WaitDealsDelay = {{d .Sealing.WaitDealsDelay}}

[Sealer]
  # Task types the embedded local worker accepts besides Commit1, Finalize and Fetch (always local).
  AllowAddPiece = {{.Sealer.AllowAddPiece}}
  AllowPreCommit1 = {{.Sealer.AllowPreCommit1}}
  AllowPreCommit2 = {{.Sealer.AllowPreCommit2}}
  AllowCommit = {{.Sealer.AllowCommit}}
  AllowUnseal = {{.Sealer.AllowUnseal}}
  # Concurrent fetches of the local worker.
  ParallelFetchLimit = {{.Sealer.ParallelFetchLimit}}
  # Run no embedded worker at all: every task goes to remote workers (sealfleet worker run), and one of them
  # needs a storage path that can store finalized sectors. Env: SEALFLEET_NO_LOCAL_WORKER; flag: --no-local-worker.
  NoLocalWorker = {{.Sealer.NoLocalWorker}}

[Scheduler]
  # How a worker is chosen among those that fit: "utilization" (least loaded first) or "spread".
  Assigner = {{q .Scheduler.Assigner}}
  # A request waiting this long reserves capacity on its best worker so that bigger tasks are not starved.
  # "0s": never.
  StarvationAfter = {{d .Scheduler.StarvationAfter}}

[Storage]
  # Created (sealing + long-term storage) and attached at the first start when storage.json lists no path.
  # Relative paths are under the repo; "" creates none (attach paths with ` + "`sealfleet storage attach`" + `).
  DefaultPath = {{q .Storage.DefaultPath}}
  # Allocation weight of the default path.
  DefaultPathWeight = {{.Storage.DefaultPathWeight}}
`

var defaultConfigTmpl = template.Must(template.New("config").Funcs(template.FuncMap{
	"q": func(s string) string { return fmt.Sprintf("%q", s) },
	"d": func(d Duration) string { return fmt.Sprintf("%q", time.Duration(d).String()) },
}).Parse(defaultConfigTemplate))

// ConfigText renders cfg as a commented config.toml.
func ConfigText(cfg Config) (string, error) {
	var b bytes.Buffer
	if err := defaultConfigTmpl.Execute(&b, cfg); err != nil {
		return "", fmt.Errorf("rendering config: %w", err)
	}
	return b.String(), nil
}

// DefaultConfigText returns the documented default config.toml.
func DefaultConfigText() string {
	s, err := ConfigText(DefaultConfig())
	if err != nil {
		panic(err) // the template and DefaultConfig are fixed: a failure is a bug caught by the tests
	}
	return s
}
