//go:build !unix && !windows

package scb

// File operations where there is neither Unix nor Windows file locking
// (Plan 9, js/wasm, wasip1): the package compiles, and every call that needs
// a buffer file returns an error matching ErrUnsupported.

import (
	"io/fs"
	"os"
)

const lockOpenFlags = 0

func unsupported(op, path string) error {
	return &fs.PathError{Op: op, Path: path, Err: ErrUnsupported}
}

func openNoFollow(path string, write bool) (*os.File, error) {
	return nil, unsupported("open", path)
}

func createExcl(path string, perm fs.FileMode) (*os.File, error) {
	return nil, unsupported("create", path)
}

func lstatID(path string) (fs.FileInfo, error) { return nil, unsupported("lstat", path) }

func removeBuffer(path string) error { return unsupported("remove", path) }

func checkOwner(dir, path string, fi fs.FileInfo) error { return nil }

func lockFd(fd uintptr, block bool) (bool, error) { return false, unsupported("lock", "") }

func unlockFd(fd uintptr) error { return nil }

func roleHeld(f *os.File) (bool, error) { return false, unsupported("lock", f.Name()) }
