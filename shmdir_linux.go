//go:build linux

package scb

// The default directory on Linux: /dev/shm, memory-backed (see DefaultDir).

import (
	"os"

	"golang.org/x/sys/unix"
)

// shmDir returns /dev/shm if it is a directory this process can write.
func shmDir() string {
	const dir = "/dev/shm"
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	if unix.Access(dir, unix.W_OK) != nil {
		return ""
	}
	return dir
}
