package main

import (
	"context"
	"io"
	"log/slog"
	"os"

	"github.com/urfave/cli/v2"

	"sealfleet/internal/progress"
)

// terminalBar starts a progress bar on stderr for a long command, or returns nil when stderr is not a terminal
// or --json was given (scripts get clean output). A nil *progress.Bar is not usable: callers check for nil.
func terminalBar(cctx *cli.Context, label string, total int64, unit progress.Unit) *progress.Bar {
	if cctx.Bool("json") || !progress.IsTerminal(os.Stderr) {
		return nil
	}
	return progress.New(os.Stderr, progress.Options{Label: label, Total: total, Unit: unit})
}

// progressReader counts what is read from r on bar; it returns r itself when bar is nil.
func progressReader(r io.Reader, bar *progress.Bar) io.Reader {
	if bar == nil {
		return r
	}
	return io.TeeReader(r, bar)
}

// followLog makes the default logger hand every record to onRecord (which moves bar from the packages' own
// log lines, e.g. seal/sdr's "layer labelled") and print only warnings and errors while bar is drawn, so the
// bar's line stays readable. The returned function restores the previous default logger and finishes bar. With
// a nil bar it changes nothing.
func followLog(bar *progress.Bar, onRecord func(msg string, attrs map[string]slog.Value)) (restore func()) {
	if bar == nil {
		return func() {}
	}
	prev := slog.Default()
	slog.SetDefault(slog.New(&stageHandler{next: prev.Handler(), on: onRecord}))
	return func() {
		slog.SetDefault(prev)
		bar.Finish()
	}
}

// stageHandler is a slog.Handler that reports every record to on and forwards warnings and errors to next.
type stageHandler struct {
	next  slog.Handler
	on    func(msg string, attrs map[string]slog.Value)
	attrs []slog.Attr
}

func (h *stageHandler) Enabled(context.Context, slog.Level) bool { return true }

func (h *stageHandler) Handle(ctx context.Context, r slog.Record) error {
	attrs := make(map[string]slog.Value, len(h.attrs)+r.NumAttrs())
	for _, a := range h.attrs {
		attrs[a.Key] = a.Value.Resolve()
	}
	r.Attrs(func(a slog.Attr) bool {
		attrs[a.Key] = a.Value.Resolve()
		return true
	})
	h.on(r.Message, attrs)
	if r.Level < slog.LevelWarn || !h.next.Enabled(ctx, r.Level) {
		return nil
	}
	return h.next.WithAttrs(h.attrs).Handle(ctx, r)
}

func (h *stageHandler) WithAttrs(as []slog.Attr) slog.Handler {
	return &stageHandler{next: h.next, on: h.on, attrs: append(append([]slog.Attr(nil), h.attrs...), as...)}
}

// WithGroup keeps records flat: the stage matchers look at top-level keys only.
func (h *stageHandler) WithGroup(string) slog.Handler { return h }

// layerStages moves bar to the number of SDR layers labelled, from seal/sdr's "layer labelled" log lines.
func layerStages(bar *progress.Bar) func(string, map[string]slog.Value) {
	return func(msg string, attrs map[string]slog.Value) {
		if v, ok := attrs["layer"]; ok && msg == "layer labelled" && v.Kind() == slog.KindInt64 {
			bar.Set(v.Int64())
		}
	}
}
