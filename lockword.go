package scb

import (
	"fmt"
	"os"
	"sync/atomic"
	"unsafe"
)

// lockWord is one side's lock of a Flock buffer (strategy_flock.go has the
// protocol): a word in the header that is 0 while the side is free and
// otherwise holds its holder's token, and the wake-up words its lockers
// sleep on (wait.go's protocol).
type lockWord struct {
	word    *uint32
	seq     *uint32
	waiters *uint32
}

// sideLock returns the lock of the side a handle of role r works on in a
// buffer of mode m mapped at base, and false for a Broadcast reader, whose
// cursor is its own and which needs none.
func sideLock(base unsafe.Pointer, r role, broadcast bool) (lockWord, bool) {
	at := func(off uintptr) *uint32 { return (*uint32)(unsafe.Add(base, off)) }
	switch {
	case r == roleWriter:
		return lockWord{at(offWriteLock), at(offWriteLockSeq), at(offWriteLockWaiters)}, true
	case !broadcast:
		return lockWord{at(offReadLock), at(offReadLockSeq), at(offReadLockWaiters)}, true
	}
	return lockWord{}, false
}

// try takes the lock if it is free.
func (l lockWord) try(token uint32) bool {
	return atomic.LoadUint32(l.word) == 0 && atomic.CompareAndSwapUint32(l.word, 0, token)
}

// release frees the lock if token holds it, and wakes its sleepers. It
// reports whether token held it.
func (l lockWord) release(token uint32) bool {
	ok := atomic.CompareAndSwapUint32(l.word, token, 0)
	wakeWord(l.seq, l.waiters)
	return ok
}

// maxHolders is the number of holder slots: of handles of one buffer that
// can be open at once with the lock-word protocol.
const maxHolders = 1 << 16

// holderNext spreads the slots of one process's handles.
var holderNext atomic.Uint32

// claimHolder takes a free holder slot for the handle whose buffer file is
// open as fd, and returns the handle's token: the slot + 1. It starts
// looking at a place derived from the process id, so that processes
// seldom try each other's slots. A slot is free when nobody holds its byte
// lock; if a lock word still holds the slot's token, its holder died (or
// closed its file) while holding it, and claimHolder frees it.
func claimHolder(fd uintptr, base unsafe.Pointer) (uint32, error) {
	start := (uint32(os.Getpid())*2654435761 + holderNext.Add(1)) % maxHolders
	for i := range uint32(maxHolders) {
		slot := (start + i) % maxHolders
		ok, err := lockHolder(fd, slot)
		if err != nil {
			return 0, err
		}
		if !ok {
			continue
		}
		token := slot + 1
		for _, r := range []role{roleWriter, roleReader} {
			if l, ok := sideLock(base, r, false); ok && atomic.LoadUint32(l.word) == token {
				l.release(token)
			}
		}
		return token, nil
	}
	return 0, fmt.Errorf("%w: all %d lock holder slots are taken", ErrBusy, maxHolders)
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
	free, err := lockHolder(fd, holder-1)
	if err != nil || !free {
		return false, err
	}
	stolen := atomic.CompareAndSwapUint32(l.word, holder, token)
	unlockHolder(fd, holder-1)
	return stolen, nil
}
