package main

// The tests build the command once (TestMain) and run it as a user would,
// with its buffers in a t.TempDir() given as SCB_DIR or --dir. Every process
// is bounded by procTimeout.

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/child"
	"github.com/sharedcbuff/scb/scbtest"
)

// procTimeout bounds every process the tests run and every wait on one.
const procTimeout = 90 * time.Second

var (
	scbPath     string // the command under test
	raceEnabled bool   // set by race_test.go
)

func TestMain(m *testing.M) {
	os.Exit(testMain(m))
}

func testMain(m *testing.M) int {
	dir, err := os.MkdirTemp("", "scb-cmd-test-")
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	defer os.RemoveAll(dir)
	// SCB_TEST_EXE names a prebuilt command where `go build` cannot run:
	// under Wine, which runs the test binary but not the go command
	// (.ci/lane-windows).
	if exe := os.Getenv("SCB_TEST_EXE"); exe != "" {
		if raceEnabled {
			fmt.Fprintln(os.Stderr, "SCB_TEST_EXE is set, but a prebuilt command cannot be checked for -race")
			return 1
		}
		scbPath = exe
		return m.Run()
	}
	scbPath = filepath.Join(dir, "scb")
	if runtime.GOOS == "windows" {
		scbPath += ".exe"
	}
	args := []string{"build", "-o", scbPath}
	if raceEnabled {
		args = append(args, "-race")
	}
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Minute)
	defer cancel()
	if out, err := exec.CommandContext(ctx, "go", append(args, ".")...).CombinedOutput(); err != nil {
		fmt.Fprintf(os.Stderr, "building the scb command: %v\n%s", err, out)
		return 1
	}
	return m.Run()
}

// result is what a finished run of the command left.
type result struct {
	stdout, stderr string
	code           int
}

// runScb runs the command with args, SCB_DIR set to dir, and stdin as its
// standard input, and returns what it did.
func runScb(t *testing.T, dir, stdin string, args ...string) result {
	t.Helper()
	r, _ := runScbFrom(t, dir, strings.NewReader(stdin), args...)
	return r
}

// runScbFrom is runScb with standard input read from stdin; it also
// returns the state of the finished process.
func runScbFrom(t *testing.T, dir string, stdin io.Reader, args ...string) (result, *os.ProcessState) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
	defer cancel()
	var cmd *exec.Cmd
	var stdout, stderr bytes.Buffer
	err := child.RetryStart(func() error {
		cmd = newCmd(ctx, dir, args...)
		cmd.Stdin = stdin
		cmd.Stdout, cmd.Stderr = &stdout, &stderr
		return cmd.Start()
	})
	if err == nil {
		err = cmd.Wait()
	}
	if ctx.Err() != nil {
		t.Fatalf("scb %s did not finish within %v; stderr:\n%s", strings.Join(args, " "), procTimeout, &stderr)
	}
	return result{stdout.String(), stderr.String(), exitCode(t, err)}, cmd.ProcessState
}

// ok runs the command and fails the test unless it succeeds; it returns
// its standard output.
func ok(t *testing.T, dir, stdin string, args ...string) string {
	t.Helper()
	r := runScb(t, dir, stdin, args...)
	require.Equal(t, 0, r.code, "scb %s: stderr:\n%s", strings.Join(args, " "), r.stderr)
	require.Empty(t, r.stderr, "scb %s", strings.Join(args, " "))
	return r.stdout
}

func newCmd(ctx context.Context, dir string, args ...string) *exec.Cmd {
	cmd := exec.CommandContext(ctx, scbPath, args...)
	cmd.Env = append(os.Environ(), "SCB_DIR="+dir)
	if raceEnabled {
		// A race-enabled program sleeps a second at exit unless told not
		// to; a race it finds still makes it fail with status 66 and a
		// report on standard error.
		cmd.Env = append(cmd.Env, "GORACE="+strings.TrimSpace(os.Getenv("GORACE")+" atexit_sleep_ms=0"))
	}
	cmd.WaitDelay = 10 * time.Second
	return cmd
}

func exitCode(t *testing.T, err error) int {
	t.Helper()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &ee) && ee.Exited():
		return ee.ExitCode()
	}
	t.Fatalf("running scb: %v", err)
	return -1
}

// start runs the command in the background (scbtest reads its standard
// output as it comes, so that it never blocks on a full pipe).
func start(t *testing.T, dir string, args ...string) *scbtest.Proc {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
	t.Cleanup(cancel)
	return scbtest.StartCmd(t, func() *exec.Cmd { return newCmd(ctx, dir, args...) })
}

// lines splits output into its lines.
func lines(s string) []string {
	return strings.Split(strings.TrimSuffix(s, "\n"), "\n")
}

// counting returns "from\nfrom+1\n...\nto\n".
func counting(from, to int) string {
	var b strings.Builder
	for i := from; i <= to; i++ {
		b.WriteString(strconv.Itoa(i))
		b.WriteByte('\n')
	}
	return b.String()
}

var visible = []string{"create", "push", "pop", "peek", "stat", "ls", "rm", "watch", "demo"}

func TestHelp(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()

	for _, args := range [][]string{{"--help"}, {"-h"}, {"help"}} {
		r := runScb(t, dir, "", args...)
		assert.Equal(t, 0, r.code, args)
		assert.Empty(t, r.stderr, args)
		assert.Contains(t, r.stdout, "Usage:\n  scb <command>", args)
		for _, name := range visible {
			assert.Contains(t, r.stdout, "\n  "+name+" ", args)
		}
		assert.NotContains(t, r.stdout, "demo-consumer", "hidden commands are not listed")
		assert.Contains(t, r.stdout, "Here that is "+dir+".", "the directory in use")
	}

	r := runScb(t, dir, "")
	assert.Equal(t, 2, r.code, "no arguments")
	assert.Empty(t, r.stdout)
	assert.Contains(t, r.stderr, "Usage:\n  scb <command>")

	for _, name := range visible {
		for _, args := range [][]string{{name, "--help"}, {name, "-h"}, {"help", name}, {name, "x", "-help"}} {
			r := runScb(t, dir, "", args...)
			assert.Equal(t, 0, r.code, args)
			assert.Empty(t, r.stderr, args)
			assert.True(t, strings.HasPrefix(r.stdout, "Usage:\n  scb "+name+" "), "%v: %q", args, r.stdout)
			assert.Contains(t, r.stdout, "\nFlags:\n", args)
			assert.Contains(t, r.stdout, "  --dir D ", args)
			assert.Contains(t, r.stdout, "\nExamples:\n  scb ", args)
		}
	}
}

func TestUsageErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "q")
	tests := []struct {
		args []string
		want string // the one line on standard error
	}{
		{[]string{"frob"}, `scb: unknown command "frob" (see 'scb --help')`},
		{[]string{"help", "frob"}, `scb: unknown command "frob" (see 'scb --help')`},

		{[]string{"create"}, `scb create: missing NAME (see 'scb create --help')`},
		{[]string{"create", "a", "b"}, `scb create: unexpected argument "b" (see 'scb create --help')`},
		{[]string{"create", "x", "--bogus"}, `scb create: unknown flag --bogus (see 'scb create --help')`},
		{[]string{"create", "x", "--length", "abc"}, `scb create: invalid value "abc" for --length: want a decimal integer (see 'scb create --help')`},
		{[]string{"create", "x", "--length", "1"}, `scb create: invalid value "1" for --length: want at least 2 slots (see 'scb create --help')`},
		{[]string{"create", "x", "--length"}, `scb create: flag --length needs a value (see 'scb create --help')`},
		{[]string{"create", "x", "--item-size", "0x10"}, `scb create: invalid value "0x10" for --item-size: want a decimal integer (see 'scb create --help')`},
		{[]string{"create", "x", "--item-size", "-1"}, `scb create: invalid value "-1" for --item-size: want at least 1 byte (see 'scb create --help')`},
		{[]string{"create", "x", "--perm", "abc"}, `scb create: invalid value "abc" for --perm: want octal permission bits such as 0640 (see 'scb create --help')`},
		{[]string{"create", "x", "--perm", "0999"}, `scb create: invalid value "0999" for --perm: want octal permission bits such as 0640 (see 'scb create --help')`},
		{[]string{"create", "x", "--perm", "01777"}, `scb create: invalid value "01777" for --perm: want octal permission bits such as 0640 (see 'scb create --help')`},
		{[]string{"create", "x", "--strategy", "spin"}, `scb create: invalid value "spin" for --strategy: unknown strategy "spin" (want atomic or flock) (see 'scb create --help')`},
		{[]string{"create", "x", "--mode", "fifo"}, `scb create: invalid value "fifo" for --mode: unknown mode "fifo" (want queue or broadcast) (see 'scb create --help')`},
		{[]string{"create", "a/b"}, `scb create: invalid buffer name "a/b": byte 0x2f at 1 (allowed: A-Z a-z 0-9 . _ -) (see 'scb create --help')`},
		{[]string{"create", ".x"}, `scb create: invalid buffer name ".x": starts with '.' (see 'scb create --help')`},

		{[]string{"push"}, `scb push: missing NAME (see 'scb push --help')`},
		{[]string{"push", "q"}, `scb push: missing VALUE (see 'scb push --help')`},
		{[]string{"push", "q", "1", "abc"}, `scb push: invalid VALUE "abc": want an unsigned decimal integer below 2^64 (see 'scb push --help')`},
		{[]string{"push", "q", "18446744073709551616"}, `scb push: invalid VALUE "18446744073709551616": want an unsigned decimal integer below 2^64 (see 'scb push --help')`},
		{[]string{"push", "q", "-1"}, `scb push: unknown flag -1 (negative numbers are not accepted) (see 'scb push --help')`},
		{[]string{"push", "q", "1", "-"}, `scb push: invalid VALUE "-": want an unsigned decimal integer below 2^64 (see 'scb push --help')`},
		{[]string{"push", "--bytes", "q", "hello"}, `scb push: with --bytes the items come from standard input, not the command line (see 'scb push --help')`},
		{[]string{"push", "q", "1", "--timeout", "5"}, `scb push: invalid value "5" for --timeout: want a duration such as 500ms, 2s or 1m (see 'scb push --help')`},
		{[]string{"push", "q", "1", "--wait=maybe"}, `scb push: invalid value "maybe" for --wait: want true or false (see 'scb push --help')`},

		{[]string{"pop"}, `scb pop: missing NAME (see 'scb pop --help')`},
		{[]string{"pop", "q", "-n"}, `scb pop: flag -n needs a value (see 'scb pop --help')`},
		{[]string{"pop", "q", "-n", "-3"}, `scb pop: invalid value "-3" for -n: want at least 1 item (see 'scb pop --help')`},
		{[]string{"pop", "q", "-n", "x"}, `scb pop: invalid value "x" for -n: want a decimal integer (see 'scb pop --help')`},
		{[]string{"pop", "q", "--timeout", "-1s"}, `scb pop: invalid value "-1s" for --timeout: want a duration above 0, such as 500ms, 2s or 1m (see 'scb pop --help')`},
		{[]string{"pop", "q", "--follow", "-n", "2"}, `scb pop: --follow prints every item; it takes no -n (see 'scb pop --help')`},
		{[]string{"pop", "q", "---n", "2"}, `scb pop: bad flag syntax "---n" (see 'scb pop --help')`},
		{[]string{"pop", "a/b"}, `scb pop: invalid buffer name "a/b": byte 0x2f at 1 (allowed: A-Z a-z 0-9 . _ -) (see 'scb pop --help')`},

		{[]string{"stat"}, `scb stat: missing NAME (see 'scb stat --help')`},
		{[]string{"stat", "q", "r"}, `scb stat: unexpected argument "r" (see 'scb stat --help')`},
		{[]string{"ls", "q"}, `scb ls: unexpected argument "q" (see 'scb ls --help')`},
		{[]string{"ls", "--long"}, `scb ls: unknown flag --long (see 'scb ls --help')`},
		{[]string{"rm"}, `scb rm: missing NAME (see 'scb rm --help')`},
		{[]string{"watch"}, `scb watch: missing NAME (see 'scb watch --help')`},
		{[]string{"watch", "q", "--count", "-1"}, `scb watch: invalid value "-1" for --count: want at least 1 refresh (see 'scb watch --help')`},
		{[]string{"demo", "now"}, `scb demo: unexpected argument "now" (see 'scb demo --help')`},
	}
	for _, tt := range tests {
		r := runScb(t, dir, "", tt.args...)
		assert.Equal(t, 2, r.code, "%v", tt.args)
		assert.Empty(t, r.stdout, "%v", tt.args)
		assert.Equal(t, tt.want+"\n", r.stderr, "%v", tt.args)
	}
	// Nothing was created, and q was not touched.
	assert.Equal(t, "q\n", names(t, dir))
	assert.Equal(t, 3, runScb(t, dir, "", "pop", "q").code)
}

// TestExplicitZero: a 0 given on the command line is refused, with what
// the flag takes, wherever it would mean nothing (or, before, silently the
// default or "forever"); leaving the flag out gives the default.
func TestExplicitZero(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "q")
	tests := []struct {
		args []string
		want string // after "scb CMD: invalid value "0" for FLAG: "
	}{
		{[]string{"create", "x", "--length", "0"}, "want at least 2 slots"},
		{[]string{"create", "x", "--item-size", "0"}, "want at least 1 byte"},
		{[]string{"create", "x", "--perm", "0"}, "want octal permission bits such as 0640"},
		{[]string{"push", "q", "1", "--timeout", "0"}, "want a duration above 0, such as 500ms, 2s or 1m"},
		{[]string{"pop", "q", "-n", "0"}, "want at least 1 item"},
		{[]string{"pop", "q", "--wait", "--timeout", "0"}, "want a duration above 0, such as 500ms, 2s or 1m"},
		{[]string{"watch", "q", "--interval", "0"}, "want a duration above 0, such as 500ms, 2s or 1m"},
		{[]string{"watch", "q", "--count", "0"}, "want at least 1 refresh"},
		{[]string{"bench", "--runs", "0"}, "want at least 1 run"},
		{[]string{"bench", "--items", "0"}, "want at least 1 item"},
		{[]string{"demo", "--items", "0"}, "want at least 1 item"},
		{[]string{"demo", "--round-trips", "0"}, "want at least 1 round trip"},
	}
	for _, tt := range tests {
		cmd, flag := tt.args[0], tt.args[len(tt.args)-2]
		r := runScb(t, dir, "", tt.args...)
		assert.Equal(t, 2, r.code, "%v", tt.args)
		assert.Empty(t, r.stdout, "%v", tt.args)
		assert.Equal(t, fmt.Sprintf("scb %s: invalid value \"0\" for %s: %s (see 'scb %s --help')\n", cmd, flag, tt.want, cmd), r.stderr, "%v", tt.args)
	}
	assert.Equal(t, "q\n", names(t, dir), "nothing was created")
	assert.Equal(t, 3, runScb(t, dir, "", "pop", "q").code, "nothing was pushed")

	// Where 0 stands for "not given", the help says what leaving the flag
	// out does.
	assert.Contains(t, ok(t, dir, "", "watch", "--help"), "(default: run until interrupted)")
	assert.Contains(t, ok(t, dir, "", "bench", "--help"), "(default 5, 3 with --quick)")
}

// TestScbEnding: every command that takes a buffer's NAME refuses one
// ending in .scb, the file's ending (create made jobs.scb.scb of it).
func TestScbEnding(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	for _, args := range [][]string{
		{"create", "jobs.scb"},
		{"push", "jobs.scb", "1"},
		{"push", "--bytes", "jobs.scb"},
		{"pop", "jobs.scb"},
		{"pop", "jobs.scb", "--follow"},
		{"stat", "jobs.scb"},
		{"rm", "jobs", "jobs.scb"},
		{"watch", "jobs.scb", "--count", "1"},
		{"stat", "jobs.SCB"},
		{"stat", "jobs.scb.scb"},
	} {
		r := runScb(t, dir, "1\n", args...)
		assert.Equal(t, 2, r.code, "%v", args)
		assert.Empty(t, r.stdout, "%v", args)
		name := args[1]
		if name == "--bytes" || name == "jobs" {
			name = args[2]
		}
		assert.Equal(t, fmt.Sprintf("scb %s: invalid buffer name %q: name the buffer without the .scb ending: jobs (see 'scb %[1]s --help')\n", args[0], name), r.stderr, "%v", args)
	}
	assert.Equal(t, "jobs\n", names(t, dir), "nothing was made, and rm removed nothing")
	assert.Equal(t, 3, runScb(t, dir, "", "pop", "jobs").code, "nothing was pushed")

	// A name that merely contains scb is a name.
	ok(t, dir, "", "create", "scb")
	ok(t, dir, "", "create", "a.scb-log")
	assert.Equal(t, "a.scb-log\njobs\nscb\n", names(t, dir))
	assert.Contains(t, ok(t, dir, "", "create", "--help"), "does not end in .scb")
}

// TestPerm: --perm is octal with or without a leading 0 or 0o, and a
// permission that lets the group or others write is applied with a
// warning.
func TestPerm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct {
		perm string
		want os.FileMode
		warn string // after `scb: create "NAME": warning: --perm `
	}{
		{"640", 0o640, ""},
		{"0640", 0o640, ""},
		{"0o640", 0o640, ""},
		{"600", 0o600, ""},
		{"444", 0o444, ""},
		{"660", 0o660, "0660 lets the group write to the buffer"},
		{"0602", 0o602, "0602 lets other users write to the buffer"},
		{"777", 0o777, "0777 lets the group and other users write to the buffer"},
		{"0o666", 0o666, "0666 lets the group and other users write to the buffer"},
	}
	for i, tt := range tests {
		name := "p" + strconv.Itoa(i)
		r := runScb(t, dir, "", "create", name, "--perm", tt.perm)
		assert.Equal(t, 0, r.code, tt.perm)
		assert.Empty(t, r.stdout, tt.perm)
		if tt.warn == "" {
			assert.Empty(t, r.stderr, tt.perm)
		} else {
			assert.Equal(t, fmt.Sprintf("scb: create %q: warning: --perm %s\n", name, tt.warn), r.stderr, tt.perm)
		}
		var info statJSON
		require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", name, "--json")), &info))
		if runtime.GOOS != "windows" { // (Windows has no such bits: files read 0666 or 0444)
			assert.Equal(t, fmt.Sprintf("%#o", tt.want), info.Perm, tt.perm)
			fi, err := os.Stat(info.Path)
			require.NoError(t, err)
			assert.Equal(t, tt.want, fi.Mode().Perm(), tt.perm)
		}
	}
	for _, bad := range []string{"0", "0o", "8", "0x1ff", "1000", "rw-r-----"} {
		r := runScb(t, dir, "", "create", "bad", "--perm", bad)
		assert.Equal(t, 2, r.code, bad)
		assert.Equal(t, fmt.Sprintf("scb create: invalid value %q for --perm: want octal permission bits such as 0640 (see 'scb create --help')\n", bad), r.stderr)
	}
	help := ok(t, dir, "", "create", "--help")
	assert.Contains(t, help, "660, 0660 and 0o660 are the same")
	assert.Contains(t, help, "with a warning on\nstandard error")
}

func TestVersion(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	out := ok(t, dir, "", "version")
	// The test builds the command from this checkout: a pseudo-version of
	// the commit, or (devel) without version control information.
	want := `^scb version (\(devel\)|v\S+) ` + regexp.QuoteMeta(runtime.Version()+" "+runtime.GOOS+"/"+runtime.GOARCH) + "\n$"
	assert.Regexp(t, want, out)
	assert.Equal(t, out, ok(t, dir, "", "--version"))
	assert.Equal(t, out, ok(t, dir, "", "-version"))

	help := ok(t, dir, "", "version", "--help")
	assert.True(t, strings.HasPrefix(help, "Usage:\n  scb version\n\nVersion prints one line"), help)
	assert.Contains(t, ok(t, dir, "", "--help"), "\n  version  print the version of scb")
	r := runScb(t, dir, "", "version", "now")
	assert.Equal(t, result{"", "scb version: unexpected argument \"now\" (see 'scb version --help')\n", 2}, r)
}

func TestDidYouMean(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tests := []struct{ typed, want string }{
		{"pusj", "push"},
		{"PUSH", "push"},
		{"stats", "stat"},
		{"crate", "create"},
		{"craete", "create"},
		{"wach", "watch"},
		{"lss", "ls"},
		{"hepl", "help"},
		{"versoin", "version"},
		{"demo-consumr", ""}, // a hidden command is not suggested; demo is 8 edits away
		{"frob", ""},
		{"l", ""}, // one edit, but the whole name
		{"x", ""},
		{"--pop", "pop"},
	}
	for _, tt := range tests {
		for _, args := range [][]string{{tt.typed}, {"help", tt.typed}} {
			r := runScb(t, dir, "", args...)
			assert.Equal(t, 2, r.code, "%v", args)
			assert.Empty(t, r.stdout, "%v", args)
			want := fmt.Sprintf("scb: unknown command %q (see 'scb --help')\n", tt.typed)
			if tt.want != "" {
				want = fmt.Sprintf("scb: unknown command %q; did you mean %q?\n", tt.typed, tt.want)
			}
			assert.Equal(t, want, r.stderr, "%v", args)
		}
	}
}

// names lists the buffers in dir, one per line.
func names(t *testing.T, dir string) string {
	t.Helper()
	var infos []struct{ Name string }
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "ls", "--json")), &infos))
	var b strings.Builder
	for _, i := range infos {
		b.WriteString(i.Name + "\n")
	}
	return b.String()
}

func TestRuntimeErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "q", "--length", "2")
	ok(t, dir, "", "push", "q", "1", "2")
	ok(t, dir, "", "create", "small", "--item-size", "1")
	ok(t, dir, "", "create", "text", "--item-size", "16")
	ok(t, dir, "hello, world\n", "push", "--bytes", "text")
	missing := filepath.Join(dir, "missing")
	tests := []struct {
		args []string
		want string
	}{
		{[]string{"pop", "nope"}, `scb: pop "nope": buffer does not exist in ` + dir},
		{[]string{"pop", "nope", "--follow", "--timeout", "50ms"}, `scb: pop "nope": context deadline exceeded while waiting: buffer does not exist in ` + dir},
		{[]string{"push", "nope", "1"}, `scb: push "nope": buffer does not exist in ` + dir},
		{[]string{"stat", "nope"}, `scb: stat "nope": buffer does not exist in ` + dir},
		{[]string{"rm", "nope"}, `scb: rm "nope": buffer does not exist in ` + dir},
		{[]string{"watch", "nope"}, `scb: watch "nope": buffer does not exist in ` + dir},
		{[]string{"pop", "q", "--dir", missing}, `scb: pop "q": buffer does not exist in ` + missing},
		{[]string{"ls", "--dir", missing}, `scb: ls: ` + missing + `: ` + noSuchFile(t)},
		{[]string{"create", "q"}, `scb: create "q": buffer already exists in ` + dir},
		{[]string{"push", "q", "3", "4"}, `scb: push "q": buffer is full (0 of 2 values pushed)`},
		{[]string{"push", "q", "3", "--timeout", "50ms"}, `scb: push "q": timed out after 50ms waiting for room (0 of 1 values pushed)`},
		{[]string{"push", "small", "1", "255", "256"}, `scb: push "small": value out of range for the item size: 256 does not fit in 1 bytes`},
		{[]string{"pop", "text"}, `scb: pop "text": value out of range for the item size: item 0 has 12 bytes that do not hold a uint64 (read it with --bytes)`},
	}
	for _, tt := range tests {
		r := runScb(t, dir, "", tt.args...)
		assert.Equal(t, 1, r.code, "%v", tt.args)
		assert.Empty(t, r.stdout, "%v", tt.args)
		assert.Equal(t, tt.want+"\n", r.stderr, "%v", tt.args)
	}
	// ErrFull says "scb: " itself; the command says it once, also inside
	// its own wrapping of a line.
	r := runScb(t, dir, "a\nb\n", "push", "--bytes", "q")
	assert.Equal(t, `scb: push "q": line 1: buffer is full (0 lines pushed)`+"\n", r.stderr)
	// The failed pushes left the buffers as they were.
	assert.Equal(t, "1\n2\n", ok(t, dir, "", "pop", "q", "-n", "5"))
	assert.Equal(t, 3, runScb(t, dir, "", "pop", "small").code, "256 was refused before 1 and 255 were pushed")
	assert.Equal(t, "hello, world\n", ok(t, dir, "", "pop", "--bytes", "text"))
}

// noSuchFile is the system's message for a directory that does not exist,
// asked of the system: Windows words it in the user's language, and Wine
// in its own.
func noSuchFile(t *testing.T) string {
	_, err := os.ReadDir(filepath.Join(t.TempDir(), "missing"))
	var pe *fs.PathError
	require.ErrorAs(t, err, &pe)
	return pe.Err.Error()
}

// permShown is how the command shows a buffer made with perm: Windows files
// have no Unix modes, only a read-only attribute that buffers never have,
// which Go shows as 0666.
func permShown(perm string) string {
	if runtime.GOOS == "windows" {
		return "0666"
	}
	return perm
}

func TestPushPop(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	assert.Equal(t, "", ok(t, dir, "", "create", "jobs"), "create prints nothing")
	assert.Equal(t, "", ok(t, dir, "", "push", "jobs", "1", "2", "3"), "push prints nothing")
	// Flags anywhere among the arguments, in either spelling; -- ends them.
	ok(t, dir, "", "push", "--wait", "jobs", "4", "-timeout=1s", "5", "--", "6")
	ok(t, dir, "", "create", "--", "-dash")
	ok(t, dir, "", "push", "--", "-dash", "1")
	assert.Equal(t, "1\n", ok(t, dir, "", "pop", "--dir", dir, "--", "-dash"))

	assert.Equal(t, "1\n", ok(t, dir, "", "pop", "jobs"))
	assert.Equal(t, "2\n3\n", ok(t, dir, "", "pop", "-n", "2", "jobs"))
	assert.Equal(t, "4\n5\n6\n", ok(t, dir, "", "pop", "jobs", "-n", "10"), "up to N that are ready")

	// Empty: exit status 3 and nothing printed, waiting or not.
	for _, args := range [][]string{
		{"pop", "jobs"},
		{"pop", "jobs", "-n", "5"},
		{"pop", "jobs", "--timeout", "50ms"},
		{"pop", "jobs", "--bytes"},
	} {
		r := runScb(t, dir, "", args...)
		assert.Equal(t, result{code: 3}, r, "%v", args)
	}

	// Integers from standard input, and the full range of a uint64.
	ok(t, dir, "7 8\n9\n\n18446744073709551615\n", "push", "jobs", "-")
	assert.Equal(t, "7\n8\n9\n18446744073709551615\n", ok(t, dir, "", "pop", "jobs", "-n", "4", "--wait"))
	r := runScb(t, dir, "10\n11 x\n12\n", "push", "jobs", "-")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, `scb: push "jobs": line 2: invalid VALUE "x": want an unsigned decimal integer below 2^64 (2 values pushed)`+"\n", r.stderr)
	assert.Equal(t, "10\n11\n", ok(t, dir, "", "pop", "jobs", "-n", "5"))

	// --timeout prints what arrived in time.
	ok(t, dir, "", "push", "jobs", "13")
	assert.Equal(t, "13\n", ok(t, dir, "", "pop", "jobs", "-n", "2", "--timeout", "50ms"))
}

func TestPushWait(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "q", "--length", "2")
	ok(t, dir, "", "push", "q", "1", "2")

	// The queue is full: the push waits until pops make room for 5.
	pusher := start(t, dir, "push", "q", "3", "4", "5", "--wait")
	assert.Equal(t, "1\n2\n", ok(t, dir, "", "pop", "q", "-n", "2"))
	assert.Equal(t, "3\n4\n5\n", ok(t, dir, "", "pop", "q", "-n", "3", "--wait"))
	code, out := pusher.Exit()
	assert.Equal(t, 0, code, "stderr:\n%s", pusher.Stderr())
	assert.Empty(t, out)
	assert.Empty(t, pusher.Stderr())
}

func TestBytes(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "lines", "--item-size", "8")

	ok(t, dir, "hello\nworld\r\n\nlast", "push", "--bytes", "lines")
	assert.Equal(t, "hello\nworld\n\nlast\n", ok(t, dir, "", "pop", "--bytes", "lines", "-n", "10"),
		"newlines and carriage returns stripped, an empty line is an empty item, the last line needs no newline")

	ok(t, dir, "12345678\n", "push", "lines", "--bytes", "-")
	assert.Equal(t, "12345678\n", ok(t, dir, "", "pop", "lines", "--bytes"), "an item of exactly ItemSize bytes")

	// A line too long fails after the lines before it were pushed.
	r := runScb(t, dir, "one\ntwo\n123456789\nnever\n", "push", "--bytes", "lines")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, `scb: push "lines": line 3: item larger than the buffer's item size: 9 bytes, item size is 8 (2 lines pushed)`+"\n", r.stderr)
	assert.Equal(t, "one\ntwo\n", ok(t, dir, "", "pop", "--bytes", "lines", "-n", "10"))

	// Binary bytes go through untouched (except a trailing newline).
	ok(t, dir, "\x00\xff\t \x01\n", "push", "--bytes", "lines")
	assert.Equal(t, "\x00\xff\t \x01\n", ok(t, dir, "", "pop", "--bytes", "lines"))
}

func TestBroadcast(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "ticks", "--mode", "broadcast", "--length", "4")
	ok(t, dir, "", append([]string{"push", "ticks"}, lines(counting(1, 10))...)...)

	// Pop starts at the oldest item held, and consumes nothing.
	assert.Equal(t, "7\n8\n9\n10\n", ok(t, dir, "", "pop", "ticks", "-n", "10"))
	assert.Equal(t, "7\n8\n", ok(t, dir, "", "pop", "ticks", "-n", "2"))

	var info map[string]any
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "ticks", "--json")), &info))
	assert.Equal(t, "broadcast", info["mode"])
	assert.EqualValues(t, 10, info["written"])
	assert.EqualValues(t, 4, info["unread"])
	assert.EqualValues(t, 6, info["overwritten"])

	out := ok(t, dir, "", "stat", "ticks")
	assert.Regexp(t, `(?m)^held +4 of 4 \(100%\)$`, out)
	assert.Regexp(t, `(?m)^overwritten +6$`, out)

	out = ok(t, dir, "", "watch", "ticks", "--count", "1", "--interval", "10ms")
	assert.Regexp(t, `^ticks \[#{24}\] 4/4 100%  in +0/s  overwritten 6\n$`, out)
}

// statJSON is what stat --json prints.
type statJSON struct {
	Name        string    `json:"name"`
	Path        string    `json:"path"`
	Mode        string    `json:"mode"`
	Strategy    string    `json:"strategy"`
	Length      int       `json:"length"`
	ItemSize    int       `json:"item_size"`
	Size        int64     `json:"size"`
	Perm        string    `json:"perm"`
	Created     time.Time `json:"created"`
	Written     uint64    `json:"written"`
	Consumed    uint64    `json:"consumed"`
	Unread      int       `json:"unread"`
	Overwritten uint64    `json:"overwritten"`
}

// TestCreateFixed makes a buffer of fixed-size items: stat says so, an
// integer goes through, and an item of another size is refused.
func TestCreateFixed(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "ids", "--fixed")
	assert.Regexp(t, `(?m)^item size +8 bytes, every item \(fixed\)$`, ok(t, dir, "", "stat", "ids"))
	var info struct {
		FixedSize bool `json:"fixed_size"`
		Size      int64
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "ids", "--json")), &info))
	assert.True(t, info.FixedSize)
	assert.Equal(t, int64(36864+1024*8+1024*8), info.Size, "header, state words, 8-byte slots")
	ok(t, dir, "", "push", "ids", "42")
	assert.Equal(t, "42\n", ok(t, dir, "", "pop", "ids"))
	r := runScb(t, dir, "abc\n", "push", "--bytes", "ids")
	assert.NotZero(t, r.code)
	assert.Contains(t, r.stderr, "3 bytes, this buffer's items are all 8 bytes")
}

// statReading is a typed buffer's type, for TestStatType.
type statReading struct {
	ID uint32
	V  float64
}

// TestStatType shows the type a buffer made by CreateTyped records.
func TestStatType(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	tw, err := scb.CreateTyped[statReading]("typed", &scb.Options{Dir: dir, Strategy: scb.Flock})
	require.NoError(t, err)
	defer tw.Close()
	assert.Regexp(t, `(?m)^type +main\.statReading \(typed handles of other types are refused\)$`, ok(t, dir, "", "stat", "typed"))
	var info struct{ Type string }
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "typed", "--json")), &info))
	assert.Equal(t, "main.statReading", info.Type)
	ok(t, dir, "", "create", "plain")
	assert.NotContains(t, ok(t, dir, "", "stat", "plain"), "type")
}

func TestCreateStat(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	before := time.Now().Add(-time.Second)
	ok(t, dir, "", "create", "jobs", "--length", "16", "--item-size", "4", "--strategy", "flock", "--perm", "0640")
	ok(t, dir, "", "push", "jobs", "1", "2", "3")
	ok(t, dir, "", "pop", "jobs")

	out := ok(t, dir, "", "stat", "jobs", "--json")
	var fields map[string]any
	require.NoError(t, json.Unmarshal([]byte(out), &fields), out)
	assert.Len(t, fields, 21, "every field of infoJSON but the pids of attached holders and the leases (none), and no other")
	var info statJSON
	require.NoError(t, json.Unmarshal([]byte(out), &info))
	assert.WithinRange(t, info.Created, before, time.Now().Add(time.Second))
	fi, err := os.Stat(info.Path)
	require.NoError(t, err)
	info.Created = time.Time{}
	assert.Equal(t, statJSON{
		Name:     "jobs",
		Path:     filepath.Join(dir, "jobs.scb"),
		Mode:     "queue",
		Strategy: "flock",
		Length:   16,
		ItemSize: 4,
		Size:     fi.Size(),
		Perm:     permShown("0640"),
		Written:  3,
		Consumed: 1,
		Unread:   2,
	}, info)
	if runtime.GOOS != "windows" {
		assert.Equal(t, os.FileMode(0o640), fi.Mode().Perm())
	}

	out = ok(t, dir, "", "stat", "jobs")
	for _, re := range []string{
		`(?m)^name +jobs$`,
		`(?m)^path +` + regexp.QuoteMeta(info.Path) + `$`,
		`(?m)^mode +queue$`,
		`(?m)^strategy +flock$`,
		`(?m)^length +16 slots$`,
		`(?m)^item size +4 bytes$`,
		`(?m)^file size +` + strconv.FormatInt(info.Size, 10) + ` bytes \(.*iB\)$`,
		`(?m)^perm +` + permShown("0640") + `$`,
		`(?m)^written +3$`,
		`(?m)^consumed +1$`,
		`(?m)^unread +2 of 16 \(12%\)$`,
	} {
		assert.Regexp(t, re, out)
	}

	// The defaults.
	ok(t, dir, "", "create", "plain")
	info = statJSON{}
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "plain", "--json")), &info))
	assert.Equal(t, []any{"queue", "atomic", 1024, 8, permShown("0600")}, []any{info.Mode, info.Strategy, info.Length, info.ItemSize, info.Perm})
}

func TestLs(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	assert.Equal(t, result{}, runScb(t, dir, "", "ls"), "no buffers: nothing printed")
	assert.Equal(t, "[]\n", ok(t, dir, "", "ls", "--json"))

	ok(t, dir, "", "create", "b", "--mode", "broadcast", "--length", "4")
	ok(t, dir, "", "create", "a", "--strategy", "flock")
	ok(t, dir, "", "push", "a", "1", "2")
	out := ok(t, dir, "", "ls")
	got := lines(out)
	require.Len(t, got, 3, out)
	assert.Regexp(t, `^NAME +MODE +STRATEGY +LENGTH +ITEM +UNREAD +WRITTEN +SIZE +STREAM$`, got[0])
	assert.Regexp(t, `^a +queue +flock +1024 +8 +2 +2 +\d+\.\d KiB +open$`, got[1])
	assert.Regexp(t, `^b +broadcast +atomic +4 +8 +0 +0 +\d+\.\d KiB +open$`, got[2])

	var infos []map[string]any
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "ls", "--json")), &infos))
	require.Len(t, infos, 2)
	assert.Equal(t, "a", infos[0]["name"])
	assert.EqualValues(t, 2, infos[0]["unread"])
	assert.Equal(t, "b", infos[1]["name"])
	assert.Equal(t, "broadcast", infos[1]["mode"])

	// A file that is not a buffer is reported; the others are listed.
	require.NoError(t, os.WriteFile(filepath.Join(dir, "junk.scb"), []byte("not a buffer"), 0o600))
	r := runScb(t, dir, "", "ls")
	assert.Equal(t, 1, r.code)
	assert.Equal(t, out, r.stdout)
	assert.Equal(t, `scb: ls "junk": corrupt buffer file: file is 12 bytes, smaller than the 36864-byte header`+"\n", r.stderr)
}

func TestRm(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"a", "b", "c", "d"} {
		ok(t, dir, "", "create", name)
	}
	assert.Equal(t, "", ok(t, dir, "", "rm", "a", "b"))
	assert.Equal(t, "c\nd\n", names(t, dir))

	// Every name is tried; each failure is reported.
	r := runScb(t, dir, "", "rm", "nope", "c", "gone")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Equal(t, `scb: rm "nope": buffer does not exist in `+dir+"\n"+
		`scb: rm "gone": buffer does not exist in `+dir+"\n", r.stderr)
	assert.Equal(t, "d\n", names(t, dir))

	ok(t, dir, "", "rm", "--force", "nope", "d")
	assert.Equal(t, "", names(t, dir))
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "lock files are removed too")
}

func TestWatch(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	ok(t, dir, "", "push", "jobs", "1", "2", "3")
	out := ok(t, dir, "", "watch", "jobs", "--count", "3", "--interval", "10ms")
	got := lines(out)
	require.Len(t, got, 3, "one line per refresh when not on a terminal: %q", out)
	for _, line := range got {
		assert.Regexp(t, `^jobs \[#-{23}\]    3/1024   0%  in +0/s  out +0/s$`, line)
	}
}

func TestDir(t *testing.T) {
	t.Parallel()
	env, flag := t.TempDir(), t.TempDir()
	ok(t, env, "", "create", "here", "--dir", flag)
	ok(t, env, "", "create", "there")
	_, err := os.Stat(filepath.Join(flag, "here.scb"))
	assert.NoError(t, err, "--dir comes first")
	_, err = os.Stat(filepath.Join(env, "there.scb"))
	assert.NoError(t, err, "then SCB_DIR")
	assert.Equal(t, "here\n", names(t, flag))
	assert.Equal(t, "there\n", names(t, env))
}

// TestOtherOwner attaches to a buffer of another user in a directory
// anyone may write to, as root does to debug a service's buffer in
// /dev/shm. Making a file of another user takes root.
func TestOtherOwner(t *testing.T) {
	if runtime.GOOS == "windows" || os.Geteuid() != 0 {
		t.Skip("needs root on a Unix system, to give a file to another user")
	}
	t.Parallel()
	dir := t.TempDir()
	require.NoError(t, os.Chmod(dir, 0o777|os.ModeSticky))
	ok(t, dir, "", "create", "svc")
	require.NoError(t, os.Chown(filepath.Join(dir, "svc.scb"), 65534, 65534))

	want := `scb: push "svc": refusing to open an untrusted file: ` + filepath.Join(dir, "svc.scb") +
		` belongs to uid 65534 in the world-writable directory ` + dir + ` (pass --allow-other-owner to use it anyway)` + "\n"
	assert.Equal(t, result{stderr: want, code: 1}, runScb(t, dir, "", "push", "svc", "1"))
	ok(t, dir, "", "push", "svc", "1", "--allow-other-owner")
	assert.Equal(t, 1, runScb(t, dir, "", "pop", "svc").code)
	assert.Equal(t, "1\n", ok(t, dir, "", "pop", "svc", "--allow-other-owner"))
	assert.Regexp(t, `(?m)^unread +0 of 1024 `, ok(t, dir, "", "stat", "svc"), "stat needs no flag: it only reads")
}

// TestPipeline is a shell pipeline through a queue: push in one process,
// pop --follow in another, stopped with Ctrl-C once everything arrived.
func TestPipeline(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("sending Ctrl-C to a process is not supported on Windows")
	}
	t.Parallel()
	dir := t.TempDir()
	const n = 20000
	ok(t, dir, "", "create", "jobs", "--length", "64")
	follower := start(t, dir, "pop", "jobs", "--follow")
	ok(t, dir, counting(1, n), "push", "jobs", "--wait", "-")

	got := follower.Lines(n)
	// The follower holds the Atomic queue's reader role.
	r := runScb(t, dir, "", "pop", "jobs")
	assert.Equal(t, 1, r.code)
	assert.Empty(t, r.stdout)
	assert.Regexp(t, `^scb: pop "jobs": buffer is busy: another reader is attached \(process `+strconv.Itoa(follower.Cmd.Process.Pid)+` holds .*jobs\.scb\.[0-9a-f]{16}\.rlock\)\n$`, r.stderr)

	require.NoError(t, follower.Cmd.Process.Signal(os.Interrupt))
	code, rest := follower.Exit()
	assert.Equal(t, 0, code, "Ctrl-C ends --follow cleanly; stderr:\n%s", follower.Stderr())
	assert.Empty(t, follower.Stderr())
	assert.Empty(t, rest)
	assert.Equal(t, lines(counting(1, n)), got, "every item, in order")

	// The follower gave up the reader role, and left nothing unread.
	assert.Equal(t, result{code: 3}, runScb(t, dir, "", "pop", "jobs"))
}

// TestInterrupt stops a waiting pop with Ctrl-C: exit status 130.
func TestInterrupt(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("this test learns that pop is waiting from the futex waiter count, which only Linux keeps")
	}
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	waiter := start(t, dir, "pop", "jobs", "--wait")
	// Once the pop sleeps waiting for an item, it has attached, after it
	// began handling signals. Linux keeps count of such sleepers.
	deadline := time.Now().Add(procTimeout)
	for {
		info, err := scb.Stat("jobs", &scb.Options{Dir: dir})
		require.NoError(t, err)
		if info.ReadersWaiting > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "pop did not attach within %v", procTimeout)
		time.Sleep(time.Millisecond)
	}
	require.NoError(t, waiter.Cmd.Process.Signal(os.Interrupt))
	code, out := waiter.Exit()
	assert.Equal(t, 130, code)
	assert.Empty(t, out)
	assert.Equal(t, `scb: pop "jobs": interrupted`+"\n", waiter.Stderr())
}

func TestDemo(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	started := time.Now()
	r := runScb(t, dir, "", "demo")
	t.Logf("demo took %v:\n%s", time.Since(started), r.stdout)
	require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
	assert.Regexp(t, `^scb demo: streaming 2000000 items to the consumer \(pid \d+\)\.\.\.\n$`, r.stderr, "progress, when not on a terminal")
	out := r.stdout
	assert.Regexp(t, `(?m)^  stream +2000000 uint64 items through an Atomic Queue`, out)
	assert.Regexp(t, `(?m)^  time +.+, .+ items/s$`, out)
	assert.Regexp(t, `(?m)^  verified +all 2000000 items arrived in order`, out)
	assert.Regexp(t, `(?m)^  latency +5000 round trips .*: p50 .+s, p99 .+s$`, out)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "the demo's temporary directory is removed")
}

// TestDemoConsumer checks the demo's consumer process: it finds an item out
// of order.
func TestDemoConsumer(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"stream", "ping", "pong"} {
		ok(t, dir, "", "create", name)
	}
	ok(t, dir, "", "push", "stream", "0", "1", "3")
	r := runScb(t, dir, "", "demo-consumer", "--items", "3", "--round-trips", "1")
	assert.Equal(t, result{stdout: "ready\nmismatch 2 3\n", code: 1}, r)
}

// TestBench runs the benchmark suite once with a few items: every figure
// comes back with scb's value, the baselines and the ratios, as a table
// and as JSON, and progress goes to standard error only.
func TestBench(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	r := runScb(t, dir, "", "bench", "--runs", "1", "--items", "4000", "--json")
	require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
	var rep struct {
		Rows []struct {
			Figure   string             `json:"figure"`
			Strategy string             `json:"strategy"`
			Values   map[string]float64 `json:"values"`
			Ratios   map[string]float64 `json:"ratios"`
		} `json:"rows"`
	}
	require.NoError(t, json.Unmarshal([]byte(r.stdout), &rep), "stdout is the JSON report")
	require.Len(t, rep.Rows, 27)
	for _, row := range rep.Rows {
		if runtime.GOOS == "windows" && strings.Contains(row.Figure, " reader") {
			continue // MPMC needs pipes passed to child processes, which os/exec cannot do there
		}
		assert.Positive(t, row.Values["scb"], "%s %s", row.Figure, row.Strategy)
		if !strings.Contains(row.Figure, " reader") { // MPMC has no bare loop
			assert.Positive(t, row.Ratios["bare"], "%s %s", row.Figure, row.Strategy)
		}
		if runtime.GOOS == "linux" {
			assert.Positive(t, row.Ratios["pipe"], "%s %s", row.Figure, row.Strategy)
		}
	}
	assert.Regexp(t, `(?m)^\[1/\d+\] run 1/1: atomic, 8 B items$`, r.stderr, "progress on standard error")
	assert.Regexp(t, `(?m)^\[\d+/\d+\] run 1/1: flock, 8 B items\n8 B items, 1 per call +flock `, r.stderr,
		"with --json, each row goes to standard error as soon as it is measured")

	r = runScb(t, dir, "", "bench", "--runs", "1", "--items", "2000")
	require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
	assert.Contains(t, r.stdout, "8 B items, 1 per call")
	assert.Contains(t, r.stdout, "÷pipe")
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	assert.Empty(t, entries, "nothing is left in the buffer directory")

	r = runScb(t, dir, "", "bench", "--runs", "1", "--items", "2000", "--only", "mpmc,1k")
	require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
	assert.Contains(t, r.stdout, "4 writers + 4 readers, 8 B")
	assert.Contains(t, r.stdout, "1 KiB items, 1 per call")
	assert.NotContains(t, r.stdout, "8 B items, 1 per call")

	for _, bad := range [][]string{{"--runs", "-1"}, {"--items", "-5"}, {"extra"}, {"--nope"}, {"--only", "small,nope"}} {
		r := runScb(t, dir, "", append([]string{"bench"}, bad...)...)
		assert.Equal(t, 2, r.code, "bench %v", bad)
		assert.Empty(t, r.stdout)
	}
}
