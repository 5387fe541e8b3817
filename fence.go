package scb

import "sync/atomic"

// loadFence orders the plain loads that read a Broadcast item before the
// atomic load that re-checks the slot's sequence number. Go has no
// stand-alone fence; an atomic read-modify-write is a full barrier on every
// architecture Go supports (a locked instruction on x86, an acquire-release
// one on arm64), and this word is private to the Reader, so it costs no
// cache traffic between cores.
//
//go:noinline
func loadFence(word *uint32) {
	atomic.AddUint32(word, 1)
}
