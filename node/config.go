package node

import (
	"errors"
	"fmt"
	"net"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"time"

	"github.com/BurntSushi/toml"
	"github.com/filecoin-project/go-state-types/abi"

	"sealfleet/manager"
	"sealfleet/pipeline"
	"sealfleet/sched"
	"sealfleet/stores"
	"sealfleet/storiface"
)

// ConfigFile is the name of the node's configuration in the repo dir.
const ConfigFile = "config.toml"

// The environment variables that override config.toml (flags of `sealfleet run` override both).
const (
	EnvListen        = "SEALFLEET_LISTEN"          // API.ListenAddress
	EnvSectorSize    = "SEALFLEET_SECTOR_SIZE"     // Sealing.SectorSize
	EnvMaxSealing    = "SEALFLEET_MAX_SEALING"     // Sealing.MaxSealing
	EnvNoLocalWorker = "SEALFLEET_NO_LOCAL_WORKER" // Sealer.NoLocalWorker ("true"/"false")
)

// Duration is a time.Duration written in TOML as a Go duration string ("10s", "1m30s").
type Duration time.Duration

// UnmarshalText parses a Go duration string.
func (d *Duration) UnmarshalText(b []byte) error {
	v, err := time.ParseDuration(string(b))
	if err != nil {
		return fmt.Errorf("%q is not a duration: accepted are Go durations such as 10s, 1m30s, 2h", b)
	}
	*d = Duration(v)
	return nil
}

// MarshalText formats the duration as a Go duration string.
func (d Duration) MarshalText() ([]byte, error) { return []byte(time.Duration(d).String()), nil }

// APIConfig is where the node serves its HTTP surface.
type APIConfig struct {
	// ListenAddress is host:port for /rpc/v0, /remote, /pieces, /metrics and the dashboard.
	ListenAddress string
	// Advertise is the base URL workers and other nodes reach this node at (default http://<ListenAddress>;
	// required when ListenAddress has a wildcard host such as 0.0.0.0).
	Advertise string
}

// SealingConfig tunes the sector pipeline.
type SealingConfig struct {
	// Miner is the actor every sector belongs to ("t01000", "f01000" or "1000").
	Miner string
	// SectorSize of new sectors: 2KiB, 8MiB, 512MiB, 32GiB or 64GiB (V1_1 proofs).
	SectorSize string
	// MaxSealing is how many sectors may be sealing at once (0: no limit).
	MaxSealing int
	// MaxRetries is how many times a failed step is retried before the sector waits for an operator.
	MaxRetries int
	// RetryBackoff is the first wait before a retry; it doubles up to MaxRetryBackoff.
	RetryBackoff    Duration
	MaxRetryBackoff Duration
	// WaitSeedDelay is how long a sector waits after PreCommit2 before its seed is drawn.
	WaitSeedDelay Duration
	// WaitDealsDelay is how long an open deal sector waits for more pieces before it is packed.
	WaitDealsDelay Duration
}

// SealerConfig chooses what the embedded local worker does.
type SealerConfig struct {
	AllowAddPiece, AllowPreCommit1, AllowPreCommit2, AllowCommit, AllowUnseal bool
	// ParallelFetchLimit bounds the concurrent fetches of the local worker (0: the stores default).
	ParallelFetchLimit int
	// NoLocalWorker runs no embedded worker: every task goes to remote workers.
	NoLocalWorker bool
}

// SchedulerConfig tunes the scheduler.
type SchedulerConfig struct {
	// Assigner is "utilization" or "spread".
	Assigner string
	// StarvationAfter is how long a request waits before it reserves capacity on its best worker (0: never).
	StarvationAfter Duration
}

// StorageConfig says where the node keeps sector files.
type StorageConfig struct {
	// DefaultPath is created (seal + store) and attached at the first start when storage.json lists no path;
	// relative paths are under the repo. Empty means no default path.
	DefaultPath string
	// DefaultPathWeight ranks the default path for allocation.
	DefaultPathWeight uint64
}

// Config is the node's config.toml. DefaultConfig gives values that work on a laptop; Validate names the first
// wrong field and what it accepts.
type Config struct {
	API       APIConfig
	Sealing   SealingConfig
	Sealer    SealerConfig
	Scheduler SchedulerConfig
	Storage   StorageConfig
}

// DefaultConfig returns the configuration `sealfleet config default` prints.
func DefaultConfig() Config {
	pc := pipeline.DefaultConfig()
	sc := manager.DefaultSealerConfig()
	return Config{
		API: APIConfig{ListenAddress: "127.0.0.1:2345"},
		Sealing: SealingConfig{Miner: "t01000", SectorSize: "2KiB", MaxSealing: pc.MaxSealing,
			MaxRetries: pc.MaxRetries, RetryBackoff: Duration(pc.RetryBackoff),
			MaxRetryBackoff: Duration(pc.MaxRetryBackoff), WaitSeedDelay: Duration(pc.WaitSeedDelay),
			WaitDealsDelay: Duration(pc.WaitDealsDelay)},
		Sealer: SealerConfig{AllowAddPiece: sc.AllowAddPiece, AllowPreCommit1: sc.AllowPreCommit1,
			AllowPreCommit2: sc.AllowPreCommit2, AllowCommit: sc.AllowCommit, AllowUnseal: sc.AllowUnseal,
			ParallelFetchLimit: sc.ParallelFetchLimit},
		Scheduler: SchedulerConfig{Assigner: "utilization", StarvationAfter: Duration(30 * time.Minute)},
		Storage:   StorageConfig{DefaultPath: "storage", DefaultPathWeight: 10},
	}
}

// LoadConfig reads <repo>/config.toml over DefaultConfig (a missing file gives the defaults), then applies the
// environment overrides. Unknown keys are an error naming them.
func LoadConfig(repo string) (Config, error) {
	cfg := DefaultConfig()
	p := filepath.Join(repo, ConfigFile)
	md, err := toml.DecodeFile(p, &cfg)
	switch {
	case errors.Is(err, os.ErrNotExist):
	case err != nil:
		return Config{}, fmt.Errorf("reading %s: %w", p, err)
	default:
		if und := md.Undecoded(); len(und) > 0 {
			keys := make([]string, len(und))
			for i, k := range und {
				keys[i] = k.String()
			}
			return Config{}, fmt.Errorf("reading %s: unknown keys %s (see `sealfleet config default`)", p,
				strings.Join(keys, ", "))
		}
	}
	if err := cfg.applyEnv(os.LookupEnv); err != nil {
		return Config{}, err
	}
	return cfg, nil
}

// applyEnv applies the environment overrides that lookup finds.
func (c *Config) applyEnv(lookup func(string) (string, bool)) error {
	if v, ok := lookup(EnvListen); ok && v != "" {
		c.API.ListenAddress = v
	}
	if v, ok := lookup(EnvSectorSize); ok && v != "" {
		c.Sealing.SectorSize = v
	}
	if v, ok := lookup(EnvMaxSealing); ok && v != "" {
		n, err := strconv.Atoi(v)
		if err != nil {
			return fmt.Errorf("%s=%q: accepted is a whole number (0: no limit)", EnvMaxSealing, v)
		}
		c.Sealing.MaxSealing = n
	}
	if v, ok := lookup(EnvNoLocalWorker); ok && v != "" {
		b, err := strconv.ParseBool(v)
		if err != nil {
			return fmt.Errorf("%s=%q: accepted are true or false", EnvNoLocalWorker, v)
		}
		c.Sealer.NoLocalWorker = b
	}
	return nil
}

// Validate checks every field and names the first wrong one with what is accepted.
func (c Config) Validate() error {
	if _, _, err := net.SplitHostPort(c.API.ListenAddress); err != nil {
		return fmt.Errorf("config API.ListenAddress %q: accepted is host:port, e.g. 127.0.0.1:2345", c.API.ListenAddress)
	}
	if a := c.API.Advertise; a != "" && !strings.HasPrefix(a, "http://") && !strings.HasPrefix(a, "https://") {
		return fmt.Errorf("config API.Advertise %q: accepted is a base URL starting with http:// or https://", a)
	}
	if _, err := c.PipelineConfig(); err != nil {
		return err
	}
	switch c.Scheduler.Assigner {
	case "utilization", "spread":
	default:
		return fmt.Errorf("config Scheduler.Assigner %q: accepted are utilization, spread", c.Scheduler.Assigner)
	}
	if c.Scheduler.StarvationAfter < 0 {
		return fmt.Errorf("config Scheduler.StarvationAfter %s: accepted is 0 (never) or a positive duration",
			time.Duration(c.Scheduler.StarvationAfter))
	}
	if c.Sealer.ParallelFetchLimit < 0 {
		return fmt.Errorf("config Sealer.ParallelFetchLimit %d: accepted is 0 (default) or more", c.Sealer.ParallelFetchLimit)
	}
	return nil
}

// SealProof returns the V1_1 seal proof of Sealing.SectorSize.
func (c Config) SealProof() (abi.RegisteredSealProof, error) {
	size, err := storiface.ParseSectorSize(c.Sealing.SectorSize)
	if err != nil {
		return 0, fmt.Errorf("config Sealing.SectorSize: %w", err) // names the accepted sizes
	}
	proof, err := storiface.SealProofFor(size, storiface.ProofV1_1)
	if err != nil {
		return 0, fmt.Errorf("config Sealing.SectorSize %q: accepted are 2KiB, 8MiB, 512MiB, 32GiB, 64GiB: %w",
			c.Sealing.SectorSize, err)
	}
	return proof, nil
}

// PipelineConfig converts the Sealing section to a pipeline.Config, validated.
func (c Config) PipelineConfig() (pipeline.Config, error) {
	proof, err := c.SealProof()
	if err != nil {
		return pipeline.Config{}, err
	}
	miner, err := stores.ParseMinerID(c.Sealing.Miner)
	if err != nil {
		return pipeline.Config{}, fmt.Errorf("config Sealing.Miner %q: accepted are t01000, f01000 or 1000: %w",
			c.Sealing.Miner, err)
	}
	s := c.Sealing
	pc := pipeline.Config{Miner: miner, ProofType: proof, MaxSealing: s.MaxSealing,
		WaitDealsDelay: time.Duration(s.WaitDealsDelay), WaitSeedDelay: time.Duration(s.WaitSeedDelay),
		MaxRetries: s.MaxRetries, RetryBackoff: time.Duration(s.RetryBackoff),
		MaxRetryBackoff: time.Duration(s.MaxRetryBackoff)}
	if err := pc.Validate(); err != nil {
		// the pipeline names its own field ("config MaxSealing ..."); name it as it is in config.toml
		return pipeline.Config{}, errors.New(strings.Replace(err.Error(), "config ", "config Sealing.", 1))
	}
	return pc, nil
}

// ManagerSealerConfig converts the Sealer section.
func (c Config) ManagerSealerConfig() manager.SealerConfig {
	s := c.Sealer
	return manager.SealerConfig{ParallelFetchLimit: s.ParallelFetchLimit, AllowAddPiece: s.AllowAddPiece,
		AllowPreCommit1: s.AllowPreCommit1, AllowPreCommit2: s.AllowPreCommit2, AllowCommit: s.AllowCommit,
		AllowUnseal: s.AllowUnseal, NoLocalWorker: s.NoLocalWorker}
}

// SchedConfig converts the Scheduler section.
func (c Config) SchedConfig() sched.Config {
	starve := time.Duration(c.Scheduler.StarvationAfter)
	if starve == 0 {
		starve = -1 // the scheduler reads 0 as its default and a negative value as "never"
	}
	return sched.Config{Assigner: c.Scheduler.Assigner, StarvationAfter: starve}
}
