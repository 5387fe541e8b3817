package scb_test

// A buffer's life: Create, the handles' accessors and Close, Stat, List
// and Remove, the default directory, and re-creating a removed buffer.

import (
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestCreateExistingFails(t *testing.T) {
	o := newOpts(t, 0, 0)
	create(t, "jobs", o)
	_, err := scb.Create("jobs", o)
	require.ErrorIs(t, err, scb.ErrExist)
	assert.ErrorIs(t, err, fs.ErrExist)
	assert.Contains(t, err.Error(), `scb: create "jobs": buffer already exists`)
}

func TestAccessorsAndClose(t *testing.T) {
	o := newOpts(t, 0, 0)
	o.Length = 10
	o.ItemSize = 24
	w := create(t, "acc", o)
	r := openReader(t, "acc", at(o))
	for _, h := range []interface {
		Cap() int
		ItemSize() int
		Name() string
		Len() int
		Close() error
	}{w, r} {
		assert.Equal(t, 10, h.Cap())
		assert.Equal(t, 24, h.ItemSize())
		assert.Equal(t, "acc", h.Name())
		require.NoError(t, h.Close())
		assert.Equal(t, 0, h.Len())
		assert.Equal(t, 10, h.Cap(), "still answers after Close")
	}
	info, err := scb.Stat("acc", o)
	require.NoError(t, err, "Close does not delete the buffer")
	assert.Equal(t, "acc", info.Name)
}

func TestStatListRemove(t *testing.T) {
	dir := t.TempDir()
	w := create(t, "a", &scb.Options{Dir: dir, Length: 4, ItemSize: 16, Perm: 0o640})
	create(t, "b", &scb.Options{Dir: dir, Mode: scb.Broadcast, Strategy: scb.Flock})
	r := openReader(t, "a", &scb.Options{Dir: dir})
	require.NoError(t, w.Push(1))
	require.NoError(t, w.Push(2))
	_, err := r.Pop()
	require.NoError(t, err)

	info, err := scb.Stat("a", &scb.Options{Dir: dir})
	require.NoError(t, err)
	assert.Equal(t, "a", info.Name)
	assert.Equal(t, filepath.Join(dir, "a.scb"), info.Path)
	assert.Equal(t, 4, info.Length)
	assert.Equal(t, 16, info.ItemSize)
	assert.Equal(t, scb.Atomic, info.Strategy)
	assert.Equal(t, scb.Queue, info.Mode)
	assert.Equal(t, uint64(2), info.Written)
	assert.Equal(t, uint64(1), info.Consumed)
	assert.Equal(t, 1, info.Unread)
	if runtime.GOOS == "windows" {
		// Windows files have no Unix modes, only a read-only attribute,
		// which a buffer never has: Go reports them as 0o666.
		assert.Equal(t, fs.FileMode(0o666), info.Perm)
	} else {
		assert.Equal(t, fs.FileMode(0o640), info.Perm, "Perm is applied exactly")
	}
	assert.WithinDuration(t, time.Now(), info.Created, time.Minute)
	fi, err := os.Stat(info.Path)
	require.NoError(t, err)
	assert.Equal(t, fi.Size(), info.Size)

	require.NoError(t, os.WriteFile(filepath.Join(dir, "bad.scb"), []byte("nope"), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("ignored"), 0o600))
	infos, err := scb.List(dir)
	require.ErrorIs(t, err, scb.ErrCorrupt, "the unreadable file is reported")
	assert.Contains(t, err.Error(), `"bad"`)
	require.Len(t, infos, 2)
	assert.Equal(t, "a", infos[0].Name)
	assert.Equal(t, "b", infos[1].Name)
	assert.Equal(t, scb.Flock, infos[1].Strategy)
	assert.Equal(t, scb.Broadcast, infos[1].Mode)

	if runtime.GOOS == "windows" {
		// Windows cannot delete a mapped file, nor a role lock file that
		// is held: Remove refuses while a handle is attached, and deletes
		// nothing.
		require.ErrorIs(t, scb.Remove("a", &scb.Options{Dir: dir}), scb.ErrBusy)
		left, err := filepath.Glob(filepath.Join(dir, "a.scb*"))
		require.NoError(t, err)
		assert.Len(t, left, 3, "the buffer and both lock files are still there")
		_, err = scb.Stat("a", &scb.Options{Dir: dir})
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, r.Close())
	}
	require.NoError(t, scb.Remove("a", &scb.Options{Dir: dir}))
	_, err = scb.Stat("a", &scb.Options{Dir: dir})
	require.ErrorIs(t, err, scb.ErrNotExist)
	if runtime.GOOS != "windows" {
		require.NoError(t, w.Push(3), "a removed buffer stays usable by those who have it open")
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(2), v)
	}
	left, err := filepath.Glob(filepath.Join(dir, "a.scb*"))
	require.NoError(t, err)
	if runtime.GOOS != "windows" { // (there w and r were closed before Remove)
		assert.Len(t, left, 2, "the role lock files that w and r hold stay while they do")
	}

	w2, err := scb.Create("a", &scb.Options{Dir: dir})
	require.NoError(t, err, "the name is free again")
	require.NoError(t, w2.Close())
	require.NoError(t, w.Close())
	require.NoError(t, r.Close())
	require.NoError(t, scb.Remove("a", &scb.Options{Dir: dir}))
	left, err = filepath.Glob(filepath.Join(dir, "a.scb*"))
	require.NoError(t, err)
	assert.Empty(t, left, "once they are free, a later Remove removes them too")
}

func TestDefaultDir(t *testing.T) {
	dir := t.TempDir()
	t.Setenv("SCB_DIR", dir)
	assert.Equal(t, dir, scb.DefaultDir())
	create(t, "env", nil)
	_, err := os.Stat(filepath.Join(dir, "env.scb"))
	require.NoError(t, err, "nil Options use DefaultDir")

	t.Setenv("SCB_DIR", "")
	d := scb.DefaultDir()
	if fi, err := os.Stat("/dev/shm"); err == nil && fi.IsDir() && isLinux() {
		assert.Equal(t, "/dev/shm", d)
	} else {
		assert.Equal(t, os.TempDir(), d)
	}
}

// TestRecreateWhileOldWriterAttached removes a buffer whose writer is still
// attached and creates it again: the new buffer's roles are its own (its
// lock files are named after its header's id), so its writer role is taken
// by its creator and then free, whatever the old writer does.
func TestRecreateWhileOldWriterAttached(t *testing.T) {
	if runtime.GOOS == "windows" {
		t.Skip("Windows cannot remove a buffer while a handle has it open (Remove reports ErrBusy, as TestStatListRemove checks)")
	}
	o := newOpts(t, scb.Atomic, scb.Queue)
	old := create(t, "x", o)
	require.NoError(t, scb.Remove("x", at(o)))
	require.NoError(t, old.Push(1), "the old writer still works on the removed buffer")

	w, err := scb.Create("x", at(o))
	require.NoError(t, err)
	_, err = scb.OpenWriter("x", at(o))
	require.ErrorIs(t, err, scb.ErrBusy, "the new buffer's writer role is its creator's")
	require.NoError(t, w.Close())
	w2, err := scb.OpenWriter("x", at(o))
	require.NoError(t, err, "and free once it closes, though the old writer lives on")
	require.NoError(t, w2.Push(2))
	require.NoError(t, w2.Close())

	r := openReader(t, "x", at(o))
	got, err := r.PopMany(10)
	require.NoError(t, err)
	assert.Equal(t, []uint64{2}, got, "the old writer's item went to the removed buffer")
	require.NoError(t, old.Close())
	require.NoError(t, r.Close())
	require.NoError(t, scb.Remove("x", at(o)))
	left, err := os.ReadDir(o.Dir)
	require.NoError(t, err)
	assert.Empty(t, left, "Remove leaves nothing, lock files of earlier buffers included")
}
