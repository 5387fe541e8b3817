package scb

import (
	"context"

	"github.com/sharedcbuff/scb/internal/layout"
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

// side is the part of a buffer whose shared cursor a handle moves: the
// writers share the write cursor, Queue readers the read cursor, and a
// Broadcast reader's cursor is its own.
type side uint8

const (
	writeSide side = iota + 1 // writers: the write cursor
	readSide                  // Queue readers: the read cursor
	ownSide                   // a Broadcast reader: nothing shared
)

// sideOf returns the side a handle of role r works on in buffer b.
func sideOf(b *mapping, r role) side {
	switch {
	case r == roleWriter:
		return writeSide
	case b.geo.Mode == layout.ModeQueue:
		return readSide
	}
	return ownSide
}

// strategy is the lock of one side of a buffer, and nothing more: a handle
// takes it around one operation and gives it back. What an operation does
// under it, reloading the cursors, checking the header, waking the other
// side once the lock is given back, is the handle's (handle.go); a
// strategy never calls back into the handle. A new scheme is a new
// implementation of these four methods and a case in newStrategy.
//
// Each handle has its own strategy value, made when it attaches, which
// takes what the handle needs for its whole life (a role lock, a holder
// slot) and gives it up in detach.
//
//   - take locks the side for one operation: afterwards the calling
//     goroutine has exclusive use of the side's shared cursor among every
//     handle of the buffer, in every process. It gives up with ctx's error
//     when ctx is done, and with ErrClosed once the
//     handle is closing. A holder that dies between take and give must
//     leave the side to the next taker, with what it did all or nothing
//     (the cursor store is the one thing that makes it visible).
//   - give unlocks the side.
//   - owns reports whether the handle holds its side for its whole life,
//     so that nobody else moves the side's cursor: take and give do
//     nothing, the handle's copies of the cursors stay valid between
//     operations, the inline paths use them, and the handle is used by one
//     goroutine at a time. A handle that does not own its side reloads
//     its copies after every take and may be used by several goroutines
//     (the handle's guard serialises them: a lock belongs to the handle).
//   - locks reports whether take takes a lock for the operation, so that
//     a handle looks whether it could proceed before it takes one (idle);
//     false where the side is owned, or where take takes nothing (a Flock
//     Queue reader, which takes items without a lock).
//   - detach gives up what the handle took for its life, once, after
//     every call on the handle has returned.
//   - token is what the handle marks the Queue items it takes with
//     (cursor_take.go): its holder slot + 1, whose byte lock proves the
//     holder alive; 1 for the Atomic strategy's one reader; 0 where marks
//     last only while the file lock is held.
type strategy interface {
	take(ctx context.Context) error
	give()
	owns() bool
	locks() bool
	detach() error
	token() uint16
}
