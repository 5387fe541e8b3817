package main

import (
	"io"
	"runtime"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// zeros is standard input of n zero bytes and no newline, as from
// head -c N /dev/zero; served counts the bytes the command took.
type zeros struct{ left, served int64 }

func (z *zeros) Read(p []byte) (int, error) {
	if z.left == 0 {
		return 0, io.EOF
	}
	n := min(int64(len(p)), z.left)
	clear(p[:n])
	z.left -= n
	z.served += n
	return int(n), nil
}

// longLineInput is the size of the line without a newline that the tests
// of long lines push.
const longLineInput = 64 << 20

// longLineTests are pushes of one line of longLineInput zero bytes into a
// buffer of 16-byte items, and the one line each writes to standard error.
var longLineTests = []struct {
	args []string
	want string
}{
	{[]string{"push", "x", "-"}, `scb: push "x": line 1: invalid VALUE "` + strings.Repeat(`\x00`, 32) + `"...: want an unsigned decimal integer below 2^64 (0 values pushed)`},
	{[]string{"push", "--bytes", "x"}, `scb: push "x": line 1: item larger than the buffer's item size: more than 17 bytes, item size is 16 (0 lines pushed)`},
}

// TestPushLongLine pushes a line far longer than an item: push reports it
// in one short line, promptly, having read little more of it than an
// item's worth.
func TestPushLongLine(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "x", "--item-size", "16")
	for _, tt := range longLineTests {
		in := &zeros{left: longLineInput}
		r, _ := runScbFrom(t, dir, in, tt.args...)
		assert.Equal(t, result{stderr: tt.want + "\n", code: 1}, r, "%v", tt.args)
		assert.LessOrEqual(t, in.served, int64(1<<20), "%v: the bytes of input read before push ended", tt.args)
	}
	assert.Equal(t, 3, runScb(t, dir, "", "pop", "x").code, "nothing was pushed")

	// Items larger than the reader's 64 KiB buffer: a line of ItemSize
	// bytes, one with a carriage return too, and one too long.
	const big = 100000
	ok(t, dir, "", "create", "big", "--item-size", strconv.Itoa(big))
	a, b := strings.Repeat("a", big), strings.Repeat("b", big)
	r := runScb(t, dir, a+"\n"+b+"\r\n"+a+"ab\n", "push", "--bytes", "big")
	assert.Equal(t, result{stderr: `scb: push "big": line 3: item larger than the buffer's item size: more than 100001 bytes, item size is 100000 (2 lines pushed)` + "\n", code: 1}, r)
	assert.Equal(t, a+"\n"+b+"\n", ok(t, dir, "", "pop", "--bytes", "big", "-n", "3"))

	// Many integers on one line are not one long item.
	ok(t, dir, "", "create", "many", "--length", "131072")
	want := counting(1, 100000)
	ok(t, dir, strings.ReplaceAll(want, "\n", " "), "push", "many", "-")
	assert.Equal(t, want, ok(t, dir, "", "pop", "many", "-n", "100000"))

	// A value of the command line is quoted short too.
	r = runScb(t, dir, "", "push", "x", strings.Repeat("9", 100))
	assert.Equal(t, result{stderr: `scb push: invalid VALUE "` + strings.Repeat("9", 32) + `"...: want an unsigned decimal integer below 2^64 (see 'scb push --help')` + "\n", code: 2}, r)
}

// TestPushLongLineMemory checks that push holds no more of a long line
// than an item's worth: its peak resident set is barely more than that of
// a push of one short item. (On Linux the figure is at least the test
// process's own resident set when it started the command: the kernel
// carries the high-water mark across fork and exec. Hence the baseline.)
func TestPushLongLineMemory(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("the peak resident set comes from getrusage(2), which Windows does not have")
	}
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "x", "--item-size", "16", "--length", "4")
	for _, tt := range longLineTests {
		stdin := "1\n"
		if tt.args[1] == "--bytes" {
			stdin = "short\n"
		}
		r, ps := runScbFrom(t, dir, strings.NewReader(stdin), tt.args...)
		require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
		base, ok := peakRSS(ps)
		require.True(t, ok)
		r, ps = runScbFrom(t, dir, &zeros{left: longLineInput}, tt.args...)
		assert.Equal(t, 1, r.code, "stderr:\n%s", r.stderr)
		peak, _ := peakRSS(ps)
		t.Logf("%v: peak RSS %d KiB for one short item, %d KiB for a %d MiB line", tt.args, base>>10, peak>>10, longLineInput>>20)
		assert.Less(t, peak, base+16<<20, "%v: the peak RSS", tt.args)
	}
}
