//go:build !linux && !darwin

package platform

// The default directory elsewhere than Linux and macOS: none of its own
// (see DefaultDir).

// ShmDir is /dev/shm on Linux and /private/tmp on macOS; elsewhere buffers
// default to os.TempDir().
func ShmDir() string { return "" }
