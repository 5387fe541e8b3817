//go:build unix

package platform

// File operations on Unix: opening without following links, exclusive
// creation, the owner check, and flock(2) locks.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// LockOpenFlags open a role lock file without following a symbolic link
// and without blocking if it is a FIFO.
const LockOpenFlags = unix.O_NOFOLLOW | unix.O_NONBLOCK

// OpenNoFollow opens an existing file for reading, or reading and writing,
// without following a symbolic link and without blocking on a FIFO.
func OpenNoFollow(path string, write bool) (*os.File, error) {
	flag := os.O_RDONLY
	if write {
		flag = os.O_RDWR
	}
	f, err := os.OpenFile(path, flag|unix.O_NOFOLLOW|unix.O_NONBLOCK, 0)
	if err != nil {
		return nil, explainOpen(path, err)
	}
	return f, nil
}

// explainOpen turns the errors of opening a symbolic link, a directory or
// another special file (a socket cannot be opened at all) into FileErrors.
// (O_NOFOLLOW fails with ELOOP on Linux and macOS, EMLINK on FreeBSD,
// EFTYPE on NetBSD, so ask the file system instead.)
func explainOpen(path string, err error) error {
	if fi, lerr := os.Lstat(path); lerr == nil {
		switch {
		case fi.Mode()&fs.ModeSymlink != 0:
			return &FileError{ErrSymlink, path + " is a symbolic link"}
		case !fi.Mode().IsRegular():
			return &FileError{ErrNotRegular, fmt.Sprintf("%s is not a regular file (%v)", path, fi.Mode().Type())}
		}
	}
	return err
}

// LstatID returns what os.SameFile needs to compare path, not following a
// symbolic link, with an open file.
func LstatID(path string) (fs.FileInfo, error) { return os.Lstat(path) }

// RemoveBuffer deletes the buffer file at path. Handles that have it open
// keep working on it, as with any removed file.
func RemoveBuffer(path string) error { return os.Remove(path) }

// CheckOwner refuses a file owned by another user in a directory where
// anyone may create files (world-writable and sticky, like /dev/shm and
// /tmp): whoever planted it controls what is in it.
func CheckOwner(dir, path string, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || int(st.Uid) == os.Geteuid() {
		return nil
	}
	di, err := os.Stat(dir)
	if err != nil {
		return err
	}
	if di.Mode()&fs.ModeSticky != 0 && di.Mode().Perm()&0o002 != 0 {
		return &FileError{ErrOtherOwner, fmt.Sprintf("%s belongs to uid %d in the world-writable directory %s", path, st.Uid, dir)}
	}
	return nil
}

// LockFd takes an exclusive flock on fd, waiting for it if block is set.
// It reports false, nil when the lock is held elsewhere and block is not
// set. The kernel drops the lock when the process dies.
func LockFd(fd uintptr, block bool) (bool, error) {
	how := unix.LOCK_EX
	if !block {
		how |= unix.LOCK_NB
	}
	for {
		err := unix.Flock(int(fd), how)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EWOULDBLOCK):
			return false, nil
		}
		return false, err
	}
}

// RoleHeld reports whether another open file holds a lock on the role
// lock file f (gofrs/flock's, which is flock(2) on Unix). It takes and
// drops the lock if it is free.
func RoleHeld(f *os.File) (bool, error) {
	ok, err := LockFd(f.Fd(), false)
	if err != nil {
		return false, err
	}
	if ok {
		UnlockFd(f.Fd())
	}
	return !ok, nil
}

func UnlockFd(fd uintptr) error {
	return unix.Flock(int(fd), unix.LOCK_UN)
}

// CreateExcl creates a new file that must not exist, not even as a symbolic
// link.
func CreateExcl(path string, perm fs.FileMode) (*os.File, error) {
	return os.OpenFile(path, os.O_RDWR|os.O_CREATE|os.O_EXCL|unix.O_NOFOLLOW, perm)
}
