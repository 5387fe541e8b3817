//go:build !linux

package platform

// Allocating a buffer file elsewhere than Linux: by writing zeros.

import (
	"io/fs"
	"os"
)

// Reserve sets f's size to size bytes and allocates them now by writing
// zeros, so that a full file system fails here rather than when a page is
// first touched through the mapping.
func Reserve(f *os.File, size int64) error {
	return writeZeros(f, size)
}

// EnsureAllocated does nothing where there is no cheap way to fill a file's
// holes: only Linux checks that an opened buffer file has none.
func EnsureAllocated(f *os.File, fi fs.FileInfo) error { return nil }
