//go:build !linux && !darwin

package scb

// The default directory elsewhere than Linux and macOS: none of its own
// (see DefaultDir).

// shmDir is /dev/shm on Linux and /private/tmp on macOS; elsewhere buffers
// default to os.TempDir().
func shmDir() string { return "" }
