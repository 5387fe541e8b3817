package scb

import "time"

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

	// awaitHook runs as each wait begins: between an attempt that found
	// nothing to do and the wait that follows it.
	awaitHook func()

	// sleepLimit and roomLimit, when set, bound one sleep of a blocking
	// call waiting for items, and for room, instead of wait.MaxSleep and
	// roomDelay.
	sleepLimit, roomLimit time.Duration
)

// The steps lockStep is called at.
const (
	stepTaken  = "taken"
	stepMoved  = "moved"
	stepGiving = "giving"
)
