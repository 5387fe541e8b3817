package scb

import (
	"context"
	"runtime"
	"sync/atomic"
	"time"
)

// flockStrategy guards every operation with an exclusive flock(2) on the
// buffer file itself (LockFileEx on Windows), held only for the operation,
// so any number of writers and readers may be attached. A flock belongs to
// the open file, not to a goroutine, so each handle also serialises its own
// goroutines with a mutex before taking it (Writer.mu, Reader.mu). The
// kernel drops the lock of a process that dies holding it.
//
// It locks the already open descriptor with golang.org/x/sys rather than
// through gofrs/flock, whose Unlock closes the file: per operation that
// would be an open, a lock, an unlock and a close instead of two calls.
type flockStrategy struct {
	fd   uintptr
	ring *ring // for sound(), checked under every lock
}

func newFlockStrategy(b *buffer) *flockStrategy {
	return &flockStrategy{fd: b.file.Fd(), ring: &b.ring}
}

func (s *flockStrategy) shared() bool { return true }

// lock takes the file lock without ever blocking in the kernel, so that a
// context or Close can end the wait even when the holder is alive but
// stopped. It asks at once a few times (operations hold the lock for about
// a microsecond), then between yields, and then sleeps on the header's lock
// futex, which an unlocking process bumps when it sees a sleeper (elsewhere
// than Linux, and to notice a context, Close, or a holder that died without
// unlocking, the sleep lasts at most lockMaxSleep).
func (s *flockStrategy) lock(ctx context.Context, closing *atomic.Bool) error {
	var ws waitState
	for i := 0; ; i++ {
		if ok, err := s.try(); ok || err != nil {
			return err
		}
		if closing.Load() {
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
			runtime.Gosched()
		default:
			var got bool
			var err error
			sleep(&ws, s.ring.lockSeq, s.ring.lockWaiters, func() bool {
				got, err = s.try()
				return got || err != nil
			}, lockMaxSleep)
			if got || err != nil {
				return err
			}
		}
	}
}

// try takes the file lock if it is free.
func (s *flockStrategy) try() (bool, error) {
	ok, err := lockFd(s.fd, false)
	if !ok || err != nil {
		return false, err
	}
	// Holding the lock is cheap to check the file with: one that was
	// zeroed or overwritten under us must not look like an empty buffer.
	if !s.ring.sound() {
		s.unlock()
		return false, corruptf("the header was overwritten while the buffer was open")
	}
	return true, nil
}

const (
	lockSpins    = 4
	lockYields   = 8
	lockMaxSleep = time.Millisecond
)

func (s *flockStrategy) unlock() {
	unlockFd(s.fd)
	if atomic.LoadUint32(s.ring.lockWaiters) != 0 {
		wake(s.ring.lockSeq)
	}
}

func (s *flockStrategy) release() error { return nil }
