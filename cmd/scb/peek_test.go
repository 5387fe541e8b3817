package main

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// TestPeek: peek prints the next items without consuming them, while an
// Atomic queue's one reader holds its role, and says empty as pop does.
func TestPeek(t *testing.T) {
	t.Parallel()
	dir := t.TempDir()
	ok(t, dir, "", "create", "jobs")
	ok(t, dir, "", "push", "jobs", "5", "6", "7")
	r, err := scb.OpenReader("jobs", &scb.Options{Dir: dir}) // the one reader
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, "5\n", ok(t, dir, "", "peek", "jobs"))
	assert.Equal(t, "0\t5\n1\t6\n", ok(t, dir, "", "peek", "jobs", "-n", "2", "--pos"))
	assert.Equal(t, "5\n6\n7\n", ok(t, dir, "", "peek", "jobs", "-n", "10"), "nothing consumed")
	v, err := r.Pop()
	require.NoError(t, err)
	assert.EqualValues(t, 5, v, "the reader reads what peek showed")
	assert.Equal(t, "2\t7\n", ok(t, dir, "", "peek", "jobs", "-n", "2", "--pos")[len("1\t6\n"):])
	for range 2 {
		_, err := r.Pop()
		require.NoError(t, err)
	}
	res := runScb(t, dir, "", "peek", "jobs")
	assert.Equal(t, exitEmpty, res.code)
	assert.Empty(t, res.stdout)

	ok(t, dir, "", "create", "lines", "--item-size", "16", "--mode", "broadcast")
	ok(t, dir, "a\nbbbbbbbbbbbb\n", "push", "--bytes", "lines")
	assert.Equal(t, "a\nbbbbbbbbbbbb\n", ok(t, dir, "", "peek", "--bytes", "lines", "-n", "5"))
	assert.Equal(t, "97\n", ok(t, dir, "", "peek", "lines"), "one byte holds an integer")
	res = runScb(t, dir, "", "peek", "lines", "-n", "2")
	assert.Equal(t, 1, res.code)
	assert.Contains(t, res.stderr, "read it with --bytes")
}
