package scb

import (
	"context"
	"sync"
	"time"
)

// flockStrategy guards every operation with an exclusive flock(2) on the
// buffer file itself (LockFileEx on Windows), held only for the operation,
// so any number of writers and readers may be attached. The kernel drops
// the lock of a process that dies holding it, so a dead holder never
// blocks the others, and what it did under the lock is all or nothing:
// its cursor store is the last thing it does before unlocking.
//
// The protocol of one operation (take, the operation, give):
//  1. Enter the handle's gate: a flock belongs to the open file, not to a
//     goroutine, so the handle's goroutines are serialised first. The gate
//     lets a waiting goroutine give up with its context or Close.
//  2. Take the file lock (lock, below), and check the header's magic under
//     it: a file zeroed or overwritten under the handle is corrupt, not
//     empty.
//  3. Reload both cursors: other handles move them between operations.
//  4. The operation writes or reads slots and stores its cursor (moved
//     records which sleepers to wake).
//  5. Unlock the file, then wake those sleepers (a sleeper woken while the
//     lock is still held would find it taken and sleep again), then leave
//     the gate.
//
// A Claim or Peek keeps the file lock after its call returns (keep leaves
// the gate only); Commit, Abort or Release re-enter the gate (resume) and
// give. Close (stop) shuts the gate, ends the handle's waits and waits for
// its running operations under life.
//
// It locks the already open descriptor with golang.org/x/sys rather than
// through gofrs/flock, whose Unlock closes the file: per operation that
// would be an open, a lock, an unlock and a close instead of two calls.
type flockStrategy struct {
	fd   uintptr
	gate gate         // serialises this handle's goroutines
	life sync.RWMutex // calls hold it for reading, Close for writing
	wake [2]bool      // by direction: moved under the lock, wake after it
}

func newFlockStrategy(b *buffer) *flockStrategy {
	return &flockStrategy{fd: b.file.Fd(), gate: newGate()}
}

func (s *flockStrategy) owns() bool       { return false }
func (s *flockStrategy) checkFirst() bool { return true }

// attach loads nothing: take reloads the cursors under the lock, and
// without it they can move between two loads.
func (s *flockStrategy) attach(*handle) error { return nil }

func (s *flockStrategy) admit(h *handle) error {
	s.life.RLock()
	if h.b == nil {
		s.life.RUnlock()
		return ErrClosed
	}
	return nil
}

func (s *flockStrategy) dismiss() { s.life.RUnlock() }

func (s *flockStrategy) take(ctx context.Context, h *handle) error {
	if err := s.gate.enter(ctx); err != nil {
		return err
	}
	if h.lent {
		s.gate.leave()
		return h.lentErr
	}
	if err := s.lock(ctx, h); err != nil {
		s.gate.leave()
		return err
	}
	if err := h.load(); err != nil {
		s.unlock(h)
		s.gate.leave()
		return err
	}
	return nil
}

func (s *flockStrategy) moved(_ *handle, d direction) { s.wake[d] = true }

func (s *flockStrategy) give(h *handle) {
	s.unlock(h)
	for d := range s.wake {
		if s.wake[d] {
			s.wake[d] = false
			h.wakeNow(direction(d))
		}
	}
	s.gate.leave()
}

func (s *flockStrategy) keep()         { s.gate.leave() }
func (s *flockStrategy) resume() error { return s.gate.enter(nil) }

func (s *flockStrategy) stop(h *handle) {
	h.closing.Store(true)
	s.gate.shut()
	s.life.RLock()
	if h.b != nil {
		h.wakeAll()
	}
	s.life.RUnlock()
	s.life.Lock()
}

func (s *flockStrategy) stopped() { s.life.Unlock() }

// readerGone cannot know: Flock readers hold nothing between operations.
func (s *flockStrategy) readerGone(*handle) bool { return false }
func (s *flockStrategy) detach() error           { return nil }

// lock takes the file lock without ever blocking in the kernel, so that a
// context or Close can end the wait even when the holder is alive but
// stopped. It asks at once a few times (operations hold the lock for about
// a microsecond), then between yields, and then sleeps on the header's lock
// futex, which an unlocking process bumps when it sees a sleeper (elsewhere
// than Linux, and to notice a context, Close, or a holder that died without
// unlocking, the sleep lasts at most lockMaxSleep).
func (s *flockStrategy) lock(ctx context.Context, h *handle) error {
	var ws waitState
	for i := 0; ; i++ {
		if ok, err := s.try(h); ok || err != nil {
			return err
		}
		if h.closing.Load() {
			return ErrClosed
		}
		if ctx != nil {
			if err := ctx.Err(); err != nil {
				return err
			}
		}
		switch {
		case i < lockSpins:
		case i < lockSpins+lockYields:
			osYield()
		default:
			var got bool
			var err error
			sleep(&ws, h.lockSeq, h.lockWaiters, func() bool {
				got, err = s.try(h)
				return got || err != nil
			}, lockMaxSleep)
			if got || err != nil {
				return err
			}
		}
	}
}

// try takes the file lock if it is free.
func (s *flockStrategy) try(h *handle) (bool, error) {
	ok, err := lockFd(s.fd, false)
	if !ok || err != nil {
		return false, err
	}
	// Holding the lock is cheap to check the file with: one that was
	// zeroed or overwritten under us must not look like an empty buffer.
	if !h.sound() {
		s.unlock(h)
		return false, errOverwritten
	}
	return true, nil
}

const (
	lockSpins    = 4
	lockYields   = 8
	lockMaxSleep = time.Millisecond
)

// unlock releases the file lock and wakes the processes waiting for it.
func (s *flockStrategy) unlock(h *handle) {
	unlockFd(s.fd)
	wakeWord(h.lockSeq, h.lockWaiters)
}
