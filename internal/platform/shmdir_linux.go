//go:build linux

package platform

// The default directory on Linux: /dev/shm, memory-backed (see DefaultDir).

// ShmDir returns /dev/shm if it is a directory this process can write.
func ShmDir() string { return writableDir("/dev/shm") }
