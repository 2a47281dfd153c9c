package main

import (
	"bytes"
	"io"
	"log/slog"
	"strings"
	"testing"
	"time"

	"sealfleet/internal/progress"
)

// TestFollowLog checks that a bar follows seal/sdr's "layer labelled" lines through the default logger, that
// only warnings reach the previous handler while the bar is drawn, and that restore puts the logger back.
func TestFollowLog(t *testing.T) {
	var logs, out bytes.Buffer
	prev := slog.Default()
	defer slog.SetDefault(prev)
	base := slog.New(slog.NewTextHandler(&logs, nil))
	slog.SetDefault(base)
	clock := time.Unix(0, 0)
	bar := progress.New(&out, progress.Options{Label: "pc1 layers", Total: 3, Mode: progress.Terminal,
		Now: func() time.Time { clock = clock.Add(time.Second); return clock }})
	restore := followLog(bar, layerStages(bar))
	for _, tc := range []struct {
		name     string
		log      func()
		wantBar  string // substring of the bar's output after the record
		wantLogs string // substring the previous handler printed ("" : nothing new)
	}{
		{"layer 1 with logger attrs", func() { slog.Default().With("component", "sdr").Info("layer labelled", "layer", 1) }, "1 / 3", ""},
		{"other info lines are swallowed", func() { slog.Info("resuming labeling", "kept_layers", 1) }, "1 / 3", ""},
		{"layer 2", func() { slog.Info("layer labelled", "layer", 2) }, "2 / 3", ""},
		{"warnings still print", func() { slog.Default().With("component", "sdr").Warn("disk slow") }, "2 / 3", "msg=\"disk slow\" component=sdr"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			before := logs.Len()
			tc.log()
			if !strings.Contains(out.String(), tc.wantBar) {
				t.Fatalf("bar output %q lacks %q", out.String(), tc.wantBar)
			}
			got := logs.String()[before:]
			if tc.wantLogs == "" && got != "" || !strings.Contains(got, tc.wantLogs) {
				t.Fatalf("previous handler printed %q, want %q", got, tc.wantLogs)
			}
		})
	}
	restore()
	if slog.Default() != base {
		t.Fatal("restore did not put the previous default logger back")
	}
	if !strings.HasSuffix(out.String(), "\n") {
		t.Fatalf("bar not finished: %q", out.String())
	}
	if r := followLog(nil, nil); r == nil {
		t.Fatal("followLog(nil) returned nil")
	} else if r(); slog.Default() != base {
		t.Fatal("followLog(nil) changed the default logger")
	}
}

// TestProgressReader checks that the reader counts every byte on the bar and passes the data through unchanged.
func TestProgressReader(t *testing.T) {
	for _, tc := range []struct {
		name string
		size int
	}{{"empty", 0}, {"one byte", 1}, {"3 MiB", 3 << 20}} {
		t.Run(tc.name, func(t *testing.T) {
			data := bytes.Repeat([]byte{0xa5}, tc.size)
			var out bytes.Buffer
			bar := progress.New(&out, progress.Options{Total: int64(tc.size), Unit: progress.Bytes, Mode: progress.Plain})
			got, err := io.ReadAll(progressReader(bytes.NewReader(data), bar))
			if err != nil || !bytes.Equal(got, data) {
				t.Fatalf("read %d bytes (%v), want %d", len(got), err, tc.size)
			}
			bar.Finish()
			if want := "done: " + progress.Size(int64(tc.size)); tc.size > 0 && !strings.Contains(out.String(), want) {
				t.Fatalf("bar output %q lacks %q", out.String(), want)
			}
		})
	}
	r := bytes.NewReader(nil)
	if progressReader(r, nil) != io.Reader(r) {
		t.Fatal("progressReader with a nil bar wraps the reader")
	}
}
