package scb

import (
	"context"
	"sync/atomic"
)

// role is what a handle does with a buffer.
type role uint8

const (
	roleWriter role = iota + 1
	roleReader
)

func (r role) String() string {
	if r == roleWriter {
		return "writer"
	}
	return "reader"
}

// strategy is what differs between the Atomic and the Flock scheme: who may
// hold a role at the same time, and what an operation must do before it may
// touch the shared cursors. Each Writer and Reader has its own.
//
// The index scheme itself (ring.go's slot layout, the cursor arithmetic in
// writer.go and reader.go) is the same for both. With Atomic, a handle is
// the only one of its role that moves its cursor, so it keeps the cursor in
// a local variable and shared() is false: operations never call lock. With
// Flock, other handles move the cursors too, so every operation calls lock,
// re-reads the cursors, and calls unlock when done.
type strategy interface {
	// shared reports whether other handles may move this handle's cursor,
	// so that each operation must lock, reload, and unlock.
	shared() bool
	// lock gives the calling handle exclusive use of the ring until unlock,
	// across processes. (The handle's own mutex covers its goroutines.) It
	// gives up with ctx's error when ctx (which may be nil) is done, and
	// with ErrClosed once closing is set.
	lock(ctx context.Context, closing *atomic.Bool) error
	unlock()
	// release gives up the role; the strategy is unusable afterwards.
	release() error
}

// newStrategy attaches a handle of role r to b with b's strategy.
func newStrategy(b *buffer, r role) (strategy, error) {
	switch b.geo.strategy {
	case Atomic:
		return newAtomicStrategy(b, r)
	case Flock:
		return newFlockStrategy(b), nil
	}
	return nil, corruptf("strategy %d", b.geo.strategy)
}

// cursorError reports shared cursors that no valid buffer can have.
func cursorError(tail, head, length uint64) error {
	return corruptf("read cursor %d and write cursor %d are not 0 to %d apart", tail, head, length)
}
