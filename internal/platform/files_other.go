//go:build !unix && !windows

package platform

// File operations where there is neither Unix nor Windows file locking
// (Plan 9, js/wasm, wasip1): the package compiles, and every call that needs
// a buffer file returns an error matching errors.ErrUnsupported.

import (
	"errors"
	"io/fs"
	"os"
)

// unsupported is the error of an operation the platform does not offer.
func unsupported(op, path string) error {
	return &fs.PathError{Op: op, Path: path, Err: errors.ErrUnsupported}
}

// LockOpenFlags has nothing to add where there are no lock files.
const LockOpenFlags = 0

// OpenNoFollow is not offered here.
func OpenNoFollow(path string, write bool) (*os.File, error) {
	return nil, unsupported("open", path)
}

// CreateExcl is not offered here.
func CreateExcl(path string, perm fs.FileMode) (*os.File, error) {
	return nil, unsupported("create", path)
}

// LstatID is not offered here.
func LstatID(path string) (fs.FileInfo, error) { return nil, unsupported("lstat", path) }

// RemoveBuffer is not offered here.
func RemoveBuffer(path string) error { return unsupported("remove", path) }

// CheckOwner has no owners to check.
func CheckOwner(dir, path string, fi fs.FileInfo) error { return nil }

// LockFd is not offered here.
func LockFd(fd uintptr, block bool) (bool, error) { return false, unsupported("lock", "") }

// UnlockFd has nothing to unlock.
func UnlockFd(fd uintptr) error { return nil }

// RoleHeld is not offered here.
func RoleHeld(f *os.File) (bool, error) { return false, unsupported("lock", f.Name()) }
