//go:build linux

package platform

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

// HolderLocks reports that LockHolder works: Flock takes lock words.
const HolderLocks = true

// holderBase is the offset of slot 0's byte: far past any buffer's end.
const holderBase = 1 << 62

// LockHolder takes the lock on slot's byte if nobody holds it; it reports
// false, nil if another open file does.
func LockHolder(fd uintptr, slot uint32) (bool, error) {
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

// UnlockHolder drops the lock on slot's byte.
func UnlockHolder(fd uintptr, slot uint32) error {
	lk := unix.Flock_t{Type: unix.F_UNLCK, Start: holderBase + int64(slot), Len: 1}
	return unix.FcntlFlock(fd, unix.F_OFD_SETLK, &lk)
}

// HolderHeld reports whether another open file holds slot's byte lock. It
// asks (F_OFD_GETLK) without taking anything: taking and dropping a lock
// to find out would drop one that fd itself holds on the byte (a handle
// that takes back a dead holder's leases holds its byte meanwhile), as
// locks of one open file do not conflict with each other. A lock fd holds
// reports as free, which is what it is to everyone else.
func HolderHeld(fd uintptr, slot uint32) (bool, error) {
	lk := unix.Flock_t{Type: unix.F_RDLCK, Start: holderBase + int64(slot), Len: 1}
	for {
		err := unix.FcntlFlock(fd, unix.F_OFD_GETLK, &lk)
		switch {
		case err == nil:
			return lk.Type != unix.F_UNLCK, nil
		case errors.Is(err, unix.EINTR):
			continue
		}
		return false, err
	}
}
