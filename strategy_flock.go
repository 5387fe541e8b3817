package scb

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// flockStrategy lets any number of writers and readers, in any processes
// and goroutines, share a buffer. Its name is historical: on Linux the file
// lock is now only the arbiter that proves a lock holder died, and an
// operation that nobody contends makes no system call at all.
//
// The lock words. The header has one lock per side (header.go): writers
// contend only with writers, for the write cursor, and Queue readers only
// with Queue readers, for the read cursor; the two cursors pass between
// the sides exactly as in the Atomic strategy, whose one writer and one
// reader are what the two holders are at any moment. A Broadcast reader's
// cursor is its own, so it takes no lock. A lock word is 0 while the side
// is free and otherwise holds its holder's token.
//
// Tokens and holder slots. When a handle opens (attach) it claims a holder
// slot: it takes an open file description lock (F_OFD_SETLK, holder_linux.go;
// on Windows a LockFileEx byte range, holder_windows.go) on one byte of the
// buffer file far past its end, the first of 65,536 that
// nobody holds. Its token is the slot + 1. The kernel drops that byte lock
// when the handle closes its file or its process dies, so "the byte lock of
// the token's slot is free" proves that the token's holder is gone. A
// handle that claims a slot and finds a lock word holding the slot's token
// frees that word: its holder is gone, and the token is about to be reused.
//
// The protocol of one operation (take, the operation, give):
//  1. Enter the handle's gate: a token belongs to the handle, not to a
//     goroutine, so the handle's goroutines are serialised first. The gate
//     lets a waiting goroutine give up with its context or Close.
//  2. Take the side's lock: compare-and-swap its word from 0 to the token.
//     If it is taken, poll it a few times, then between yields, then sleep
//     on the side's sequence word (wait.go's protocol: an unlocker makes a
//     system call only when someone sleeps), at most lockMaxSleep at a time
//     so that a context, Close or a dead holder are noticed. A locker that
//     has seen the same token in the word for deadAfter asks the holder's
//     slot: if its byte lock can be taken, the holder is gone, and the
//     locker swaps the word from that token to its own while it holds the
//     byte (so no new handle can claim the slot and reuse the token
//     meanwhile), then drops the byte.
//  3. Check the header's magic (a file zeroed or overwritten under the
//     handle is corrupt, not empty) and reload both cursors (h.load): the
//     other side moves its cursor at any time, and a holder that died may
//     have moved this side's.
//  4. The operation writes or reads slots and stores its cursor with a
//     compare-and-swap (moved records which sleepers to wake).
//  5. Release: swap the word from the token to 0 and wake the side's
//     lockers if any sleep; then wake the sleepers moved recorded (after the
//     release: a sleeper woken while the lock is held would sleep again);
//     then leave the gate.
//
// All or nothing. A holder that dies (SIGKILL) at any step leaves the word
// holding its token, and the next locker takes it over after deadAfter,
// plus the time to notice (at most lockMaxSleep). What the dead holder did
// is all or nothing, because the cursor store of step 4 is the one thing
// that makes it visible: a writer that died before it wrote slots past the
// write cursor, which nobody reads and the next writer overwrites; after
// it, its items are delivered though its call never returned. A reader
// that died before its store consumed nothing; after it, the items are
// consumed. The thief reloads the cursors in step 3, so it carries on from
// exactly what was published. (A Broadcast writer that dies in the middle
// of a slot leaves its sequence word odd, which readers treat as an item
// being overwritten: the same as Atomic.)
//
// A Claim or Peek keeps the side's lock after its call returns (keep
// leaves the gate only); Commit, Abort or Release re-enter the gate
// (resume) and give. Close (stop) shuts the gate, ends the handle's waits
// and waits for its running operations under life; detach releases a lock
// still kept for a Claim or Peek, then the holder slot.
//
// Where open file description locks are not offered (holderLocks is false:
// every platform but Linux and Windows for now), every operation takes an
// exclusive flock(2) on the buffer file instead of a lock
// word, both sides alike, and sleeps on the header's file-lock wake words;
// the steps are the same, and the kernel drops the lock of a process that
// dies holding it. The descriptor is locked with golang.org/x/sys rather
// than through gofrs/flock, whose Unlock closes the file.
type flockStrategy struct {
	fd    uintptr
	side  lockWord     // the lock of the handle's side, if words
	mode  lockMode     // how take locks
	token uint32       // the handle's holder slot + 1, once attached, with words
	held  bool         // the handle holds the side's lock word (for detach)
	gate  gate         // serialises this handle's goroutines
	life  sync.RWMutex // calls hold it for reading, Close for writing
	wake  [2]bool      // by direction: moved under the lock, wake after it
}

// lockMode is what a Flock handle takes for an operation.
type lockMode uint8

const (
	lockFile lockMode = iota // an exclusive lock on the buffer file
	lockSide                 // the side's lock word
	lockNone                 // nothing shared: a Broadcast reader with lock words
)

func newFlockStrategy(b *buffer, r role) *flockStrategy {
	s := &flockStrategy{fd: b.file.Fd(), gate: newGate()}
	if holderLocks {
		s.mode = lockNone
		if l, ok := sideLock(b.ring.base, r, b.broadcast); ok {
			s.side, s.mode = l, lockSide
		}
	}
	return s
}

func (s *flockStrategy) owns() bool       { return false }
func (s *flockStrategy) checkFirst() bool { return true }

// attach claims the handle's holder slot where there are lock words. It
// loads nothing: take reloads the cursors under the lock, and without it
// they can move between two loads.
func (s *flockStrategy) attach(h *handle) error {
	if !holderLocks {
		return nil
	}
	token, err := claimHolder(s.fd, h.base)
	if err != nil {
		return err
	}
	s.token = token
	return nil
}

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
	if lockStep != nil {
		lockStep(stepTaken)
	}
	if err := h.load(); err != nil {
		s.unlock(h)
		s.gate.leave()
		return err
	}
	return nil
}

func (s *flockStrategy) moved(_ *handle, d direction) {
	s.wake[d] = true
	if lockStep != nil {
		lockStep(stepMoved)
	}
}

func (s *flockStrategy) give(h *handle) {
	if lockStep != nil {
		lockStep(stepGiving)
	}
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

// detach releases the side's lock if a Claim or Peek still keeps it, and
// then the holder slot (closing the file would drop it too). It runs once
// every call has been dismissed.
func (s *flockStrategy) detach() error {
	if s.held {
		s.held = false
		s.side.release(s.token)
	}
	if s.token != 0 {
		unlockHolder(s.fd, s.token-1)
		s.token = 0
	}
	return nil
}

// lockStep, set only by tests, is called at each step of an operation
// where a killed holder must leave the buffer usable: with the lock just
// taken, with the cursor just stored, and just before the release.
var lockStep func(step string)

const (
	stepTaken  = "taken"
	stepMoved  = "moved"
	stepGiving = "giving"
)

const (
	lockSpins    = 4
	lockYields   = 8
	lockMaxSleep = time.Millisecond
	// lockPolls is how many times a spinning locker reads the word for 0
	// before it tries again: an operation holds it for well under a
	// microsecond.
	lockPolls = 64
	// deadAfter is how long a locker sees the same token in the word
	// before it asks whether that holder is alive (two system calls).
	// Live holders keep the lock for a microsecond or so, unless they are
	// descheduled, so the question is seldom asked of a live one.
	deadAfter = 2 * time.Millisecond
)

// lock takes the handle's lock for one operation without ever blocking in
// the kernel, so that a context or Close can end the wait even when the
// holder is alive but stopped, and checks the header under it.
func (s *flockStrategy) lock(ctx context.Context, h *handle) error {
	switch s.mode {
	case lockSide:
		if !s.side.try(s.token) {
			if err := s.lockWait(ctx, h); err != nil {
				return err
			}
		}
		s.held = true
	case lockFile:
		return s.lockFile(ctx, h)
	}
	return s.checkSound(h)
}

// lockWait waits for the side's lock word and takes it (protocol step 2).
func (s *flockStrategy) lockWait(ctx context.Context, h *handle) error {
	var ws waitState
	var holder uint32 // the token seen since seenAt
	var seenAt time.Time
	for i := 0; ; i++ {
		if err := waitEnded(ctx, h); err != nil {
			return err
		}
		switch {
		case i < lockSpins:
			for range lockPolls {
				if atomic.LoadUint32(s.side.word) == 0 {
					break
				}
			}
		case i < lockSpins+lockYields:
			if !h.yield() {
				i = lockSpins + lockYields - 1 // sleep from now on
			}
		default:
			if t := atomic.LoadUint32(s.side.word); t != 0 {
				now := time.Now()
				switch {
				case t != holder:
					holder, seenAt = t, now
				case now.Sub(seenAt) >= deadAfter:
					seenAt = now
					stolen, err := s.side.reclaim(s.fd, t, s.token)
					if stolen || err != nil {
						return err
					}
				}
			}
			got := false
			sleep(&ws, s.side.seq, s.side.waiters, func() bool {
				got = s.side.try(s.token)
				return got
			}, lockMaxSleep)
			if got {
				return nil
			}
		}
		if s.side.try(s.token) {
			return nil
		}
	}
}

// waitEnded reports why a wait for the lock must end: Close or ctx.
func waitEnded(ctx context.Context, h *handle) error {
	if h.closing.Load() {
		return ErrClosed
	}
	if ctx != nil {
		return ctx.Err()
	}
	return nil
}

// checkSound checks, under the lock, that the file was not zeroed or
// overwritten under the handle: it must not look like an empty buffer.
func (s *flockStrategy) checkSound(h *handle) error {
	if !h.sound() {
		s.unlock(h)
		return errOverwritten
	}
	return nil
}

// unlock ends what lock took.
func (s *flockStrategy) unlock(h *handle) {
	switch s.mode {
	case lockSide:
		s.held = false
		s.side.release(s.token)
	case lockFile:
		unlockFd(s.fd)
		wakeWord(h.lockSeq, h.lockWaiters)
	}
}

// lockFile takes the file lock: it asks at once a few times (operations
// hold the lock for about a microsecond), then between yields, and then
// sleeps on the header's file-lock futex, which an unlocking process bumps
// when it sees a sleeper (elsewhere than Linux, and to notice a context,
// Close, or a holder that died without unlocking, the sleep lasts at most
// lockMaxSleep).
func (s *flockStrategy) lockFile(ctx context.Context, h *handle) error {
	var ws waitState
	for i := 0; ; i++ {
		if ok, err := s.tryFile(h); ok || err != nil {
			return err
		}
		if err := waitEnded(ctx, h); err != nil {
			return err
		}
		switch {
		case i < lockSpins:
		case i < lockSpins+lockYields:
			if !h.yield() {
				i = lockSpins + lockYields - 1
			}
		default:
			var got bool
			var err error
			sleep(&ws, h.lockSeq, h.lockWaiters, func() bool {
				got, err = s.tryFile(h)
				return got || err != nil
			}, lockMaxSleep)
			if got || err != nil {
				return err
			}
		}
	}
}

// tryFile takes the file lock if it is free, and checks the header.
func (s *flockStrategy) tryFile(h *handle) (bool, error) {
	ok, err := lockFd(s.fd, false)
	if !ok || err != nil {
		return false, err
	}
	return true, s.checkSound(h)
}
