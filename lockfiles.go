package scb

// The Atomic strategy's role lock files beside a buffer: which a buffer has,
// making, checking and removing them, and a writer's watch on the reader's.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"

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

// removeOwnLockFiles removes the lock files made for a buffer that was
// never published: they carry its id, so nobody else can be using them.
func (b *buffer) removeOwnLockFiles() {
	for _, lp := range lockFiles(b.path, b.geo) {
		os.Remove(lp)
	}
}

// removeLockFiles removes the role lock files of name in dir that nothing
// can use any more: those whose id is
// neither that of the buffer now called name nor that of a Create of name
// in progress, and that no handle holds. A held one belongs to a live
// handle of a removed buffer; it is left for a later Remove, once it is
// free. It removes nothing if it cannot tell which ids are in use.
//
// Create writes the header of its temporary file, with the new id, before
// it makes the lock files, and links the file to its name before it
// deletes the temporary file. The lock files are listed first and the ids
// looked up after, temporary files before the name; so a lock file listed
// here whose id is not found belongs to a buffer that has lost its name,
// or to a Create that died. An opener of that buffer that opened the lock
// file before it is unlinked here, and locks it after, finds that the
// name no longer names it (newAtomicStrategy).
func removeLockFiles(name, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var locks []string
	var ids []uint64
	for _, e := range entries {
		if id, ok := lockOf(e.Name(), name); ok {
			locks = append(locks, filepath.Join(dir, e.Name()))
			ids = append(ids, id)
		}
	}
	if len(locks) == 0 {
		return nil
	}
	live, err := liveIDs(name, dir)
	if err != nil {
		return fmt.Errorf("not removing lock files: cannot tell which are in use: %w", err)
	}
	var errs []error
	for i, lp := range locks {
		if !live[ids[i]] {
			errs = append(errs, removeFreeLockFile(lp))
		}
	}
	return errors.Join(errs...)
}

// liveIDs returns the ids of the buffer called name in dir and of the
// Creates of name in progress (their temporary files).
func liveIDs(name, dir string) (map[uint64]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	live := map[uint64]bool{}
	var errs []error
	add := func(path string) {
		id, err := readID(path)
		switch {
		case err == nil:
			live[id] = true
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrCorrupt), errors.Is(err, ErrUntrusted):
			// Gone; or a header not written yet, by a Create that has
			// made no lock file yet; or not a buffer at all.
		default:
			errs = append(errs, err)
		}
	}
	for _, e := range entries {
		if isTempOf(e.Name(), name, tempExt) {
			add(filepath.Join(dir, e.Name()))
		}
	}
	add(filepath.Join(dir, name+fileExt))
	return live, errors.Join(errs...)
}

// readID returns the id in the header of the buffer file at path.
func readID(path string) (uint64, error) {
	f, err := openNoFollow(path, false)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, corruptf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	g, err := readHeader(f, fi.Size())
	return g.ID, err
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

// roleWatch is an Atomic Queue writer's view of the reader role: the
// reader's role lock file, opened without locking it, so that the writer
// can ask whether the role is held even after Remove unlinked the file.
// The zero value watches nothing and cannot tell.
type roleWatch struct {
	f *os.File
}

// watchReaders returns the watch on buffer b's reader role lock file, for
// a writer: one of an Atomic Queue buffer (the one kind with a reader
// role lock); else the zero roleWatch.
func watchReaders(b *buffer) roleWatch {
	if Strategy(b.geo.Strategy) != Atomic || b.geo.Broadcast() {
		return roleWatch{}
	}
	f, err := openNoFollow(lockName(b.path, b.geo.ID, readerLockExt), false)
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
