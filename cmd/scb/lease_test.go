package main

import (
	"encoding/json"
	"fmt"
	"os"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/platform"
)

// needLeases skips a test of Flock leases where there are no holder locks
// (macOS, the BSDs; the library's tests check that Take says so).
func needLeases(t *testing.T) {
	if !platform.HolderLocks {
		t.Skip("no holder locks on this platform: Flock readers take without leases")
	}
}

// TestPopLease: pop --lease acknowledges an item once it is written out,
// or once the command after -- succeeds (here scb itself, pushing the
// item into another buffer), and gives it back when the command fails.
func TestPopLease(t *testing.T) {
	needLeases(t)
	dir := t.TempDir()
	ok(t, dir, "", "create", "q", "--strategy", "flock")
	ok(t, dir, "", "create", "out")
	ok(t, dir, "1\n2\n3\n4\n", "push", "q", "-")

	assert.Equal(t, "1\n", ok(t, dir, "", "pop", "q", "--lease"))

	ok(t, dir, "", "pop", "q", "--lease", "-n", "2", "--", scbPath, "push", "out", "-")
	assert.Equal(t, "2\n3\n", ok(t, dir, "", "pop", "out", "-n", "10"), "the command got each item on its standard input")

	r := runScb(t, dir, "", "pop", "q", "--lease", "--", scbPath, "push", "nowhere", "-")
	assert.Equal(t, 1, r.code)
	assert.Contains(t, r.stderr, "given back")
	assert.Equal(t, "4\n", ok(t, dir, "", "pop", "q"), "the item the command failed on is still there")

	r = runScb(t, dir, "", "pop", "q", "--", scbPath)
	assert.Equal(t, 2, r.code)
	require.Contains(t, r.stderr, "needs --lease")
}

// TestStatLeases: stat shows the items taken, those given back, and the
// leases outstanding by holder, in its table and its JSON.
func TestStatLeases(t *testing.T) {
	needLeases(t)
	dir := t.TempDir()
	ok(t, dir, "", "create", "q", "--strategy", "flock")
	ok(t, dir, "", "push", "q", "1", "2", "3", "4")
	assert.Contains(t, ok(t, dir, "", "stat", "q"), "leases     none")

	var held []scb.Lease
	for _, n := range []int{2, 1} {
		r, err := scb.OpenReader("q", &scb.Options{Dir: dir})
		require.NoError(t, err)
		t.Cleanup(func() { r.Close() })
		for range n {
			_, l, err := r.Take()
			require.NoError(t, err)
			held = append(held, l)
		}
	}
	require.NoError(t, held[0].GiveBack())

	out := ok(t, dir, "", "stat", "q")
	assert.Contains(t, out, "taken      3 (1 given back, to be taken again first)")
	assert.Regexp(t, `leases     2: holder \d+ has 1; holder \d+ has 1\n`, out)
	if runtime.GOOS == "linux" || runtime.GOOS == "windows" {
		assert.Contains(t, out, "holders    0 writers, 2 readers\n")
		assert.Regexp(t, fmt.Sprintf(`  #\d+ +reader, pid %d, since [^,]+, 1 lease\n`, os.Getpid()), out)
	}

	var info struct {
		Taken    int            `json:"taken"`
		Returned int            `json:"returned"`
		Leases   map[string]int `json:"leases"`
	}
	require.NoError(t, json.Unmarshal([]byte(ok(t, dir, "", "stat", "q", "--json")), &info))
	assert.Equal(t, 3, info.Taken)
	assert.Equal(t, 1, info.Returned)
	assert.Len(t, info.Leases, 2)
}
