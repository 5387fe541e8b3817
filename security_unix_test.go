//go:build unix

package scb_test

// Security: the permission of the files Create makes, symbolic links, and
// files planted by another user in a shared directory such as /dev/shm.

import (
	"context"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"strconv"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"golang.org/x/sys/unix"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("create-umask", childCreateUmask)
}

// childCreateUmask sets the umask to UMASK, creates a buffer with Perm
// PERM and the strategy and mode given, opens a reader, and exits.
func childCreateUmask(_ context.Context, name string, o *scb.Options) error {
	unix.Umask(int(paramInt("UMASK")))
	o.Perm = fs.FileMode(paramInt("PERM"))
	o.Strategy = scb.Strategy(paramInt("STRATEGY"))
	o.Mode = scb.Mode(paramInt("MODE"))
	w, err := scb.Create(name, o)
	if err != nil {
		return err
	}
	defer w.Close()
	r, err := scb.OpenReader(name, &scb.Options{Dir: o.Dir})
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("ok")
	return nil
}

// TestCreatePermissions checks that every file Create makes (the buffer and
// the role lock files) has exactly Options.Perm, 0600 by default, whatever
// the creator's umask, so that a group given access can take every role.
// The creator runs in a child process with a umask of 077.
func TestCreatePermissions(t *testing.T) {
	needAtomic(t, "create-umask")
	tests := []struct {
		perm, want fs.FileMode
	}{
		{0, 0o600},
		{0o640, 0o640},
		{0o660, 0o660},
		{0o666, 0o666},
		{fs.ModeSetuid | 0o755, 0o755}, // only permission bits are used
	}
	for _, tt := range tests {
		for _, s := range strategies {
			for _, m := range modes {
				t.Run(fmt.Sprintf("%v/%v/%v", tt.perm, s, m), func(t *testing.T) {
					dir := t.TempDir()
					c := startChild(t, "create-umask", map[string]string{"DIR": dir, "NAME": "p",
						"UMASK": "0o077", "PERM": strconv.Itoa(int(tt.perm)),
						"STRATEGY": strconv.Itoa(int(s)), "MODE": strconv.Itoa(int(m))})
					c.Expect("ok")
					c.Wait()
					entries, err := os.ReadDir(dir)
					require.NoError(t, err)
					require.NotEmpty(t, entries)
					for _, e := range entries {
						fi, err := e.Info()
						require.NoError(t, err)
						assert.Equal(t, tt.want, fi.Mode(), "mode of %s", e.Name())
					}
				})
			}
		}
	}
}

// TestSymlinksRefused plants symbolic links where scb expects its files.
// A link with the buffer's name is refused by every opener (ErrUntrusted)
// and by Remove; a link with a lock file's name is refused (its target is
// never created); Create never follows one.
func TestSymlinksRefused(t *testing.T) {
	dir := t.TempDir()
	elsewhere := t.TempDir()
	o := &scb.Options{Dir: dir}
	w, err := scb.Create("real", &scb.Options{Dir: elsewhere, Length: 2})
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "real.scb"), filepath.Join(dir, "link.scb")))
	require.NoError(t, os.Symlink(filepath.Join(elsewhere, "absent"), filepath.Join(dir, "dangling.scb")))
	before := snapshot(t, dir)
	beforeElsewhere := snapshot(t, elsewhere)

	for _, name := range []string{"link", "dangling"} {
		for _, ep := range entryPoints[1:4] {
			err := ep.do(name, o)
			require.ErrorIs(t, err, scb.ErrUntrusted, "%s %s", ep.name, name)
			assert.ErrorIs(t, err, fs.ErrPermission)
			assert.Contains(t, err.Error(), "symbolic link")
		}
		_, err := scb.Create(name, o)
		skipUnsupported(t, err)
		require.ErrorIs(t, err, scb.ErrExist, "Create %s", name)
		err = scb.Remove(name, o)
		require.ErrorIs(t, err, scb.ErrCorrupt, "Remove does not delete what is not a buffer file")
	}
	assertUnchanged(t, dir, before)
	assertUnchanged(t, elsewhere, beforeElsewhere, "nothing reached through a link")

	// Role lock files.
	for _, ext := range []string{".wlock", ".rlock"} {
		t.Run(ext, func(t *testing.T) {
			dir, lock := withoutLockFile(t, "q", ext)
			o := &scb.Options{Dir: dir}
			target := filepath.Join(elsewhere, "planted"+ext)
			require.NoError(t, os.Symlink(target, lock))
			_, werr := scb.OpenWriter("q", o)
			_, rerr := scb.OpenReader("q", o)
			for _, err := range []error{werr, rerr} {
				require.ErrorIs(t, err, scb.ErrUntrusted)
			}
			_, err = os.Lstat(target)
			assert.ErrorIs(t, err, fs.ErrNotExist, "the link's target was not created")
		})
	}
}

// TestOtherOwnerRefused chowns a buffer to another user (nobody) and checks
// that in a sticky world-writable directory, like /dev/shm, the openers
// refuse it unless Options.AllowOtherOwner is set, while Stat, which only
// reads, describes it. In an ordinary directory the owner does not matter.
// It needs root, to give a file away.
func TestOtherOwnerRefused(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to chown a file to another user")
	}
	const nobody = 65534
	for _, sticky := range []bool{true, false} {
		for _, s := range strategies {
			t.Run(fmt.Sprintf("sticky=%v/%v", sticky, s), func(t *testing.T) {
				dir := filepath.Join(t.TempDir(), "shm")
				require.NoError(t, os.Mkdir(dir, 0o700))
				if sticky {
					require.NoError(t, os.Chmod(dir, 0o777|fs.ModeSticky))
				} else {
					require.NoError(t, os.Chmod(dir, 0o777))
				}
				o := &scb.Options{Dir: dir, Strategy: s}
				w, err := scb.Create("planted", o)
				skipUnsupported(t, err)
				require.NoError(t, err)
				require.NoError(t, w.Push(7))
				require.NoError(t, w.Close())
				entries, err := os.ReadDir(dir)
				require.NoError(t, err)
				for _, e := range entries {
					require.NoError(t, os.Lchown(filepath.Join(dir, e.Name()), nobody, nobody))
				}
				before := snapshot(t, dir)

				ow, werr := scb.OpenWriter("planted", at(o))
				or, rerr := scb.OpenReader("planted", at(o))
				if sticky {
					for _, err := range []error{werr, rerr} {
						require.ErrorIs(t, err, scb.ErrUntrusted)
						assert.Contains(t, err.Error(), "belongs to uid 65534")
						assert.Contains(t, err.Error(), "AllowOtherOwner")
					}
				} else {
					require.NoError(t, werr)
					require.NoError(t, rerr)
					require.NoError(t, ow.Close())
					require.NoError(t, or.Close())
				}
				info, err := scb.Stat("planted", at(o))
				require.NoError(t, err, "Stat only reads")
				assert.Equal(t, 1, info.Unread)
				if sticky {
					assertUnchanged(t, dir, before)
				}

				r, err := scb.OpenReader("planted", &scb.Options{Dir: dir, AllowOtherOwner: true})
				require.NoError(t, err, "the caller may opt in")
				v, err := r.Pop()
				require.NoError(t, err)
				assert.Equal(t, uint64(7), v)
				require.NoError(t, r.Close())
			})
		}
	}
}

// TestPlantedLockFiles puts things other than regular files owned by the
// user where the Atomic strategy keeps its role locks: a FIFO (opening it
// would block forever) and, with root, a file of another user in a sticky
// directory (who could hold the role forever). The openers refuse them at
// once. A Create cannot be preempted this way: its lock files are named
// after a random id in the new header.
func TestPlantedLockFiles(t *testing.T) {
	for _, ext := range []string{".wlock", ".rlock"} {
		t.Run("FIFO"+ext, func(t *testing.T) {
			dir, lock := withoutLockFile(t, "q", ext)
			o := &scb.Options{Dir: dir}
			require.NoError(t, unix.Mkfifo(lock, 0o600))
			for _, ep := range entryPoints[1:3] {
				err := withTimeout(t, func() error { return ep.do("q", o) })
				require.ErrorIs(t, err, scb.ErrCorrupt, ep.name)
				assert.Contains(t, err.Error(), "not a regular file")
			}
			// FIFOs under lock names of the kind a new buffer would use.
			for _, planted := range []string{"new.scb" + ext, "new.scb.0000000000000000" + ext} {
				require.NoError(t, unix.Mkfifo(filepath.Join(dir, planted), 0o600))
			}
			err := withTimeout(t, func() error {
				w, err := scb.Create("new", o)
				if err == nil {
					err = w.Close()
				}
				return err
			})
			require.NoError(t, err, "planted files do not stop a Create")
		})
	}
	t.Run("other owner", func(t *testing.T) {
		if os.Geteuid() != 0 {
			t.Skip("needs root to make a file of another user")
		}
		dir := filepath.Join(t.TempDir(), "shm")
		require.NoError(t, os.Mkdir(dir, 0o777))
		require.NoError(t, os.Chmod(dir, 0o777|fs.ModeSticky))
		w, err := scb.Create("q", &scb.Options{Dir: dir})
		skipUnsupported(t, err)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		require.NoError(t, os.Chown(roleLockFile(t, dir, "q", ".wlock"), 65534, 65534))
		_, err = scb.OpenWriter("q", &scb.Options{Dir: dir})
		require.ErrorIs(t, err, scb.ErrUntrusted)
		w, err = scb.OpenWriter("q", &scb.Options{Dir: dir, AllowOtherOwner: true})
		require.NoError(t, err, "the caller may opt in")
		require.NoError(t, w.Close())
	})
}

// withoutLockFile makes buffer name in a new directory and deletes its
// role lock file with extension ext, so that a test can put something else
// there; it returns the directory and the lock file's path.
func withoutLockFile(t *testing.T, name, ext string) (string, string) {
	t.Helper()
	dir := t.TempDir()
	w, err := scb.Create(name, &scb.Options{Dir: dir})
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	lock := roleLockFile(t, dir, name, ext)
	require.NoError(t, os.Remove(lock))
	return dir, lock
}

// roleLockFile returns the path of buffer name's role lock file with
// extension ext (".wlock" or ".rlock"): name.scb.<id>.ext.
func roleLockFile(t *testing.T, dir, name, ext string) string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, name+".scb.????????????????"+ext))
	require.NoError(t, err)
	require.Len(t, m, 1, "one %s file for %s", ext, name)
	return m[0]
}

// TestCreateIsExclusive checks that the name is taken atomically: of many
// goroutines creating one name at once, exactly one succeeds and the others
// get ErrExist; and no temporary file is left behind.
func TestCreateIsExclusive(t *testing.T) {
	needAtomic(t)
	dir := t.TempDir()
	const n = 16
	errs := make(chan error, n)
	for range n {
		go func() {
			w, err := scb.Create("race", &scb.Options{Dir: dir, Length: 2})
			if err == nil {
				w.Close()
			}
			errs <- err
		}()
	}
	ok := 0
	for range n {
		err := <-errs
		if err == nil {
			ok++
			continue
		}
		require.ErrorIs(t, err, scb.ErrExist)
	}
	assert.Equal(t, 1, ok)
	entries, err := os.ReadDir(dir)
	require.NoError(t, err)
	var names []string
	for _, e := range entries {
		names = append(names, e.Name())
	}
	require.Len(t, names, 3, "%v", names)
	assert.Contains(t, names, "race.scb")
	assert.Contains(t, names, filepath.Base(roleLockFile(t, dir, "race", ".wlock")))
	assert.Contains(t, names, filepath.Base(roleLockFile(t, dir, "race", ".rlock")))
	var st syscall.Stat_t
	require.NoError(t, syscall.Stat(filepath.Join(dir, "race.scb"), &st))
	assert.EqualValues(t, 1, st.Nlink, "the temporary name was removed")
}
