//go:build !linux && !windows

package platform

// Holder slots elsewhere than Linux and Windows: not offered yet (flock(2) locks the
// whole file, and POSIX byte-range locks belong to the process and drop
// when any of its descriptors of the file closes), so Flock locks the
// file for every operation (strategy_flock.go).

import "errors"

// HolderLocks is false: Flock locks the file.
const HolderLocks = false

// LockHolder is not offered here.
func LockHolder(fd uintptr, slot uint32) (bool, error) {
	return false, errors.ErrUnsupported
}

// UnlockHolder has nothing to unlock.
func UnlockHolder(fd uintptr, slot uint32) error { return nil }

// HolderHeld is not offered here.
func HolderHeld(fd uintptr, slot uint32) (bool, error) {
	return false, errors.ErrUnsupported
}
