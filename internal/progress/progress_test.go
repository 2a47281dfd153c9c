package progress

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
	"time"
)

// fakeClock is a manual clock for the bar.
type fakeClock struct{ t time.Time }

func (c *fakeClock) now() time.Time          { return c.t }
func (c *fakeClock) advance(d time.Duration) { c.t = c.t.Add(d) }

func newClock() *fakeClock { return &fakeClock{t: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)} }

func TestTerminalBar(t *testing.T) {
	clk := newClock()
	var buf bytes.Buffer
	b := New(&buf, Options{Label: "fetch", Total: 100 << 20, Unit: Bytes, Mode: Terminal, Width: 10, Now: clk.now})
	clk.advance(time.Second)
	b.Add(25 << 20)
	// 25 MiB after 1 s: 25 MiB/s, 75 MiB left: ETA 3 s
	want := "\r\x1b[2Kfetch [██░░░░░░░░]  25%  25.0 MiB / 100.0 MiB  25.0 MiB/s  ETA 3s"
	if got := buf.String(); got != want {
		t.Fatalf("got  %q\nwant %q", got, want)
	}
	buf.Reset()
	b.Add(1 << 20) // within Interval: no redraw
	if buf.Len() != 0 {
		t.Fatalf("redrew within the interval: %q", buf.String())
	}
	clk.advance(time.Second)
	b.Set(100 << 20)
	b.Finish()
	b.Finish() // idempotent
	out := buf.String()
	if !strings.HasSuffix(out, "[██████████] 100%  100.0 MiB / 100.0 MiB  50.0 MiB/s\n") || strings.Count(out, "\n") != 1 {
		t.Fatalf("final frame %q", out)
	}
}

func TestPlainLines(t *testing.T) {
	for _, tc := range []struct {
		name  string
		opts  Options
		steps []int64 // values to Set, one second apart
		want  []string
	}{
		{
			name: "known total prints each tenth once", opts: Options{Label: "pc1", Total: 1000},
			steps: []int64{50, 120, 130, 550, 1000},
			want: []string{
				"pc1  12% (120 / 1,000), 60.0/s",
				"pc1  55% (550 / 1,000), 137.5/s",
				"pc1 done: 1,000 in 5s (200.0/s)",
			},
		},
		{
			name: "unknown total prints every LineEvery", opts: Options{Unit: Bytes, LineEvery: 2 * time.Second},
			steps: []int64{1 << 10, 2 << 10, 3 << 10, 4 << 10},
			want:  []string{"2.0 KiB, 1.0 KiB/s", "4.0 KiB, 1.0 KiB/s", "done: 4.0 KiB in 4s (1.0 KiB/s)"},
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			clk := newClock()
			var buf bytes.Buffer
			tc.opts.Now, tc.opts.Mode = clk.now, Plain
			b := New(&buf, tc.opts)
			for _, v := range tc.steps {
				clk.advance(time.Second)
				b.Set(v)
			}
			b.Finish()
			got := strings.Split(strings.TrimSuffix(buf.String(), "\n"), "\n")
			if strings.Join(got, "|") != strings.Join(tc.want, "|") {
				t.Fatalf("got\n%s\nwant\n%s", strings.Join(got, "\n"), strings.Join(tc.want, "\n"))
			}
		})
	}
}

func TestWriterCounts(t *testing.T) {
	clk := newClock()
	var buf bytes.Buffer
	b := New(&buf, Options{Mode: Plain, Unit: Bytes, Now: clk.now})
	n, err := io.Copy(io.MultiWriter(io.Discard, b), strings.NewReader(strings.Repeat("x", 3000)))
	if err != nil || n != 3000 {
		t.Fatal(n, err)
	}
	clk.advance(3 * time.Second)
	b.Finish()
	if got := buf.String(); got != "done: 2.9 KiB in 3s (1000 B/s)\n" {
		t.Fatalf("got %q", got)
	}
}

func TestIsTerminal(t *testing.T) {
	f, err := os.CreateTemp(t.TempDir(), "out")
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tc := range []struct {
		name string
		w    io.Writer
	}{{"buffer", &bytes.Buffer{}}, {"regular file", f}} {
		t.Run(tc.name, func(t *testing.T) {
			if IsTerminal(tc.w) {
				t.Fatal("reported as a terminal")
			}
			// Auto on a non-terminal prints plain lines, never carriage returns
			var buf bytes.Buffer
			b := New(&buf, Options{Total: 10})
			b.Set(10)
			b.Finish()
			if strings.Contains(buf.String(), "\r") {
				t.Fatalf("auto mode drew a bar on a non-terminal: %q", buf.String())
			}
		})
	}
}

func TestFormatters(t *testing.T) {
	for _, tc := range []struct{ got, want string }{
		{Size(0), "0 B"}, {Size(1023), "1023 B"}, {Size(1536), "1.5 KiB"}, {Size(32 << 30), "32.0 GiB"},
		{Size(3 << 60), "3.0 EiB"}, {Number(0), "0"}, {Number(999), "999"}, {Number(1234567), "1,234,567"},
		{Number(-1000), "-1,000"}, {Duration(45 * time.Second), "45s"}, {Duration(187 * time.Second), "3m07s"},
		{Duration(125 * time.Minute), "2h05m"},
	} {
		if tc.got != tc.want {
			t.Errorf("got %q, want %q", tc.got, tc.want)
		}
	}
}
