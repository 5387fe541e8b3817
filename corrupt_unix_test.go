//go:build unix

package scb_test

// Buffer files damaged while they are mapped: truncated (the writer dies of
// SIGBUS, as the docs say), zeroed or replaced under open handles.

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("push-forever", childPushForever)
}

// childPushForever pushes to a Broadcast buffer until it dies.
func childPushForever(ctx context.Context, name string, o *scb.Options) error {
	w, err := ready(name, o, scb.OpenWriter)
	if err != nil {
		return err
	}
	for i := uint64(0); ctx.Err() == nil; i++ {
		if err := w.Push(i); err != nil {
			return err
		}
	}
	return ctx.Err()
}

// TestTruncatedWhileMapped truncates a buffer file under a process that is
// writing to it. What happens is documented, not prevented (no file system
// lets scb forbid it): that process dies of SIGBUS the next time it touches
// a page past the new end. The file is then refused by every opener with
// ErrCorrupt, and Remove cleans it up.
func TestTruncatedWhileMapped(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Mode: scb.Broadcast}
		w, err := scb.Create("t", o)
		skipUnsupported(t, err)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		// No traceback: a second fault while the runtime walks the stacks
		// of a process whose mapping vanished can leave it hanging (seen
		// once under -race) instead of dying.
		c := startChildWith(t, "push-forever", map[string]string{"DIR": o.Dir, "NAME": "t"}, func(cmd *exec.Cmd) {
			cmd.Env = append(cmd.Env, "GOTRACEBACK=none")
		})
		c.Expect("ready")
		path := filepath.Join(o.Dir, "t.scb")
		require.NoError(t, os.Truncate(path, 100))

		_, err2 := c.Result()
		var ee *exec.ExitError
		require.ErrorAs(t, err2, &ee, "the writer survived the truncation; the docs say it dies of SIGBUS")
		// The runtime says "unexpected fault address" and usually, but
		// not always (a fault during its own traceback cuts it short),
		// "signal SIGBUS". The header page stays mapped (the file keeps
		// its first 100 bytes, and the rest of that page reads as zeros),
		// so a writer that comes to publish before it touches a slot finds
		// its cursor gone back to 0 and reports the damage instead (seen
		// under qemu, whose emulation widens that window).
		assert.Regexp(t, `SIGBUS|unexpected fault address|corrupt.*write cursor went back`, c.Stderr(),
			"the writer died of a memory fault or reported the damage")

		for _, ep := range entryPoints[1:4] {
			err := ep.do("t", at(o))
			require.ErrorIs(t, err, scb.ErrCorrupt, ep.name)
		}
		require.NoError(t, scb.Remove("t", at(o)))
	})
}

// TestZeroedWhileOpen truncates a buffer file to nothing and extends it
// back to its size while handles have it mapped (as a careless "> file"
// then a copy would): the pages read as zeros. An Atomic reader, which
// keeps its own cursor, reports ErrCorrupt when it sees the write cursor
// went back; Flock handles, which check the header's magic under every
// lock, report ErrCorrupt too, and so does an Atomic writer, whose publish
// finds its cursor gone. New openers refuse the file (bad magic).
func TestZeroedWhileOpen(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s}
		w := create(t, "z", o)
		r := openReader(t, "z", at(o))
		for i := range 3 {
			require.NoError(t, w.Push(uint64(i)))
		}
		_, err := r.PopMany(3)
		require.NoError(t, err)
		path := filepath.Join(o.Dir, "z.scb")
		fi, err := os.Stat(path)
		require.NoError(t, err)
		require.NoError(t, os.Truncate(path, 0))
		require.NoError(t, os.Truncate(path, fi.Size()))

		_, err = r.Pop()
		require.ErrorIs(t, err, scb.ErrCorrupt)
		// A Flock writer checks the magic under its lock; an Atomic writer
		// finds its cursor gone when it publishes.
		require.ErrorIs(t, w.Push(9), scb.ErrCorrupt, "the writer notices too")
		_, err = scb.OpenReader("z", at(o))
		require.ErrorIs(t, err, scb.ErrCorrupt)
		assert.Contains(t, err.Error(), "magic")
	})
}

// TestReplacedWhileOpen renames another buffer file over a buffer's name
// while a writer has it open. The writer keeps writing to the file it
// mapped, which nobody can open any more; new openers get the new file.
// (Remove then Create does the same, on purpose; this is why a buffer must
// not be replaced under running processes.)
func TestReplacedWhileOpen(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir()}
	w := create(t, "r", o)
	require.NoError(t, w.Push(1))
	other := &scb.Options{Dir: t.TempDir(), Length: 4}
	w2, err := scb.Create("r", other)
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w2.Push(100))
	require.NoError(t, w2.Close())
	require.NoError(t, os.Rename(filepath.Join(other.Dir, "r.scb"), filepath.Join(o.Dir, "r.scb")))

	require.NoError(t, w.Push(2), "the old writer carries on, on the old file")
	r, err := scb.OpenReader("r", at(o))
	require.NoError(t, err)
	defer r.Close()
	assert.Equal(t, 4, r.Cap(), "a new reader opens the new file")
	v, err := r.Pop()
	require.NoError(t, err)
	assert.Equal(t, uint64(100), v)
	_, err = r.Pop()
	require.ErrorIs(t, err, scb.ErrEmpty, "and never sees the old writer's items")
}

// TestZeroedWithBacklog zeroes a buffer while an Atomic reader knows of
// items it has not read yet: it must not hand out the zeroed slots as
// empty items (it once returned four zeros before noticing).
func TestZeroedWithBacklog(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		for _, fixed := range []bool{false, true} {
			// fresh: the reader has read nothing, so its copy of the
			// read cursor is the 0 that the zeroed file has too.
			for _, fresh := range []bool{false, true} {
				t.Run(fmt.Sprintf("fixed=%v/fresh=%v", fixed, fresh), func(t *testing.T) {
					o := &scb.Options{Dir: t.TempDir(), Strategy: s, FixedSize: fixed}
					w := create(t, "z", o)
					for i := range 5 {
						require.NoError(t, w.Push(uint64(i+1)))
					}
					r := openReader(t, "z", at(o))
					if !fresh {
						v, err := r.Pop()
						require.NoError(t, err)
						require.Equal(t, uint64(1), v)
					}
					path := filepath.Join(o.Dir, "z.scb")
					fi, err := os.Stat(path)
					require.NoError(t, err)
					require.NoError(t, os.Truncate(path, 0))
					require.NoError(t, os.Truncate(path, fi.Size()))
					for range 4 {
						v, err := r.Pop()
						require.ErrorIs(t, err, scb.ErrCorrupt, "read %d", v)
					}
					vs := make([]uint64, 4)
					n, err := r.PopInto(vs)
					require.ErrorIs(t, err, scb.ErrCorrupt, "read %v", vs[:n])
					_, err = r.PopBytes(make([]byte, 8))
					require.ErrorIs(t, err, scb.ErrCorrupt)
					_, err = r.Peek()
					require.ErrorIs(t, err, scb.ErrCorrupt)
				})
			}
		}
	})
}
