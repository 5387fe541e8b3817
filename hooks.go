package scb

import (
	"time"

	"github.com/sharedcbuff/scb/internal/wait"
)

// The engine's test hooks, all of them, in one place: variables that the
// tests set (through export_test.go) to stop an operation at a chosen step,
// to run code between an attempt and its wait, or to make a lost wake-up a
// hang instead of a delay. Production code only reads them, and each read
// is one load of a package variable.

var (
	// lockStep is called at each step of an operation where a side's
	// holder that is killed must leave the buffer usable: with the side
	// just taken, with the shared cursor just stored, and just before the
	// side is given back (the stepX names below).
	lockStep func(step string)

	// climbHook, when set, stands in for a blocking call's climb of the
	// wait ladder (await): it is given the ladder and returns the stage
	// the climb ended in, so that the tests see each wait's ladder and
	// choose how it ends. (It is not given the condition: a function it
	// could keep would make the condition escape, an allocation per wait.)
	climbHook func(l wait.Ladder) wait.Stage

	// inlineHook runs when an Atomic PopWait or PushWait found no item (or
	// no room) at its first try, before it polls inline.
	inlineHook func()

	// awaitHook runs as each wait begins: between an attempt that found
	// nothing to do and the wait that follows it.
	awaitHook func()

	// takeStep is called at each step of the take protocol where a reader
	// that is killed must lose nothing (cursor_take.go): with an item's
	// slot just marked, the take cursor not moved yet; with the take
	// cursor moved; with a lease just acknowledged, the read cursor not
	// moved yet; with an item just given back, the returns counter not
	// bumped yet (the takeX names below).
	takeStep func(step string)

	// sleepLimit and roomLimit, when set, bound one sleep of a blocking
	// call waiting for items, and for room, instead of wait.MaxSleep and
	// roomDelay; shareLimit bounds a batch reader's nap instead of
	// shareNap.
	sleepLimit, roomLimit, shareLimit time.Duration

	// popFrontHook, when set, is called each time a Flock Pop read its
	// item at the read cursor in one step (queueReader.popFront).
	popFrontHook func()

	// sweepLimit, when set, is how often a Flock reader asks holders
	// whether they live instead of sweepEvery.
	sweepLimit time.Duration
)

// The steps lockStep is called at.
const (
	stepTaken  = "taken"
	stepMoved  = "moved"
	stepGiving = "giving"
)

// The steps takeStep is called at.
const (
	takeMarked   = "marked"
	takeMoved    = "take-moved"
	takeAcked    = "acked"
	takeReturned = "returned"
)
