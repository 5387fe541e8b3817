//go:build linux

package scb

// Holder slots on Linux: open file description locks (F_OFD_SETLK) on
// single bytes of the buffer file far past its end. Such a lock belongs to
// the handle's open file, not to its process (closing another descriptor of
// the same file does not drop it, as it would a POSIX lock), it is
// independent of flock(2), and the kernel drops it when the file is closed
// or the process dies.

import (
	"errors"

	"golang.org/x/sys/unix"
)

// holderLocks reports that lockHolder works: Flock takes lock words.
const holderLocks = true

// holderBase is the offset of slot 0's byte: far past any buffer's end.
const holderBase = 1 << 62

// lockHolder takes the lock on slot's byte if nobody holds it; it reports
// false, nil if another open file does.
func lockHolder(fd uintptr, slot uint32) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_WRLCK, Start: holderBase + int64(slot), Len: 1}
	for {
		err := unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
		switch {
		case err == nil:
			return true, nil
		case errors.Is(err, unix.EINTR):
			continue
		case errors.Is(err, unix.EAGAIN), errors.Is(err, unix.EACCES):
			return false, nil
		}
		return false, err
	}
}

// unlockHolder drops the lock on slot's byte.
func unlockHolder(fd uintptr, slot uint32) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Start: holderBase + int64(slot), Len: 1}
	return unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
}
