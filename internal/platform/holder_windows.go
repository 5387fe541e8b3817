//go:build windows

package platform

// Holder slots on Windows: byte-range locks (LockFileEx) on single bytes
// of the buffer file far past its end. Such a lock belongs to the file
// handle that took it, not to its process or thread: any other handle of
// the file, in this process or another, is refused it, and Windows drops
// it when the handle is closed or its process ends, however it ends.
// Byte-range locks are mandatory on Windows, so a locked byte could not be
// read or written through another handle; nobody reads or writes that far
// past the end of a buffer file (mappings are not affected by locks).

import (
	"errors"

	"golang.org/x/sys/windows"
)

// HolderLocks reports that LockHolder works: Flock takes lock words.
const HolderLocks = true

// holderBase is the offset of slot 0's byte: far past any buffer's end.
const holderBase = 1 << 62

// holderRange returns the overlapped structure that names slot's byte.
func holderRange(slot uint32) *windows.Overlapped {
	off := uint64(holderBase) + uint64(slot)
	return &windows.Overlapped{Offset: uint32(off), OffsetHigh: uint32(off >> 32)}
}

// LockHolder takes the lock on slot's byte if nobody holds it; it reports
// false, nil if another handle does.
func LockHolder(fd uintptr, slot uint32) (bool, error) {
	err := windows.LockFileEx(windows.Handle(fd), windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY,
		0, 1, 0, holderRange(slot))
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return false, nil
	}
	return false, err
}

// UnlockHolder drops the lock on slot's byte.
func UnlockHolder(fd uintptr, slot uint32) error {
	return windows.UnlockFileEx(windows.Handle(fd), 0, 1, 0, holderRange(slot))
}

// HolderHeld reports whether another handle holds slot's byte lock. It
// asks with a shared lock, which a handle open only for reading may take,
// and drops it at once.
func HolderHeld(fd uintptr, slot uint32) (bool, error) {
	err := windows.LockFileEx(windows.Handle(fd), windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, holderRange(slot))
	switch {
	case err == nil:
		return false, UnlockHolder(fd, slot)
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION):
		return true, nil
	}
	return false, err
}
