package main

// Tests of the command's formatting functions, called directly.

import (
	"context"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"syscall"
	"testing"

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
