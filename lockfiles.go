package scb

// The Atomic strategy's role lock files beside a buffer: which a buffer has,
// and making, checking and removing them.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
)

// lockFiles returns the role lock files that the buffer at path, with
// header g, uses: none for Flock; for Atomic the writer lock, and in Queue
// mode also the reader lock.
func lockFiles(path string, g geometry) []string {
	switch {
	case g.strategy != Atomic:
		return nil
	case g.mode == Broadcast:
		return []string{lockName(path, g.id, writerLockExt)}
	}
	return []string{lockName(path, g.id, writerLockExt), lockName(path, g.id, readerLockExt)}
}

// makeLockFiles creates the role lock files of a new buffer, with exactly
// the buffer's permission (whoever first takes a role would otherwise create
// them with theirs, less their umask), or checks them if they are left over
// from an earlier buffer of the same name.
func makeLockFiles(path string, c config, g geometry) error {
	for _, lp := range lockFiles(path, g) {
		f, err := createExcl(lp, c.perm)
		if errors.Is(err, fs.ErrExist) {
			if err := checkLockFile(lp, c); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		err = f.Chmod(c.perm)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLockFile refuses a role lock file that is not a regular file (a
// FIFO would block the open that takes the role), is a symbolic link, or
// belongs to another user in a sticky world-writable directory (who could
// hold the role forever).
func checkLockFile(lp string, c config) error {
	fi, err := os.Lstat(lp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link", ErrUntrusted, lp)
	case !fi.Mode().IsRegular():
		return corruptf("lock file %s is not a regular file (%v)", lp, fi.Mode().Type())
	case !c.AllowOtherOwner:
		return checkOwner(c.Dir, lp, fi)
	}
	return nil
}

// removeOwnLockFiles removes the lock files made for a buffer that was
// never published: they carry its id, so nobody else can be using them.
func (b *buffer) removeOwnLockFiles() {
	for _, lp := range lockFiles(b.path, b.geo) {
		os.Remove(lp)
	}
}

// removeLockFiles removes the role lock files of every buffer that had the
// name, and reports how many it removed. Handles that hold one keep their
// lock; the buffer they hold it for is gone by then (Remove unlinks it
// first), and a new opener of the name would get the new buffer's.
func removeLockFiles(name, dir string) (int, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, name+fileExt+".*lock"))
	n := 0
	for _, m := range matches {
		if !isLockOf(filepath.Base(m), name) {
			continue // another buffer's, such as x.scb.<id>.scb.<id>.wlock
		}
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}
