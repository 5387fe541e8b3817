package main

import (
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// succeeds runs the command, fails the test unless it succeeds, and
// returns its standard output and standard error.
func succeeds(t *testing.T, dir, stdin string, args ...string) (string, string) {
	t.Helper()
	r := runScb(t, dir, stdin, args...)
	require.Equal(t, 0, r.code, "scb %s: stderr:\n%s", strings.Join(args, " "), r.stderr)
	return r.stdout, r.stderr
}

// TestRecordReplay: record follows a broadcast buffer until its stream
// ends; replay puts the same items into another buffer, at a pace if
// asked, and ends its stream with --end.
func TestRecordReplay(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "tap.scbrec")
	ok(t, dir, "", "create", "tap", "--mode", "broadcast", "--length", "4096")
	rec := start(t, dir, "record", "tap", file)
	// A broadcast reader that attaches late starts at the oldest item the
	// buffer holds: with 4096 slots, record sees all 1000 whenever it
	// attaches, and then the end of the stream.
	ok(t, dir, counting(1, 1000), "push", "tap", "--end", "-")
	code, _ := rec.Exit()
	require.Equal(t, 0, code, "stderr:\n%s", rec.Stderr())
	assert.Contains(t, rec.Stderr(), `scb: record "tap": 1000 items, 0 missed`)

	for _, pace := range []string{"", "recorded", "100000"} {
		t.Run("pace="+pace, func(t *testing.T) {
			ok(t, dir, "", "create", "copy", "--length", "2048")
			defer ok(t, dir, "", "rm", "copy")
			args := []string{"replay", file, "copy", "--end"}
			if pace != "" {
				args = append(args, "--pace", pace)
			}
			_, stderr := succeeds(t, dir, "", args...)
			assert.Contains(t, stderr, `scb: replay "copy": 1000 items from `)
			assert.Equal(t, counting(1, 1000), ok(t, dir, "", "pop", "copy", "--follow"))
		})
	}
}

func TestRecordRefusesAQueueWithoutTake(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	ok(t, dir, "", "push", "jobs", "7", "--end")
	r := runScb(t, dir, "", "record", "jobs", filepath.Join(dir, "f"))
	assert.Equal(t, exitUsage, r.code)
	assert.Contains(t, r.stderr, `"jobs" is a Queue buffer`)
	assert.Contains(t, r.stderr, "--take")
	assert.Equal(t, "0\t7\n", ok(t, dir, "", "peek", "jobs", "--pos"), "nothing taken")

	_, stderr := succeeds(t, dir, "", "record", "jobs", filepath.Join(dir, "f"), "--take")
	assert.Contains(t, stderr, "1 items, 0 missed")
}

// TestReplayErrors: bad paces are usage errors; a damaged recording is an
// error that says where; one cut short is replayed up to the cut, with a
// warning.
func TestReplayErrors(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	file := filepath.Join(dir, "f")
	ok(t, dir, "", "create", "q")
	ok(t, dir, "", "push", "q", "1", "2", "3", "--end")
	succeeds(t, dir, "", "record", "q", file, "--take")
	good, err := os.ReadFile(file)
	require.NoError(t, err)

	for _, pace := range []string{"fast", "0", "-5", "NaN"} {
		r := runScb(t, dir, "", "replay", file, "q", "--pace", pace)
		assert.Equal(t, exitUsage, r.code, "--pace %s", pace)
		assert.Contains(t, r.stderr, "want recorded, or a number of items a second")
	}

	damaged := filepath.Join(dir, "damaged")
	b := append([]byte(nil), good...)
	b[len(b)-14] ^= 0xff // inside the data block
	require.NoError(t, os.WriteFile(damaged, b, 0o644))
	r := runScb(t, dir, "", "replay", damaged, "q")
	assert.Equal(t, exitError, r.code)
	assert.Contains(t, r.stderr, "not a valid recording: at byte ")
	assert.Contains(t, r.stderr, "checksum mismatch")

	cut := filepath.Join(dir, "cut")
	require.NoError(t, os.WriteFile(cut, good[:len(good)-11], 0o644)) // no end block
	r = runScb(t, dir, "", "replay", cut, "q")
	assert.Equal(t, 0, r.code, r.stderr)
	assert.Contains(t, r.stderr, "recording cut short")
	assert.Contains(t, r.stderr, "replayed the 3 items before the cut")
	assert.Equal(t, "1\n2\n3\n", ok(t, dir, "", "pop", "q", "-n", "5"))

	r = runScb(t, dir, "", "replay", filepath.Join(dir, "none"), "q")
	assert.Equal(t, exitError, r.code)
	r = runScb(t, dir, "", "replay", file, "nosuch")
	assert.Equal(t, exitError, r.code)
	assert.Contains(t, r.stderr, "does not exist")
}

// TestRecordSpin: record --spin polls instead of sleeping (Linux, where
// Stat counts sleepers), and still stops at the end of the stream and at
// Ctrl-C. Not in parallel: a spinning recorder keeps a core busy, and
// under emulation the parallel tests' own spinning processes (scb bench's
// bare loops) need both cores.
func TestRecordSpin(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "tap.scbrec")
	ok(t, dir, "", "create", "tap", "--mode", "broadcast", "--length", "4096")
	rec := start(t, dir, "record", "tap", file, "--spin")
	ok(t, dir, counting(1, 1000), "push", "tap", "--end", "-")
	code, _ := rec.Exit()
	require.Equal(t, 0, code, "stderr:\n%s", rec.Stderr())
	assert.Contains(t, rec.Stderr(), `scb: record "tap": 1000 items, 0 missed`)

	if runtime.GOOS != "linux" {
		t.Skip("polling and Ctrl-C: this test counts sleepers with Stat, which Linux and Windows do, and signals record, which Windows cannot")
	}
	ok(t, dir, "", "create", "idle", "--mode", "broadcast")
	rec = start(t, dir, "record", "idle", filepath.Join(dir, "idle.scbrec"), "--spin")
	deadline := time.Now().Add(procTimeout)
	for {
		info, err := scb.Stat("idle", &scb.Options{Dir: dir})
		require.NoError(t, err)
		if info.ReaderPid != 0 || len(info.Holders) > 0 {
			break
		}
		require.True(t, time.Now().Before(deadline), "record did not attach within %v", procTimeout)
		time.Sleep(time.Millisecond)
	}
	// It polls: never asleep in the kernel, over several idle flushes
	// (50 ms) and spin checks (100 ms). Without --spin it sleeps within
	// microseconds.
	for end := time.Now().Add(300 * time.Millisecond); time.Now().Before(end); time.Sleep(time.Millisecond) {
		info, err := scb.Stat("idle", &scb.Options{Dir: dir})
		require.NoError(t, err)
		require.Zero(t, info.ReadersWaiting, "record --spin went to sleep")
	}
	require.NoError(t, rec.Cmd.Process.Signal(os.Interrupt))
	code, _ = rec.Exit()
	require.Equal(t, 0, code, "Ctrl-C ends a spinning record cleanly; stderr:\n%s", rec.Stderr())
	assert.Contains(t, rec.Stderr(), `scb: record "idle": 0 items, 0 missed`)
}
