package sdr

import (
	"log/slog"
	"os"
	"testing"
)

func TestMain(m *testing.M) {
	// Keep test output readable: only warnings and errors from the package's logging.
	slog.SetDefault(slog.New(slog.NewTextHandler(os.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn})))
	os.Exit(m.Run())
}
