package scb

import (
	"sync/atomic"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
	"github.com/sharedcbuff/scb/internal/wait"
)

// lockWord is one side's lock of a Flock buffer (strategy_flock.go has the
// protocol): a word in the header that is 0 while the side is free and
// otherwise holds its holder's token, and the wake-up word its lockers
// sleep on.
type lockWord struct {
	word *uint32
	wake wait.Word
}

// lockWordOf returns the lock of side sd (writeSide or readSide) of the
// buffer mapped at base.
func lockWordOf(base unsafe.Pointer, sd side) lockWord {
	at := func(off uintptr) *uint32 { return layout.At32(base, off) }
	if sd == writeSide {
		return lockWord{at(layout.OffWriteLock), wait.Word{Seq: at(layout.OffWriteLockSeq), Waiters: at(layout.OffWriteLockWaiters)}}
	}
	return lockWord{at(layout.OffReadLock), wait.Word{Seq: at(layout.OffReadLockSeq), Waiters: at(layout.OffReadLockWaiters)}}
}

// lock takes the lock if it is free, and reports whether it did. The
// caller does not hold it (a handle's goroutines take its lock one at a
// time), so a word that already holds the caller's token was stored by no
// correct process (damage, or an edit): the lock is the caller's, rather
// than a lock it would wait on for ever.
func (l lockWord) lock(token uint32) bool {
	v := atomic.LoadUint32(l.word)
	return v == token || v == 0 && atomic.CompareAndSwapUint32(l.word, 0, token)
}

// unlock frees the lock if token holds it, and wakes its sleepers. It
// reports whether token held it.
func (l lockWord) unlock(token uint32) bool {
	ok := atomic.CompareAndSwapUint32(l.word, token, 0)
	l.wake.Wake()
	return ok
}

// reclaim takes the lock from holder, a token found in it for longer than
// a live holder keeps it, if holder's slot is free: its holder died, or
// closed its file, holding the lock. It holds the slot's byte lock while it
// swaps, so that no handle can claim the slot and take the lock with the
// same token meanwhile. It reports whether the lock is now token's.
func (l lockWord) reclaim(fd uintptr, holder, token uint32) (bool, error) {
	if holder == 0 || holder == token {
		return false, nil
	}
	free, err := platform.LockHolder(fd, holder-1)
	if err != nil || !free {
		return false, err
	}
	stolen := atomic.CompareAndSwapUint32(l.word, holder, token)
	platform.UnlockHolder(fd, holder-1)
	return stolen, nil
}
