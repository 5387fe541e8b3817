package main

// Tests of the command's formatting functions, called directly.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"syscall"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"

	"github.com/sharedcbuff/scb"
)

func TestWithHumanSizes(t *testing.T) {
	tests := []struct{ in, want string }{
		{"reserve 1600000000004080 bytes for /d/.x.tmp: file too large",
			"reserve 1600000000004080 bytes (1.4 PiB) for /d/.x.tmp: file too large"},
		{"reserve 1600006400000004096 bytes for f: no space left on device",
			"reserve 1600006400000004096 bytes (1.4 EiB) for f: no space left on device"},
		{"reserve 1048576 bytes", "reserve 1048576 bytes (1.0 MiB)"},
		{"reserve 1048575 bytes", "reserve 1048575 bytes"}, // below a mebibyte: as it is
		{"file is 12 bytes, smaller than the 4096-byte header", "file is 12 bytes, smaller than the 4096-byte header"},
		{"a 3221225472 bytes and b 5368709120 bytes.", "a 3221225472 bytes (3.0 GiB) and b 5368709120 bytes (5.0 GiB)."},
		{"already 3221225472 bytes (3 GiB)", "already 3221225472 bytes (3 GiB)"},
		{"99999999999999999999 bytes", "99999999999999999999 bytes"}, // beyond int64: as it is
		{"x3221225472 bytes", "x3221225472 bytes"},
		{"3221225472 bytesize", "3221225472 bytesize"},
		{"", ""},
	}
	for _, tt := range tests {
		assert.Equal(t, tt.want, withHumanSizes(tt.in), tt.in)
	}
}

// TestFailHumanSize: a library error that names a size in bytes is
// reported with a human reading beside it, and still matches its cause.
func TestFailHumanSize(t *testing.T) {
	c := &call{cmd: createCommand, ctx: context.Background()}
	cause := fmt.Errorf("reserve %d bytes for %s: %w", int64(1600000000004080), "/d/.big.scb.1.tmp", syscall.EFBIG)
	err := c.fail("big", &scb.Error{Op: "create", Name: "big", Err: cause})
	assert.Equal(t, `scb: create "big": reserve 1600000000004080 bytes (1.4 PiB) for /d/.big.scb.1.tmp: `+syscall.EFBIG.Error(), err.Error())
	assert.ErrorIs(t, err, syscall.EFBIG)
	var re *runError
	assert.True(t, errors.As(err, &re) && re.status == exitError)

	// Bad options stay a usage error.
	err = c.fail("big", fmt.Errorf("%w: ItemSize 3221225472 bytes is above 1073741824 bytes", scb.ErrInvalidOptions))
	assert.Equal(t, "scb create: invalid options: ItemSize 3221225472 bytes (3.0 GiB) is above 1073741824 bytes (1.0 GiB) (see 'scb create --help')", err.Error())
	assert.Equal(t, exitUsage, report(io.Discard, err))

	// Nothing else changes.
	err = c.fail("big", fmt.Errorf("%w in /d", scb.ErrExist))
	assert.Equal(t, `scb: create "big": buffer already exists in /d`, err.Error())
	assert.ErrorIs(t, err, fs.ErrExist)
}

// TestFitWatchLine: on a terminal, watch's line fits the width: a narrower
// bar, then a compact line without one, then fields left out from the end.
func TestFitWatchLine(t *testing.T) {
	qPrev := scb.Info{Name: "jobs", Mode: scb.Queue, Length: 1024}
	q := scb.Info{Name: "jobs", Mode: scb.Queue, Length: 1024, Unread: 412, Written: 12300, Consumed: 11888}
	bName := "ticks-from-the-exchange"
	bPrev := scb.Info{Name: bName, Mode: scb.Broadcast, Length: 1024, Unread: 1024, Written: 77944}
	b := scb.Info{Name: bName, Mode: scb.Broadcast, Length: 1024, Unread: 1024, Written: 82944}
	tests := []struct {
		prev, info scb.Info
		width      int
		want       string
	}{
		{qPrev, q, 0, "jobs [##########--------------]  412/1024  40%  in 12.3k/s  out 11.9k/s"}, // no limit
		{qPrev, q, 200, "jobs [##########--------------]  412/1024  40%  in 12.3k/s  out 11.9k/s"},
		{qPrev, q, 71, "jobs [##########--------------]  412/1024  40%  in 12.3k/s  out 11.9k/s"}, // just fits
		{qPrev, q, 70, "jobs [##########-------------]  412/1024  40%  in 12.3k/s  out 11.9k/s"},
		{qPrev, q, 60, "jobs [######-------]  412/1024  40%  in 12.3k/s  out 11.9k/s"},
		{qPrev, q, 55, "jobs [####----]  412/1024  40%  in 12.3k/s  out 11.9k/s"}, // the narrowest bar
		{qPrev, q, 54, "jobs  412/1024 40%  in 12.3k/s  out 11.9k/s"},
		{qPrev, q, 43, "jobs  412/1024 40%  in 12.3k/s  out 11.9k/s"},
		{qPrev, q, 42, "jobs  412/1024 40%  in 12.3k/s"},
		{qPrev, q, 30, "jobs  412/1024 40%  in 12.3k/s"},
		{qPrev, q, 29, "jobs  412/1024 40%"},
		{qPrev, q, 17, "jobs"},
		{qPrev, q, 3, "job"},
		{bPrev, b, 0, bName + " [########################] 1024/1024 100%  in    5k/s  overwritten 81920"},
		{bPrev, b, 96, bName + " [########################] 1024/1024 100%  in    5k/s  overwritten 81920"},
		{bPrev, b, 95, bName + " [#######################] 1024/1024 100%  in    5k/s  overwritten 81920"},
		{bPrev, b, 79, bName + "  1024/1024 100%  in 5k/s  overwritten 81920"},
		{bPrev, b, 60, bName + "  1024/1024 100%  in 5k/s"},
		{bPrev, b, 20, bName[:20]},
	}
	for _, tt := range tests {
		got := fitWatchLine(tt.prev, tt.info, time.Second, tt.width)
		assert.Equal(t, tt.want, got, "width %d", tt.width)
		if tt.width > 0 {
			assert.LessOrEqual(t, len(got), tt.width, "width %d", tt.width)
		}
	}
	// Not on a terminal, the line is the full one.
	assert.Equal(t, tests[0].want, watchLine(qPrev, q, time.Second, barWidth))

	// Who is attached, and asleep, comes last, and goes first.
	q.Holders = []scb.Holder{{Token: 1, Writer: true}, {Token: 2}, {Token: 3}}
	q.ReadersWaiting = 2
	assert.Equal(t, tests[0].want+"  attached 1w 2r  2 asleep", watchLine(qPrev, q, time.Second, barWidth))
	assert.Equal(t, "jobs  412/1024 40%  in 12.3k/s  out 11.9k/s  attached 1w 2r", fitWatchLine(qPrev, q, time.Second, 64))
}

// TestTermWidth: without a terminal to ask, the width is $COLUMNS, else 80.
func TestTermWidth(t *testing.T) {
	f, err := os.Create(filepath.Join(t.TempDir(), "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, tt := range []struct {
		columns string
		want    int
	}{
		{"132", 132},
		{"", 80},
		{"0", 80},
		{"-5", 80},
		{"wide", 80},
	} {
		t.Setenv("COLUMNS", tt.columns)
		assert.Equal(t, tt.want, termWidth(f), "a file, COLUMNS=%q", tt.columns)
		assert.Equal(t, tt.want, termWidth(io.Discard), "not a file, COLUMNS=%q", tt.columns)
	}
}
