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
// stopped: it asks at once a few times (operations hold the lock for about
// a microsecond), then yields between asks, then sleeps between them for
// up to lockMaxSleep.
func (s *flockStrategy) lock(ctx context.Context, closing *atomic.Bool) error {
	for i := 0; ; i++ {
		if ok, err := lockFd(s.fd, false); err != nil {
			return err
		} else if ok {
			// Holding the lock is cheap to check the file with: one that
			// was zeroed or overwritten under us must not look like an
			// empty buffer.
			if !s.ring.sound() {
				unlockFd(s.fd)
				return corruptf("the header was overwritten while the buffer was open")
			}
			return nil
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
			time.Sleep(min(time.Duration(i-lockSpins-lockYields+1)*lockStepSleep, lockMaxSleep))
		}
	}
}

const (
	lockSpins     = 4
	lockYields    = 8
	lockStepSleep = 5 * time.Microsecond
	lockMaxSleep  = time.Millisecond
)

func (s *flockStrategy) unlock() { unlockFd(s.fd) }

func (s *flockStrategy) release() error { return nil }
