//go:build !linux

package scb

// The default directory elsewhere than Linux: none of its own (see DefaultDir).

// shmDir is Linux's /dev/shm; elsewhere buffers default to os.TempDir().
func shmDir() string { return "" }
