//go:build !linux

package scb

// Allocating a buffer file elsewhere than Linux: by writing zeros.

import (
	"io/fs"
	"os"
)

// reserve sets f's size to size bytes and allocates them now by writing
// zeros, so that a full file system fails here rather than when a page is
// first touched through the mapping.
func reserve(f *os.File, size int64) error {
	return writeZeros(f, size)
}

// ensureAllocated does nothing where there is no cheap way to fill a file's
// holes: only Linux checks that an opened buffer file has none.
func ensureAllocated(f *os.File, fi fs.FileInfo) error { return nil }
