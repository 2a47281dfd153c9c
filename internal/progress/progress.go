// Package progress draws a progress bar for long CLI commands. On a terminal it redraws one line in place
// (bar, percentage, amount, rate, ETA) at most every Interval; when the output is a file or a pipe it prints a
// plain line at each tenth of the way (or every LineEvery when the total is unknown) so logs stay readable.
package progress

import (
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"
)

// Unit says how amounts are printed.
type Unit int

// The units.
const (
	Count Unit = iota // plain numbers: "1,234 / 5,000"
	Bytes             // binary sizes: "1.2 GiB / 2.0 GiB", rates per second
)

// Mode chooses between the in-place bar and plain lines.
type Mode int

// The modes.
const (
	Auto     Mode = iota // a bar if the writer is a terminal, plain lines otherwise
	Terminal             // always the in-place bar
	Plain                // always plain lines
)

// Options configure a Bar. The zero value is a count bar with an unknown total.
type Options struct {
	Label     string
	Total     int64 // 0 or less: unknown
	Unit      Unit
	Mode      Mode
	Width     int              // cells in the bar; 0 means 28
	Interval  time.Duration    // least time between terminal redraws; 0 means 100 ms
	LineEvery time.Duration    // plain mode with an unknown total: a line this often; 0 means 10 s
	Now       func() time.Time // the clock; nil means time.Now
}

// Bar is a progress bar. It is safe for concurrent use. Bar is also an io.Writer that counts what is written
// through it, so it can sit in an io.MultiWriter or io.TeeReader.
type Bar struct {
	mu       sync.Mutex
	w        io.Writer
	o        Options
	tty      bool
	start    time.Time
	lastDraw time.Time
	lastLine time.Time
	lastStep int64 // last tenth printed in plain mode
	cur      int64
	done     bool
}

// IsTerminal reports whether w is a terminal (an *os.File on a character device).
func IsTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	fi, err := f.Stat()
	return err == nil && fi.Mode()&os.ModeCharDevice != 0
}

// New starts a bar writing to w.
func New(w io.Writer, o Options) *Bar {
	if o.Width <= 0 {
		o.Width = 28
	}
	if o.Interval <= 0 {
		o.Interval = 100 * time.Millisecond
	}
	if o.LineEvery <= 0 {
		o.LineEvery = 10 * time.Second
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	tty := o.Mode == Terminal || (o.Mode == Auto && IsTerminal(w))
	now := o.Now()
	return &Bar{w: w, o: o, tty: tty, start: now, lastLine: now}
}

// Add advances the bar by n.
func (b *Bar) Add(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur += n
	b.update(false)
}

// Set moves the bar to n.
func (b *Bar) Set(n int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.cur = n
	b.update(false)
}

// SetTotal changes the total (when it becomes known late).
func (b *Bar) SetTotal(total int64) {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.o.Total = total
}

// Write counts len(p) and never fails.
func (b *Bar) Write(p []byte) (int, error) {
	b.Add(int64(len(p)))
	return len(p), nil
}

// Finish draws the final state and ends the line. Later calls do nothing.
func (b *Bar) Finish() {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.done {
		return
	}
	b.update(true)
	b.done = true
}

func (b *Bar) update(final bool) {
	if b.done {
		return
	}
	now := b.o.Now()
	if b.tty {
		if !final && now.Sub(b.lastDraw) < b.o.Interval && !b.lastDraw.IsZero() {
			return
		}
		b.lastDraw = now
		end := ""
		if final {
			end = "\n"
		}
		fmt.Fprintf(b.w, "\r\x1b[2K%s%s", b.barLine(now), end)
		return
	}
	switch {
	case final:
		fmt.Fprintln(b.w, b.doneLine(now))
	case b.o.Total > 0:
		step := min(b.cur*10/b.o.Total, 10)
		if step > b.lastStep && step < 10 {
			b.lastStep = step
			fmt.Fprintln(b.w, b.plainLine(now))
		}
	case now.Sub(b.lastLine) >= b.o.LineEvery:
		b.lastLine = now
		fmt.Fprintln(b.w, b.plainLine(now))
	}
}

func (b *Bar) prefix() string {
	if b.o.Label == "" {
		return ""
	}
	return b.o.Label + " "
}

// rate is the average speed since the start, per second.
func (b *Bar) rate(now time.Time) float64 {
	el := now.Sub(b.start).Seconds()
	if el <= 0 {
		return 0
	}
	return float64(b.cur) / el
}

func (b *Bar) barLine(now time.Time) string {
	var sb strings.Builder
	sb.WriteString(b.prefix())
	r := b.rate(now)
	if b.o.Total > 0 {
		frac := min(1, max(0, float64(b.cur)/float64(b.o.Total)))
		full := int(frac * float64(b.o.Width))
		sb.WriteString("[" + strings.Repeat("█", full) + strings.Repeat("░", b.o.Width-full) + "]")
		fmt.Fprintf(&sb, " %3.0f%%  %s / %s", frac*100, b.amount(b.cur), b.amount(b.o.Total))
	} else {
		sb.WriteString(b.amount(b.cur))
	}
	if r > 0 {
		fmt.Fprintf(&sb, "  %s", b.speed(r))
		if b.o.Total > b.cur {
			fmt.Fprintf(&sb, "  ETA %s", Duration(time.Duration(float64(b.o.Total-b.cur)/r*float64(time.Second))))
		}
	}
	return sb.String()
}

func (b *Bar) plainLine(now time.Time) string {
	s := b.prefix() + b.amount(b.cur)
	if b.o.Total > 0 {
		s = fmt.Sprintf("%s%3.0f%% (%s / %s)", b.prefix(), float64(b.cur)*100/float64(b.o.Total), b.amount(b.cur), b.amount(b.o.Total))
	}
	if r := b.rate(now); r > 0 {
		s += ", " + b.speed(r)
	}
	return s
}

func (b *Bar) doneLine(now time.Time) string {
	s := fmt.Sprintf("%sdone: %s in %s", b.prefix(), b.amount(b.cur), Duration(now.Sub(b.start)))
	if r := b.rate(now); r > 0 {
		s += " (" + b.speed(r) + ")"
	}
	return s
}

func (b *Bar) amount(n int64) string {
	if b.o.Unit == Bytes {
		return Size(n)
	}
	return Number(n)
}

func (b *Bar) speed(perSec float64) string {
	if b.o.Unit == Bytes {
		return Size(int64(perSec)) + "/s"
	}
	return fmt.Sprintf("%.1f/s", perSec)
}

// Size formats a byte count with binary units: "512 B", "1.5 KiB", "32.0 GiB".
func Size(n int64) string {
	const unit = 1024
	if n < unit && n > -unit {
		return fmt.Sprintf("%d B", n)
	}
	f, i := float64(n), 0
	for (f >= unit || f <= -unit) && i < 6 {
		f /= unit
		i++
	}
	return fmt.Sprintf("%.1f %ciB", f, "KMGTPE"[i-1])
}

// Number formats an integer with thousands separators: "1,234,567".
func Number(n int64) string {
	s := fmt.Sprint(n)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var out []byte
	for i := range len(s) {
		if i > 0 && (len(s)-i)%3 == 0 {
			out = append(out, ',')
		}
		out = append(out, s[i])
	}
	if neg {
		return "-" + string(out)
	}
	return string(out)
}

// Duration formats a duration compactly, to the second: "45s", "3m07s", "2h05m".
func Duration(d time.Duration) string {
	d = d.Round(time.Second)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm%02ds", int(d.Minutes()), int(d.Seconds())%60)
	default:
		return fmt.Sprintf("%dh%02dm", int(d.Hours()), int(d.Minutes())%60)
	}
}
