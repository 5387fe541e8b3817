package scb_test

// Remove: what it deletes and what it leaves, with glob characters in the
// directory, and concurrent Removes of one buffer. (Remove racing Create
// and the openers across processes, and Remove out of file descriptors,
// are in remove_races_unix_test.go; a call waiting on a removed buffer is
// in wait_test.go.)

import (
	"os"
	"path/filepath"
	"runtime"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// TestRemoveGlobCharactersInDir removes a buffer from a directory whose
// name has glob characters, beside a directory that the name, read as a
// pattern, matches. Remove once globbed for the lock files: it deleted the
// role lock files of the live buffer in the other directory (a second
// writer could then attach there) and left its own behind.
func TestRemoveGlobCharactersInDir(t *testing.T) {
	tests := []struct {
		dir, other string
	}{
		{"g[ab]", "ga"},
		{"g*", "gx"},
		{"g?", "gy"},
		{`g\a`, "ga"},
	}
	for _, tt := range tests {
		t.Run(tt.dir, func(t *testing.T) {
			if runtime.GOOS == "windows" && tt.dir != "g[ab]" {
				t.Skipf("Windows file names cannot hold %q", tt.dir)
			}
			root := t.TempDir()
			dir, other := filepath.Join(root, tt.dir), filepath.Join(root, tt.other)
			require.NoError(t, os.Mkdir(dir, 0o700))
			require.NoError(t, os.Mkdir(other, 0o700))
			live := create(t, "x", &scb.Options{Dir: other})
			w, err := scb.Create("x", &scb.Options{Dir: dir})
			require.NoError(t, err)
			require.NoError(t, w.Close())
			before := dirNames(t, other)

			require.NoError(t, scb.Remove("x", &scb.Options{Dir: dir}))
			assert.Empty(t, dirNames(t, dir), "Remove removes its own files")
			assert.Equal(t, before, dirNames(t, other), "and nothing in the other directory")
			_, err = scb.OpenWriter("x", &scb.Options{Dir: other})
			require.ErrorIs(t, err, scb.ErrBusy, "the other buffer's writer role is still its creator's")
			require.NoError(t, live.Push(1))
		})
	}
}

// TestConcurrentRemoves removes one buffer from several goroutines at once:
// exactly one Remove removes it, the others return ErrNotExist. Remove once
// let the losers' unlink error through as it was, which did not match
// ErrNotExist.
func TestConcurrentRemoves(t *testing.T) {
	skipOnWindows(t, "on Windows a Remove cannot delete the file another Remove holds open to delete it; the losers get ErrBusy, not ErrNotExist")
	needAtomic(t)
	o := newOpts(t, 0, 0)
	const n = 4
	for round := range sized(200, 50) {
		w, err := scb.Create("x", o)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		errs := make(chan error, n)
		for range n {
			go func() { errs <- scb.Remove("x", o) }()
		}
		removed := 0
		for range n {
			err := <-errs
			if err == nil {
				removed++
				continue
			}
			require.ErrorIs(t, err, scb.ErrNotExist, "round %d", round)
		}
		require.Equal(t, 1, removed, "round %d", round)
		require.Empty(t, dirNames(t, o.Dir), "round %d", round)
	}
}

// dirNames returns the names in dir, sorted.
func dirNames(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	names := []string{}
	for _, e := range entries {
		names = append(names, e.Name())
	}
	return names
}

// TestRemovedBuffersHoldersCleanUp: Remove leaves the role lock files that
// the attached handles hold (deleting a held one would let a second holder
// attach), and each handle deletes its own when it closes, once its buffer
// is gone from the name: nothing is left behind, whether the name is free
// or taken by a new buffer. A reader that called Remove itself once left
// NAME.scb.<id>.rlock behind for good.
func TestRemovedBuffersHoldersCleanUp(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows removes no buffer that a handle has open (TestLifecycle)")
	}
	needAtomic(t) // (the role lock files are the Atomic strategy's)
	for _, recreate := range []bool{false, true} {
		t.Run(map[bool]string{false: "name free", true: "name taken again"}[recreate], func(t *testing.T) {
			o := &scb.Options{Dir: t.TempDir()}
			w, err := scb.Create("x", o)
			require.NoError(t, err)
			r, err := scb.OpenReader("x", o)
			require.NoError(t, err)
			require.NoError(t, scb.Remove("x", o), "by a process that holds the reader role")
			assert.Len(t, dirNames(t, o.Dir), 2, "the held role lock files stay while they are held")
			var again *scb.Writer
			if recreate {
				again, err = scb.Create("x", o)
				require.NoError(t, err)
			}
			require.NoError(t, w.Close())
			require.NoError(t, r.Close())
			if recreate {
				require.NoError(t, again.Close())
				require.NoError(t, scb.Remove("x", o))
			}
			assert.Empty(t, dirNames(t, o.Dir), "each handle deleted its own")
		})
	}
}
