//go:build !linux

package scb

import "os"

// shmDir is Linux's /dev/shm; elsewhere buffers default to os.TempDir().
func shmDir() string { return "" }

// reserve sets f's size to size bytes and allocates them now by writing
// zeros, so that a full file system fails here rather than when a page is
// first touched through the mapping.
func reserve(f *os.File, size int64) error {
	return writeZeros(f, size)
}
