//go:build linux

package platform

// Allocating a buffer file on Linux: fallocate(2), falling back to writing
// zeros, and filling the holes of an opened file.

import (
	"errors"
	"io/fs"
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Reserve sets f's size to size bytes and allocates them now, so that a
// full file system (a full /dev/shm, say) fails here with ENOSPC instead of
// killing a process with SIGBUS when it first touches the page.
func Reserve(f *os.File, size int64) error {
	ok, err := fallocate(f, size)
	if !ok {
		return writeZeros(f, size)
	}
	return err
}

// EnsureAllocated makes sure every block of an existing buffer file is
// allocated, as Create leaves it. A file with holes (copied with cp, say,
// which skips runs of zeros) would otherwise get its blocks on first touch
// through the mapping, and on a full file system that is SIGBUS instead of
// an error. A fully allocated file costs nothing but the look at its block
// count. Where the file system cannot allocate ahead, there is nothing
// better to do.
func EnsureAllocated(f *os.File, fi fs.FileInfo) error {
	st, ok := fi.Sys().(*syscall.Stat_t)
	if !ok || st.Blocks*512 >= fi.Size() {
		return nil
	}
	_, err := fallocate(f, fi.Size())
	return err
}

// fallocate allocates the first size bytes of f, extending it if need be.
// It reports false if the file system does not support it.
func fallocate(f *os.File, size int64) (bool, error) {
	for {
		err := unix.Fallocate(int(f.Fd()), 0, 0, size)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EOPNOTSUPP), errors.Is(err, unix.ENOSYS):
			return false, nil
		}
		return true, err
	}
}
