// Package wait is how scb's blocking calls wait, across processes: the
// spin → yield → sleep ladder (ladder.go), and the sleep itself, on a
// wake-up word in the shared mapping that the other side bumps. The sleep
// is platform code: a futex on Linux (wake_linux.go), its equivalents on
// FreeBSD and macOS, named events on Windows (wake_windows.go), and a
// bounded sleeping back-off where there is none (wake_other.go).
//
// The protocol of a wake-up word (Word): a sleeper adds itself to the
// word's count of registered sleepers, reads the word, checks its
// condition once more, and sleeps only if the word still has the value it
// read. A waker first makes the condition true (publishes its cursor, frees
// its lock) and then, only if the count is not zero, claims every
// registration at once, bumps the word and wakes its sleepers. Both steps
// are sequentially consistent atomics, so either the sleeper sees the
// condition or the waker sees the sleeper: no wake-up is lost, and when
// nobody sleeps a wake costs one load and no system call.
//
// The package knows words and time, not buffers: it imports nothing of
// scb. Its test hooks are in hooks.go.
package wait

import (
	"sync/atomic"
	"time"
)

// Word is a wake-up word in a shared mapping, with its count of registered
// sleepers.
type Word struct {
	Seq     *uint32 // bumped by a waker that found sleepers registered
	Waiters *uint32 // sleepers registered since the last wake
}

// State is one blocking call's progress through its sleeps, for the
// back-off where the platform has no wait on an address.
type State struct {
	sleeps int
}

// minSleep is the first step of the back-off where waits poll.
const minSleep = 20 * time.Microsecond

// The two kinds of registration on a word's Waiters, which holds their
// counts side by side (a Wake claims both at once):
//
//   - One, by Sleep: a sleeper that any change of the condition must wake;
//   - Share, by SleepForShare: a sleeper content to sleep on until a share
//     of work is there (a reader of batches), whose waker may leave it
//     asleep until then (Eager tells the kinds apart). Its own limit ends
//     its sleep when the share does not come.
//
// Registrations left behind (sleeps that end by their limit, WaitAny's on
// the words that did not wake it) pile up until the next wake claims
// them, and a half may carry over: a registration that leaves its own
// half at zero is counted twice (register), so a sleeper's half never
// reads zero while it sleeps. A carry adds a phantom Share registration,
// which costs a waker at most one wake-up it need not make.
const (
	One   uint32 = 1
	Share uint32 = 1 << 16
)

// Sleep registers the caller as a sleeper on w (One), and sleeps until
// w.Seq changes or limit passes, unless ready already reports true. The
// registration is not undone: a waker claims every registration at once
// (Wake), and a sleeper that wakes by itself registers again before it
// next sleeps. A registration left behind (a timeout, or a sleeper killed)
// costs the next waker one wake-up, once. Without futexes it sleeps one
// step of a back-off instead (minSleep, doubling up to MaxSleep).
func (w Word) Sleep(s *State, ready func() bool, limit time.Duration) {
	w.sleep(s, ready, limit, One)
}

// SleepForShare is Sleep for a sleeper that registers as Share: a waker
// that checks Eager may let it sleep on until limit.
func (w Word) SleepForShare(s *State, ready func() bool, limit time.Duration) {
	w.sleep(s, ready, limit, Share)
}

func (w Word) sleep(s *State, ready func() bool, limit time.Duration, as uint32) {
	s.sleeps++
	if !Futexes {
		if !ready() {
			time.Sleep(min(minSleep<<min(s.sleeps-1, 10), MaxSleep, limit))
		}
		return
	}
	register(w.Waiters, as)
	v := atomic.LoadUint32(w.Seq)
	if !ready() {
		waitOn(w.Seq, v, limit)
	}
}

// register adds a registration of kind as (One or Share) to waiters, twice
// if the first carried its half over to zero.
func register(waiters *uint32, as uint32) {
	n := atomic.AddUint32(waiters, as)
	if as == One && n&(Share-1) == 0 || as == Share && n < Share {
		atomic.AddUint32(waiters, as)
	}
}

// Sleepers reports whether a sleeper is registered on w now.
func (w Word) Sleepers() bool { return atomic.LoadUint32(w.Waiters) != 0 }

// Eager reports whether registrations reads a sleeper registered as One
// (a load of Waiters): one that every change must wake.
func Eager(registrations uint32) bool { return registrations&(Share-1) != 0 }

// Wake wakes the sleepers registered on w, if any: the caller that swaps
// the registrations to zero makes the one system call, and every later
// caller finds none, until a sleeper registers again. Callers make the
// sleepers' condition true first; both that store and the swap are
// sequentially consistent, so either the sleeper's check sees it or the
// waker sees its registration (and then bumps Seq after the sleeper read
// it, so its wait cannot miss the wake).
func (w Word) Wake() {
	if atomic.LoadUint32(w.Waiters) == 0 || atomic.SwapUint32(w.Waiters, 0) == 0 {
		return
	}
	w.WakeAll()
}

// WakeAll bumps Seq and wakes whoever sleeps on it, registered or not:
// Close uses it so that its own handle's sleepers notice; the others go
// back to sleep.
func (w Word) WakeAll() {
	wakeOn(w.Seq, atomic.AddUint32(w.Seq, 1)-1)
}
