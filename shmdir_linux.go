//go:build linux

package scb

// The default directory on Linux: /dev/shm, memory-backed (see DefaultDir).

// shmDir returns /dev/shm if it is a directory this process can write.
func shmDir() string { return writableDir("/dev/shm") }
