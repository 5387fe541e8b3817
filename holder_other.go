//go:build !linux && !windows

package scb

// Holder slots elsewhere than Linux and Windows: not offered yet (flock(2) locks the
// whole file, and POSIX byte-range locks belong to the process and drop
// when any of its descriptors of the file closes), so Flock locks the
// file for every operation (strategy_flock.go).

import "errors"

// holderLocks is false: Flock locks the file.
const holderLocks = false

func lockHolder(fd uintptr, slot uint32) (bool, error) {
	return false, errors.ErrUnsupported
}

func unlockHolder(fd uintptr, slot uint32) error { return nil }
