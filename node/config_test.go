package node

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/BurntSushi/toml"
)

// TestDefaultConfigText checks that the documented default config.toml decodes, every key known, to
// DefaultConfig, and that the defaults validate.
func TestDefaultConfigText(t *testing.T) {
	var got Config
	md, err := toml.Decode(DefaultConfigText(), &got)
	if err != nil {
		t.Fatal(err)
	}
	if und := md.Undecoded(); len(und) > 0 {
		t.Fatalf("keys not in Config: %v", und)
	}
	if !reflect.DeepEqual(got, DefaultConfig()) {
		t.Fatalf("default text decodes to\n%+v\nwant\n%+v", got, DefaultConfig())
	}
	if err := got.Validate(); err != nil {
		t.Fatal(err)
	}
}

func TestLoadConfig(t *testing.T) {
	for _, tc := range []struct {
		name    string
		file    string // "" writes no config.toml
		env     map[string]string
		check   func(Config) bool
		wantErr string // substring of the error; "" means success
	}{
		{name: "no file gives the defaults", check: func(c Config) bool { return reflect.DeepEqual(c, DefaultConfig()) }},
		{name: "file overrides", file: "[Sealing]\nSectorSize = \"8MiB\"\nWaitSeedDelay = \"1m30s\"\n",
			check: func(c Config) bool {
				return c.Sealing.SectorSize == "8MiB" && time.Duration(c.Sealing.WaitSeedDelay) == 90*time.Second &&
					c.API.ListenAddress == "127.0.0.1:2345"
			}},
		{name: "env wins over the file", file: "[API]\nListenAddress = \"127.0.0.1:1\"\n",
			env: map[string]string{EnvListen: "127.0.0.1:2", EnvNoLocalWorker: "true", EnvMaxSealing: "3"},
			check: func(c Config) bool {
				return c.API.ListenAddress == "127.0.0.1:2" && c.Sealer.NoLocalWorker && c.Sealing.MaxSealing == 3
			}},
		{name: "unknown key", file: "[Sealing]\nSectorSzie = \"8MiB\"\n", wantErr: "unknown keys Sealing.SectorSzie"},
		{name: "bad duration", file: "[Sealing]\nWaitSeedDelay = \"soon\"\n", wantErr: "Sealing.WaitSeedDelay"},
		{name: "bad env", env: map[string]string{EnvMaxSealing: "many"}, wantErr: EnvMaxSealing},
	} {
		t.Run(tc.name, func(t *testing.T) {
			repo := t.TempDir()
			if tc.file != "" {
				if err := os.WriteFile(filepath.Join(repo, ConfigFile), []byte(tc.file), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			for _, k := range []string{EnvListen, EnvSectorSize, EnvMaxSealing, EnvNoLocalWorker} {
				t.Setenv(k, tc.env[k])
			}
			cfg, err := LoadConfig(repo)
			if tc.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tc.wantErr) {
					t.Fatalf("error %v, want one containing %q", err, tc.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if !tc.check(cfg) {
				t.Fatalf("config %+v", cfg)
			}
		})
	}
}

func TestConfigValidate(t *testing.T) {
	for _, tc := range []struct {
		field  string
		mutate func(*Config)
	}{
		{"API.ListenAddress", func(c *Config) { c.API.ListenAddress = "2345" }},
		{"API.Advertise", func(c *Config) { c.API.Advertise = "10.0.0.1:2345" }},
		{"Sealing.SectorSize", func(c *Config) { c.Sealing.SectorSize = "3KiB" }},
		{"Sealing.Miner", func(c *Config) { c.Sealing.Miner = "x1" }},
		{"Sealing.MaxSealing", func(c *Config) { c.Sealing.MaxSealing = -1 }},
		{"Sealing.MaxRetryBackoff", func(c *Config) { c.Sealing.MaxRetryBackoff = 1 }},
		{"Scheduler.Assigner", func(c *Config) { c.Scheduler.Assigner = "fastest" }},
		{"Scheduler.StarvationAfter", func(c *Config) { c.Scheduler.StarvationAfter = -1 }},
		{"Sealer.ParallelFetchLimit", func(c *Config) { c.Sealer.ParallelFetchLimit = -1 }},
	} {
		t.Run(tc.field, func(t *testing.T) {
			cfg := DefaultConfig()
			tc.mutate(&cfg)
			err := cfg.Validate()
			if err == nil || !strings.Contains(err.Error(), "config "+tc.field) {
				t.Fatalf("Validate() = %v, want an error naming %s", err, tc.field)
			}
		})
	}
}

// TestNewRejectsBadConfigWithoutWriting checks that a bad configuration leaves no repo behind.
func TestNewRejectsBadConfigWithoutWriting(t *testing.T) {
	repo := filepath.Join(t.TempDir(), "repo")
	cfg := DefaultConfig()
	cfg.Sealing.SectorSize = "1MiB"
	if _, err := New(t.Context(), cfg, Options{Repo: repo, Logger: quiet}); err == nil {
		t.Fatal("New accepted a bad sector size")
	}
	if _, err := os.Stat(repo); !os.IsNotExist(err) {
		t.Fatalf("repo created despite the bad config: %v", err)
	}
}

// TestRepoLock checks that a second node on a repo in use is refused with an error saying so, and that the repo
// is free again once the first node is closed.
func TestRepoLock(t *testing.T) {
	repo := t.TempDir()
	cfg := testConfig("2KiB")
	first, err := New(t.Context(), cfg, Options{Repo: repo, Logger: quiet, ParentsCacheDir: t.TempDir()})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := New(t.Context(), cfg, Options{Repo: repo, Logger: quiet}); err == nil ||
		!strings.Contains(err.Error(), "in use by another sealfleet node") {
		first.Close()
		t.Fatalf("second node on the repo: %v, want an in-use error", err)
	}
	first.Close()
	again, err := New(t.Context(), cfg, Options{Repo: repo, Logger: quiet, ParentsCacheDir: t.TempDir()})
	if err != nil {
		t.Fatalf("reopening after Close: %v", err)
	}
	again.Close()
}
