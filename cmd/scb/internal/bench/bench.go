// Package bench measures scb against what a user would otherwise pick to
// move items between two processes: an os.Pipe, a Unix-domain
// SOCK_SEQPACKET socket pair, and (as references) a Go channel between two
// goroutines, a bare loop over two atomic counters in a shared mapping with
// no API around it (the ceiling for scb's design), and an in-process copy.
//
// Every scb, pipe, socket and bare-loop figure is taken across two real
// processes: the measuring process starts this executable again as the
// other end, so a program using the package must call RunChild at the top
// of main (or TestMain). Throughput and RoundTrip take one measurement;
// Run takes the whole suite several times and reports medians and ratios.
package bench

import (
	"errors"
	"fmt"
	"os"
	"time"
)

// Via names a transport.
type Via string

const (
	Atomic Via = "atomic" // scb, Atomic strategy
	Flock  Via = "flock"  // scb, Flock strategy
	Pipe   Via = "pipe"   // os.Pipe, one write per message
	Socket Via = "socket" // Unix-domain SOCK_SEQPACKET pair, one write per message
	Chan   Via = "chan"   // a Go channel between two goroutines of one process
	Bare   Via = "bare"   // two atomic counters and a ring in a shared mapping, spinning
	Copy   Via = "copy"   // copy() into a ring in one process: memory bandwidth
)

// Shape is what one throughput measurement moves.
type Shape struct {
	Size     int  // bytes per item: 8 (a uint64) or more (byte items)
	Batch    int  // items per call; 1 for one at a time
	ZeroCopy bool // scb only: Claim/Commit and Peek/Release instead of copies
}

// Wait is how the ends of a round trip wait for each other.
type Wait string

const (
	Spin  Wait = "spin"  // poll the non-blocking call
	Block Wait = "block" // PopWait with the default Spin: poll briefly, then sleep
	Sleep Wait = "sleep" // PopWait with Spin -1: sleep in the kernel at once (futex on Linux)
)

// ErrUnsupported is returned for a transport this platform lacks.
var ErrUnsupported = errors.New("bench: not supported on this platform")

// ringLength returns the slots scb and the bare loop use for items of
// size bytes: about 1 MiB of ring for large items, 1024 slots for small.
func ringLength(size int) int {
	if size >= 1024 {
		return 256
	}
	return 1024
}

// Throughput moves n items of shape s from this process to another over
// via and returns the time from the first item sent to the last received.
// The receiving end checks every item's sequence number.
func Throughput(via Via, s Shape, n int, dir string) (time.Duration, error) {
	if s.Batch < 1 {
		s.Batch = 1
	}
	if s.Size < 8 {
		return 0, fmt.Errorf("bench: item size %d is below 8", s.Size)
	}
	switch via {
	case Atomic, Flock:
		return scbThroughput(via, s, n, dir)
	case Pipe, Socket:
		return streamThroughput(via, s, n)
	case Bare:
		return bareThroughput(s, n, dir)
	case Chan:
		return chanThroughput(s, n), nil
	case Copy:
		return copyThroughput(s, n), nil
	}
	return 0, fmt.Errorf("bench: unknown transport %q", via)
}

// RoundTrip sends n 8-byte items to another process over via, one at a
// time, each echoed back before the next is sent, and returns every round
// trip's time.
func RoundTrip(via Via, wait Wait, n int, dir string) ([]time.Duration, error) {
	switch via {
	case Atomic, Flock:
		return scbRoundTrip(via, wait, n, dir)
	case Pipe, Socket:
		return streamRoundTrip(via, n)
	case Bare:
		return bareRoundTrip(n, dir)
	case Chan:
		return chanRoundTrip(n), nil
	}
	return nil, fmt.Errorf("bench: unknown transport %q for a round trip", via)
}

// tempDir makes a directory for one measurement's files.
func tempDir(dir string) (string, func(), error) {
	d, err := os.MkdirTemp(dir, "scb-bench")
	if err != nil {
		return "", nil, err
	}
	return d, func() { os.RemoveAll(d) }, nil
}
