//go:build linux || windows

package platform_test

import (
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb/internal/platform"
)

// TestHolderHeldTakesNothing: asking whether a slot's byte is held leaves
// every lock as it was, a lock the asking file itself holds included (the
// question once took and dropped a lock, which dropped the asker's own),
// and says held only of another file's lock.
func TestHolderHeldTakesNothing(t *testing.T) {
	path := filepath.Join(t.TempDir(), "f")
	require.NoError(t, os.WriteFile(path, []byte("x"), 0o600))
	open := func() *os.File {
		f, err := os.OpenFile(path, os.O_RDWR, 0)
		require.NoError(t, err)
		t.Cleanup(func() { f.Close() })
		return f
	}
	a, b := open(), open()
	ok, err := platform.LockHolder(a.Fd(), 7)
	require.NoError(t, err)
	require.True(t, ok)

	held, err := platform.HolderHeld(b.Fd(), 7)
	require.NoError(t, err)
	assert.True(t, held, "another file's lock")
	held, err = platform.HolderHeld(b.Fd(), 8)
	require.NoError(t, err)
	assert.False(t, held, "nobody's")

	_, err = platform.HolderHeld(a.Fd(), 7) // a asks about its own lock
	require.NoError(t, err)
	ok, err = platform.LockHolder(b.Fd(), 7)
	require.NoError(t, err)
	assert.False(t, ok, "a's lock survived its own question")
	ok, err = platform.LockHolder(b.Fd(), 8)
	require.NoError(t, err)
	assert.True(t, ok, "asking took nothing")
}
