package main

// The watch command: a live one-line view of a buffer.

import (
	"errors"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/sharedcbuff/scb"
)

var watchCommand = &command{
	name:    "watch",
	usage:   "NAME [--interval D] [--count N]",
	summary: "show fill level and rates, refreshed live",
	help: `
Watch shows the buffer NAME on one line, refreshed a few times a second: the
fill level as a bar (unread items of a queue, held items of a broadcast
buffer), the items per second written (in) and, for a queue, read (out), and
for a broadcast buffer how many items were overwritten since it was made;
then, where the platform can prove it (Linux, Windows), how many writers and
readers are attached and how many of their calls sleep waiting now. It
only reads the buffer's file (as stat does) and takes no role, so it never
disturbs the processes using it.

On a terminal the line is rewritten in place, and made to fit the
terminal's width: a narrower bar, then no bar and fewer spaces, then the
fields at the end left out (the width is the terminal's, else $COLUMNS, else
80). Otherwise each refresh is printed in full on a line of its own. Watch runs until interrupted, or for --count
refreshes. If the buffer is removed, or replaced by a new buffer of the same
name, watch says so and ends with status 1.`,
	examples: `
scb watch jobs
scb watch prices --interval 1s
scb watch jobs --count 10 > jobs.log`,
	run: runWatch,
}

// The widths of the fill bar: the full one, and the narrowest that is shown
// before the line goes without one.
const (
	barWidth = 24
	minBar   = 8
)

// runWatch prints a status line per interval.
func runWatch(c *call) error {
	interval := c.durationFlag("interval", 250*time.Millisecond, "refresh every `D`")
	count := c.intFlag("count", 0, "stop after `N` refreshes, at least 1 (default: run until interrupted)", 1, "refresh")
	if err := c.parse("NAME"); err != nil {
		return err
	}
	name := c.args[0]
	opts := c.bufferOptions()
	prev, err := scb.Stat(name, opts)
	if err != nil {
		return c.fail(name, err)
	}
	prevTime := time.Now()
	tty := isTerminal(c.stdout)
	width := 0 // of the line on screen, to blank out what a shorter one leaves
	endLine := func() {
		if tty && width > 0 {
			fmt.Fprintln(c.stdout)
		}
	}
	tick := time.NewTicker(*interval)
	defer tick.Stop()
	for i := 0; *count == 0 || i < *count; i++ {
		select {
		case <-c.ctx.Done():
			endLine()
			return nil
		case <-tick.C:
		}
		info, err := scb.Stat(name, opts)
		switch {
		case errors.Is(err, scb.ErrNotExist):
			err = scb.ErrRemoved
		case err == nil && !info.Created.Equal(prev.Created):
			err = scb.ErrRemoved // and made anew
		}
		if err != nil {
			endLine()
			return c.fail(name, err)
		}
		now := time.Now()
		dt := now.Sub(prevTime)
		prevInfo := prev
		prev, prevTime = info, now
		if !tty {
			fmt.Fprintln(c.stdout, watchLine(prevInfo, info, dt, barWidth))
			continue
		}
		// The line fits the terminal as it is now, but for the last
		// column, which some terminals wrap at as soon as it is written.
		limit := termWidth(c.stdout) - 1
		line := fitWatchLine(prevInfo, info, dt, limit)
		fmt.Fprintf(c.stdout, "\r%s%s", line, strings.Repeat(" ", max(0, min(width, limit)-len(line))))
		width = len(line)
	}
	endLine()
	return nil
}

// watchLine describes info, given the previous snapshot taken dt before,
// with a fill bar of barLen characters:
//
//	jobs [##########--------------]  412/1024  40%  in   12.3k/s  out   11.9k/s
//	ticks [########################] 1024/1024 100%  in   5.00k/s  overwritten 81920
func watchLine(prev, info scb.Info, dt time.Duration, barLen int) string {
	filled := 0
	if info.Length > 0 {
		filled = min(barLen, (info.Unread*barLen+info.Length-1)/info.Length)
	}
	bar := strings.Repeat("#", filled) + strings.Repeat("-", barLen-filled)
	digits := len(fmt.Sprint(info.Length))
	var b strings.Builder
	fmt.Fprintf(&b, "%s [%s] %*d/%d %4s  in %s", info.Name, bar, digits, info.Unread, info.Length,
		percent(info.Unread, info.Length), rate(prev.Written, info.Written, dt))
	if info.Mode == scb.Broadcast {
		fmt.Fprintf(&b, "  overwritten %d", overwritten(info))
	} else {
		fmt.Fprintf(&b, "  out %s", rate(prev.Consumed, info.Consumed, dt))
	}
	for _, f := range holderFields(info) {
		b.WriteString("  " + f)
	}
	return b.String()
}

// holderFields says who is attached ("attached 1w 3r") and how many of
// their calls sleep now ("2 asleep"), if anyone is attached.
func holderFields(info scb.Info) []string {
	if len(info.Holders) == 0 {
		return nil
	}
	w := 0
	for _, h := range info.Holders {
		if h.Writer {
			w++
		}
	}
	fields := []string{fmt.Sprintf("attached %dw %dr", w, len(info.Holders)-w)}
	if n := info.ReadersWaiting + info.WritersWaiting; n > 0 {
		fields = append(fields, fmt.Sprintf("%d asleep", n))
	}
	return fields
}

// fitWatchLine is watchLine made to fit in width characters (any, if width
// is 0 or less): the full line if it fits, else with a bar narrowed to as
// little as minBar, else without the bar and the padding, as fields of
// which those at the end are left out until the rest fits; at the least,
// the buffer's name, cut to width.
func fitWatchLine(prev, info scb.Info, dt time.Duration, width int) string {
	line := watchLine(prev, info, dt, barWidth)
	if width <= 0 || len(line) <= width {
		return line
	}
	if bar := barWidth - (len(line) - width); bar >= minBar {
		return watchLine(prev, info, dt, bar)
	}
	fields := []string{
		info.Name,
		fmt.Sprintf("%d/%d %s", info.Unread, info.Length, percent(info.Unread, info.Length)),
		"in " + strings.TrimSpace(rate(prev.Written, info.Written, dt)),
	}
	if info.Mode == scb.Broadcast {
		fields = append(fields, fmt.Sprintf("overwritten %d", overwritten(info)))
	} else {
		fields = append(fields, "out "+strings.TrimSpace(rate(prev.Consumed, info.Consumed, dt)))
	}
	fields = append(fields, holderFields(info)...)
	for n := len(fields); n > 1; n-- {
		if line := strings.Join(fields[:n], "  "); len(line) <= width {
			return line
		}
	}
	return info.Name[:min(len(info.Name), width)]
}

// termWidth returns the width of the terminal w is, in columns: as the
// terminal says, else $COLUMNS, else 80.
func termWidth(w io.Writer) int {
	if f, ok := w.(*os.File); ok {
		if n := terminalColumns(f); n > 0 {
			return n
		}
	}
	if n, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && n > 0 {
		return n
	}
	return 80
}

// rate formats the change from a to b over dt as items per second.
func rate(a, b uint64, dt time.Duration) string {
	if b < a || dt <= 0 {
		return fmt.Sprintf("%7s", "-/s")
	}
	return fmt.Sprintf("%7s", siNumber(float64(b-a)/dt.Seconds())+"/s")
}

// siNumber formats x with three significant digits and a k, M or G suffix.
func siNumber(x float64) string {
	switch {
	case x >= 999.5e6:
		return fmt.Sprintf("%.3gG", x/1e9)
	case x >= 999.5e3:
		return fmt.Sprintf("%.3gM", x/1e6)
	case x >= 999.5:
		return fmt.Sprintf("%.3gk", x/1e3)
	}
	return fmt.Sprintf("%.0f", x)
}
