package scb

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/sharedcbuff/scb/internal/platform"
	"github.com/sharedcbuff/scb/internal/wait"
)

// flockStrategy lets any number of writers and readers, in any processes
// and goroutines, share a buffer. Its name is historical: where there are
// lock words (Linux, Windows) the file lock is only the arbiter that proves
// a lock holder died, and an operation that nobody contends makes no
// system call at all.
//
// The lock words. The header has one lock per side (internal/layout):
// writers contend only with writers, for the write cursor, and Queue
// readers only with Queue readers, for the read cursor; the two cursors
// pass between the sides exactly as in the Atomic strategy, whose one
// writer and one reader are what the two holders are at any moment. A
// Broadcast reader's cursor is its own, so it takes no lock. A lock word is
// 0 while the side is free and otherwise holds its holder's token.
//
// Tokens and holder slots (lockword.go). When a handle opens it claims a
// holder slot: a byte lock on the buffer file far past its end that the
// kernel drops when the handle closes its file or its process dies
// (internal/platform's holder files). Its token is the slot + 1. So "the
// byte lock of the token's slot is free" proves that the token's holder is
// gone.
//
// The protocol of one operation, as the handle runs it (handle.go):
//  1. The handle's guard lets one of its goroutines in: a token belongs
//     to the handle, not to a goroutine.
//  2. take: compare-and-swap the side's word from 0 to the token. If it
//     is taken, climb the wait ladder (polls, then yields), then sleep on
//     the side's sequence word (package wait's protocol: an unlocker makes
//     a system call only when someone sleeps), at most lockMaxSleep at a
//     time so that a context, Close or a dead holder are noticed. A locker
//     that has seen the same token in the word for deadAfter asks the
//     holder's slot: if its byte lock can be taken, the holder is gone, and
//     the locker swaps the word from that token to its own while it holds
//     the byte (so no new handle can claim the slot and reuse the token
//     meanwhile), then drops the byte.
//  3. The handle checks the header's magic (a file zeroed or overwritten
//     under the handle is corrupt, not empty) and reloads both cursors:
//     the other side moves its cursor at any time, and a holder that died
//     may have moved this side's.
//  4. The operation writes or reads slots and stores its cursor with a
//     compare-and-swap.
//  5. give: swap the word from the token to 0 and wake the side's lockers
//     if any sleep. Then the handle wakes the other side's sleepers (after
//     the release: a sleeper woken while the lock is held would sleep
//     again), and lets its next goroutine in.
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
// A Claim or Peek keeps the side's lock after its call returns (the handle
// does not give it back); Commit, Abort or Release give it. detach
// unlocks a side still kept for a Claim or Peek when the handle closes,
// then the holder slot.
//
// Where there are no holder locks (platform.HolderLocks is false: every
// platform but Linux and Windows for now), take locks the whole buffer
// file instead, with an exclusive flock(2), both sides alike, and lockers
// sleep on the header's file-lock wake word; the kernel drops the lock of a
// process that dies holding it. The descriptor is locked through
// internal/platform rather than gofrs/flock, whose Unlock closes the file.
type flockStrategy struct {
	fd      uintptr
	mode    lockMode
	side    lockWord     // the side's lock word (useWord)
	file    wait.Word    // the header's file-lock wake word (useFile)
	tok     uint32       // the handle's holder slot + 1, where there are holder locks
	held    bool         // the handle holds the side's word (for detach)
	closing *atomic.Bool // the handle's: set by Close, ends lock waits
	y       *wait.Yielder
}

// lockMode is what a Flock handle takes for an operation.
type lockMode uint8

const (
	useFile lockMode = iota // an exclusive lock on the buffer file
	useWord                 // the side's lock word
	useNone                 // nothing: a reader, where there are lock words (Queue readers take without a lock, cursor_take.go)
)

// newFlockStrategy takes, where there are lock words, the handle's token:
// its holder slot + 1 (holders.go), which the handle claimed. It loads
// nothing: the handle reloads the cursors under the lock, and without it
// they can move between two loads.
func newFlockStrategy(b *mapping, sd side, token uint32, closing *atomic.Bool, y *wait.Yielder) (*flockStrategy, error) {
	s := &flockStrategy{
		fd:      b.file.Fd(),
		file:    wait.Word{Seq: b.lay.LockSeq, Waiters: b.lay.LockWaiters},
		closing: closing,
		y:       y,
	}
	if !platform.HolderLocks {
		return s, nil
	}
	s.tok, s.mode = token, useNone
	if sd == writeSide {
		s.side, s.mode = lockWordOf(b.lay.Base, sd), useWord
	}
	if !b.geo.Broadcast() {
		// The slot's last holder is gone (its byte lock was free), and
		// nobody else takes back items in this token's name while this
		// handle holds the byte: give back what it left leased.
		leasesOf(&b.lay, uint16(token), false)
	}
	return s, nil
}

func (s *flockStrategy) owns() bool { return false }

func (s *flockStrategy) locks() bool { return s.mode != useNone }

// token is the holder slot + 1 where there are holder locks, else 0: what
// this handle marks the items it takes with.
func (s *flockStrategy) token() uint16 { return uint16(s.tok) }

const (
	lockMaxSleep = time.Millisecond
	// deadAfter is how long a locker sees the same token in the word
	// before it asks whether that holder is alive (two system calls).
	// Live holders keep the lock for a microsecond or so, unless they are
	// descheduled, so the question is seldom asked of a live one.
	deadAfter = 2 * time.Millisecond
)

// fileLadder: trying the file lock is a system call, so a locker tries it
// 4 times before it yields.
var fileLadder = wait.Ladder{Spins: 4, Yields: 8}

// wordLadder is a lock word's wait before its locker sleeps: an operation
// holds a lock word for well under a microsecond, so a locker polls it 256
// times (a load each, and a compare-and-swap when it is free), then yields
// up to 8 times. On one core (oneCore) the holder cannot run while the
// locker polls: it yields at once.
func wordLadder() wait.Ladder {
	if oneCore {
		return wait.Ladder{Yields: 8}
	}
	return wait.Ladder{Spins: 256, Yields: 8}
}

// take locks the side for one operation without ever blocking in the
// kernel, so that a context or Close can end the wait even when the holder
// is alive but stopped.
func (s *flockStrategy) take(ctx context.Context) error {
	switch s.mode {
	case useWord:
		if !s.side.lock(s.tok) {
			if err := s.wordWait(ctx); err != nil {
				return err
			}
		}
		s.held = true
	case useFile:
		return s.fileWait(ctx)
	}
	return nil
}

// give unlocks what take locked, and wakes the lockers that sleep.
func (s *flockStrategy) give() {
	switch s.mode {
	case useWord:
		s.held = false
		s.side.unlock(s.tok)
	case useFile:
		platform.UnlockFd(s.fd)
		s.file.Wake()
	}
}

// wordWait waits for the side's lock word and takes it (protocol step 2).
func (s *flockStrategy) wordWait(ctx context.Context) error {
	try := func() bool { return s.side.lock(s.tok) }
	if err := s.ended(ctx); err != nil {
		return err
	}
	if wordLadder().Climb(s.y, try) != wait.Missed {
		return nil
	}
	var ws wait.State
	var holder uint32 // the token seen since seenAt
	var seenAt time.Time
	for {
		if err := s.ended(ctx); err != nil {
			return err
		}
		if t := atomic.LoadUint32(s.side.word); t != 0 {
			now := time.Now()
			switch {
			case t != holder:
				holder, seenAt = t, now
			case now.Sub(seenAt) >= deadAfter:
				seenAt = now
				stolen, err := s.side.reclaim(s.fd, t, s.tok)
				if stolen || err != nil {
					return err
				}
			}
		}
		got := false
		s.side.wake.Sleep(&ws, func() bool { got = try(); return got }, lockMaxSleep)
		if got || try() {
			return nil
		}
	}
}

// fileWait takes the file lock: it tries at once, then climbs the wait
// ladder, and then sleeps on the header's file-lock wake word, which an
// unlocking process bumps when it sees a sleeper (elsewhere than Linux,
// and to notice a context, Close, or a holder that died without
// unlocking, the sleep lasts at most lockMaxSleep).
func (s *flockStrategy) fileWait(ctx context.Context) error {
	var err error
	try := func() bool {
		var ok bool
		ok, err = platform.LockFd(s.fd, false)
		return ok || err != nil
	}
	if try() {
		return err
	}
	if e := s.ended(ctx); e != nil {
		return e
	}
	if fileLadder.Climb(s.y, try) != wait.Missed {
		return err
	}
	var ws wait.State
	for {
		if e := s.ended(ctx); e != nil {
			return e
		}
		got := false
		s.file.Sleep(&ws, func() bool { got = try(); return got }, lockMaxSleep)
		if got || try() {
			return err
		}
	}
}

// ended reports why a wait for the lock must end: Close or ctx.
func (s *flockStrategy) ended(ctx context.Context) error {
	if s.closing.Load() {
		return ErrClosed
	}
	return ctx.Err()
}

// detach unlocks the side if a Claim or Peek still keeps it; the handle
// then gives its holder slot up. It runs once every call has returned.
func (s *flockStrategy) detach() error {
	if s.held {
		s.held = false
		s.side.unlock(s.tok)
	}
	return nil
}
