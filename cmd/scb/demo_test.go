package main

import (
	"context"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb/scbtest"
)

// TestDemoKilled kills a running demo the way nothing can catch (SIGKILL;
// TerminateProcess on Windows): its consumer process dies with it, and the
// next demo removes the directory the killed one left.
func TestDemoKilled(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	demo := start(t, dir, "demo", "--items", "2000000000")

	// The progress line comes once the consumer is attached and running.
	consumer := 0
	progress := regexp.MustCompile(`streaming \d+ items to the consumer \(pid (\d+)\)`)
	deadline := time.Now().Add(procTimeout)
	for consumer == 0 {
		if m := progress.FindStringSubmatch(demo.Stderr()); m != nil {
			consumer, _ = strconv.Atoi(m[1])
			break
		}
		require.True(t, time.Now().Before(deadline), "no progress line within %v; stderr:\n%s", procTimeout, demo.Stderr())
		time.Sleep(5 * time.Millisecond)
	}
	t.Cleanup(func() {
		// Should the consumer outlive the test, do not leave it running.
		if p, err := os.FindProcess(consumer); err == nil {
			p.Kill()
		}
	})
	require.False(t, processExited(consumer), "the consumer runs")

	// Another demo leaves a running demo's directory alone.
	live := demoLeftovers(t, dir)
	require.Len(t, live, 2, "the running demo's directory and lock file")
	r := runScb(t, dir, "", "demo", "--items", "1000", "--round-trips", "10")
	require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
	assert.NotContains(t, r.stderr, "removed")
	assert.Equal(t, live, demoLeftovers(t, dir))

	demo.Kill()
	const within = 10 * time.Second
	deadline = time.Now().Add(within)
	for !processExited(consumer) {
		require.True(t, time.Now().Before(deadline), "the consumer (pid %d) still runs %v after the demo was killed", consumer, within)
		time.Sleep(5 * time.Millisecond)
	}

	left := demoLeftovers(t, dir)
	require.NotEmpty(t, left, "the killed demo leaves its directory")

	r = runScb(t, dir, "", "demo", "--items", "1000", "--round-trips", "10")
	require.Equal(t, 0, r.code, "stderr:\n%s", r.stderr)
	for _, name := range left {
		if !strings.HasSuffix(name, ".lock") {
			assert.Contains(t, r.stderr, "scb demo: removed "+filepath.Join(dir, name)+", left by a demo that is no longer running\n")
		}
	}
	assert.Empty(t, demoLeftovers(t, dir), "the next demo removed what the killed one left")
}

// demoLeftovers lists the entries of dir.
func demoLeftovers(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestDemoConsumerParent checks how the consumer watches the demo that
// started it (here, the test): it refuses to start for a parent that is
// not its own, and exits once its standard input, a pipe only the parent
// holds open, reaches EOF, as it does when the parent dies (the only
// warning it gets on systems without Linux's parent-death signal).
func TestDemoConsumerParent(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	for _, name := range []string{"stream", "ping", "pong"} {
		ok(t, dir, "", "create", name)
	}
	other := strconv.Itoa(os.Getpid() + 1)
	r := runScb(t, dir, "", "demo-consumer", "--items", "1", "--round-trips", "1", "--parent", other)
	assert.Equal(t, result{stderr: "scb: the demo (pid " + other + ") is not running\n", code: 1}, r)

	ctx, cancel := context.WithTimeout(context.Background(), procTimeout)
	t.Cleanup(cancel)
	var stdin io.WriteCloser
	consumer := scbtest.StartCmd(t, func() *exec.Cmd {
		cmd := newCmd(ctx, dir, "demo-consumer", "--items", "1", "--round-trips", "1", "--parent", strconv.Itoa(os.Getpid()))
		var err error
		stdin, err = cmd.StdinPipe()
		require.NoError(t, err)
		return cmd
	})
	consumer.Expect("ready") // and waits for the stream's first item
	require.NoError(t, stdin.Close())
	code, rest := consumer.Exit()
	assert.Equal(t, 1, code)
	assert.Empty(t, rest)
	assert.Equal(t, "scb demo-consumer: the demo (pid "+strconv.Itoa(os.Getpid())+") exited\n", consumer.Stderr())
}

// TestDemoDirs checks the demo directories' locks in one process (flock
// locks, like Windows' file locks, belong to an open file, not to a
// process): a held directory is left alone, a released one is removed, and
// so is a lock file without its directory.
func TestDemoDirs(t *testing.T) {
	t.Parallel()
	parent := t.TempDir()
	a, err := makeDemoDir(parent)
	require.NoError(t, err)
	b, err := makeDemoDir(parent)
	require.NoError(t, err)
	assert.NotEqual(t, a.path, b.path)
	assert.Regexp(t, `^scb-demo-`+strconv.Itoa(os.Getpid())+`-[0-9a-f]{8}$`, filepath.Base(a.path))
	require.NoError(t, os.WriteFile(filepath.Join(a.path, "stream.scb"), []byte("x"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "scb-demo-1-00000000.lock"), nil, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(parent, "other.lock"), nil, 0o600))

	assert.Empty(t, removeStaleDemoDirs(parent), "a lock file alone is removed, but not reported")
	assert.Len(t, demoLeftovers(t, parent), 5, "two held directories, their lock files, and other.lock")

	require.NoError(t, a.lock.Close()) // as when its demo is killed
	assert.Equal(t, []string{a.path}, removeStaleDemoDirs(parent))
	assert.ElementsMatch(t, []string{filepath.Base(b.path), filepath.Base(b.path) + ".lock", "other.lock"}, demoLeftovers(t, parent))

	require.NoError(t, b.remove())
	assert.Equal(t, []string{"other.lock"}, demoLeftovers(t, parent))
}
