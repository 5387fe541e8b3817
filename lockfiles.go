package scb

// The Atomic strategy's role lock files beside a buffer: which a buffer has,
// making and checking them, and a writer's watch on the reader's. Remove
// deletes those nothing can use any more (admin.go).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"runtime"
	"unsafe"

	"github.com/gofrs/flock"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
)

// lockFiles returns the role lock files that the buffer at path, with
// header g, uses: none for Flock; for Atomic the writer lock, and in Queue
// mode also the reader lock.
func lockFiles(path string, g layout.Geometry) []string {
	switch {
	case Strategy(g.Strategy) != Atomic:
		return nil
	case g.Broadcast():
		return []string{lockName(path, g.ID, writerLockExt)}
	}
	return []string{lockName(path, g.ID, writerLockExt), lockName(path, g.ID, readerLockExt)}
}

// makeLockFiles creates the role lock files of a new buffer, with exactly
// the buffer's permission (whoever first takes a role would otherwise create
// them with theirs, less their umask), or checks them if they are left over
// from an earlier buffer of the same name.
func makeLockFiles(path string, c config, g layout.Geometry) error {
	for _, lp := range lockFiles(path, g) {
		f, err := platform.CreateExcl(lp, c.perm)
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

// roleWatch is an Atomic Queue writer's view of the reader role: the
// reader's role lock file, opened without locking it, so that the writer
// can ask whether the role is held even after Remove unlinked the file.
// The zero value watches nothing and cannot tell.
type roleWatch struct {
	f *os.File
}

// watchReaders returns a writer's watch on the reader role lock file of
// the buffer at path, with header g: for an Atomic Queue buffer (the one
// kind with a reader role lock); else the zero roleWatch.
func watchReaders(path string, g layout.Geometry) roleWatch {
	if Strategy(g.Strategy) != Atomic || g.Broadcast() {
		return roleWatch{}
	}
	f, err := openNoFollow(lockName(path, g.ID, readerLockExt), false)
	if err != nil {
		return roleWatch{}
	}
	return roleWatch{f}
}

// gone reports whether the reader role is free. (The writer asks only once
// its buffer was removed, so no reader can take the role meanwhile.) Where
// it cannot tell, it reports false: the writer waits on.
func (w roleWatch) gone() bool {
	if w.f == nil {
		return false
	}
	held, err := platform.RoleHeld(w.f)
	return err == nil && !held
}

// close closes the watched file.
func (w roleWatch) close() {
	if w.f != nil {
		w.f.Close()
	}
}

// removeFreeLockFile removes the role lock file at path unless a handle
// holds it. It takes the lock first, without waiting, and unlinks the file
// while it holds it (Windows deletes no open file: there it lets go
// first). Something other than a regular file is no lock anyone can hold
// (openers refuse it): it is removed as it is.
func removeFreeLockFile(path string) error {
	fi, err := os.Lstat(path)
	if errors.Is(err, fs.ErrNotExist) {
		return nil
	}
	if err != nil {
		return err
	}
	if fi.Mode().IsRegular() {
		fl := flock.New(path, flock.SetFlag(os.O_RDONLY|platform.LockOpenFlags))
		ok, err := fl.TryLock()
		if errors.Is(err, fs.ErrNotExist) {
			return nil
		}
		if err != nil || !ok {
			return err
		}
		defer fl.Unlock()
		if fi, err = fl.Stat(); err != nil || !names(path, fi) {
			return err // another Remove unlinked it
		}
		if runtime.GOOS == "windows" {
			fl.Unlock()
		}
	}
	_, err = unlink(path)
	return err
}

// rolePid returns the process of a live holder of role r of the buffer
// mapped at base, whose file is open as fd, other than self (a token), or 0
// if none is proved alive.
func rolePid(fd uintptr, base unsafe.Pointer, self uint32, r role) int {
	pid := 0
	liveHolders(fd, base, self, roleCode(r), func(hi holderInfo) {
		if pid == 0 {
			pid = hi.provenPid()
		}
	})
	return pid
}
