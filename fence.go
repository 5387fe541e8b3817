package scb

import "sync/atomic"

// loadFence orders the plain loads that read a Broadcast item before the
// atomic load that re-checks the slot's sequence number. Go has no
// stand-alone fence; an atomic read-modify-write does it: on x86 it is a
// locked instruction, a full barrier; on arm64 its store releases, which
// keeps the item's loads before it, and the sequence load after it is an
// acquire, which a release cannot pass. The word is private to the Reader,
// so it costs no cache traffic between cores.
//
//go:noinline
func loadFence(word *uint32) {
	atomic.AddUint32(word, 1)
}
