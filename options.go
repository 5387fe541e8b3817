package scb

import (
	"fmt"
	"io/fs"
	"runtime"
	"strings"
	"time"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
)

// A buffer's shape and how it is asked for: the strategies, the modes, the
// Options of Create and the openers, and the checks of both (what the
// options may say, whether the opened buffer matches them, and whether
// this platform offers the strategy).

// Strategy selects how processes coordinate access to a buffer. It is fixed
// when the buffer is created and recorded in its file.
type Strategy uint8

const (
	// Atomic is the lock-free strategy, and the default: cursors are 64-bit
	// counters in the shared mapping, updated with sync/atomic. One writer at
	// a time; in Queue mode also one reader at a time; in Broadcast mode any
	// number of readers. The roles are held with file locks that the kernel
	// releases when a process dies.
	Atomic Strategy = iota + 1

	// Flock lets any number of writers and readers, in any number of
	// processes and goroutines, share the buffer. On Linux and Windows
	// writers take turns through a lock word in the mapping (no system
	// call unless one waits) whose holder's death the kernel proves with a
	// byte lock, and Queue readers take items with a compare-and-swap,
	// without a lock; elsewhere every operation takes an exclusive flock(2)
	// on the buffer file. The name is historical.
	Flock
)

// String returns "atomic" or "flock".
func (s Strategy) String() string {
	switch s {
	case Atomic:
		return "atomic"
	case Flock:
		return "flock"
	}
	return fmt.Sprintf("Strategy(%d)", uint8(s))
}

func (s Strategy) valid() bool { return s == Atomic || s == Flock }

// ParseStrategy returns the Strategy named by s ("atomic" or "flock", in
// any case).
func ParseStrategy(s string) (Strategy, error) {
	for _, v := range []Strategy{Atomic, Flock} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown strategy %q (want atomic or flock)", ErrInvalidOptions, s)
}

// Mode selects who receives each item. It is fixed when the buffer is
// created and recorded in its file.
type Mode uint8

const (
	// Queue, the default, delivers every item to exactly one reader, in
	// order. The read cursor lives in the file, so a reader that reopens the
	// buffer continues where the last one stopped. A full buffer refuses
	// (or makes wait) the writer; nothing is ever overwritten.
	Queue Mode = iota + 1

	// Broadcast gives every reader its own cursor: each sees every item
	// written after the point where it starts. The writer never waits; when
	// the ring is full it overwrites the oldest item, and a reader that falls
	// more than Length items behind skips ahead and is told how many it lost
	// (see [OverrunError]).
	Broadcast
)

// String returns "queue" or "broadcast".
func (m Mode) String() string {
	switch m {
	case Queue:
		return "queue"
	case Broadcast:
		return "broadcast"
	}
	return fmt.Sprintf("Mode(%d)", uint8(m))
}

func (m Mode) valid() bool { return m == Queue || m == Broadcast }

// ParseMode returns the Mode named by s ("queue" or "broadcast", in any
// case).
func ParseMode(s string) (Mode, error) {
	for _, v := range []Mode{Queue, Broadcast} {
		if strings.EqualFold(s, v.String()) {
			return v, nil
		}
	}
	return 0, fmt.Errorf("%w: unknown mode %q (want queue or broadcast)", ErrInvalidOptions, s)
}

// Options configures Create and the openers. A nil *Options means all
// defaults. The functions never modify the Options they are given.
//
// Openers read the geometry, strategy and mode from the buffer's file and
// need none of them; a non-zero field that differs from the file's value is
// refused with ErrMismatch.
type Options struct {
	// Length is the number of slots, at least 2. Zero means 1024 for Create
	// and "whatever the buffer has" for the openers.
	Length int

	// ItemSize is the largest item in bytes, at least 1. Zero means 8 (one
	// uint64) for Create and "whatever the buffer has" for the openers.
	ItemSize int

	// FixedSize makes every item exactly ItemSize bytes, as integers and
	// typed records are: the slots then record no item length, so an
	// 8-byte item takes 8 bytes of a Queue slot instead of 16 (16 of a
	// Broadcast slot, with its sequence word, instead of 24), and batches
	// move half the memory. Byte writes (PushBytes, Commit and their
	// forms) refuse a shorter item with ErrRange (a longer one is
	// ErrTooLarge, as always), and a typed handle
	// whose type is not ItemSize bytes is refused when it is made. Create
	// records it in the file; an opener that sets it refuses a buffer of
	// variable-size items with ErrMismatch, one that leaves it false
	// takes either ([Info].FixedSize says which a buffer has).
	FixedSize bool

	// Strategy is the coordination scheme. Zero means Atomic for Create and
	// "whatever the buffer has" for the openers.
	Strategy Strategy

	// Mode is the delivery model. Zero means Queue for Create and "whatever
	// the buffer has" for the openers.
	Mode Mode

	// Dir is the directory holding the buffer's files. Empty means
	// DefaultDir().
	Dir string

	// Perm is the permission of the files Create makes; the umask does not
	// apply. Zero means 0600. Openers ignore it.
	Perm fs.FileMode

	// SkipBacklog makes a Broadcast reader start at the next item written
	// instead of the oldest item still in the buffer. Queue readers and
	// writers ignore it.
	SkipBacklog bool

	// Spin sets how long blocking calls poll before they sleep in the
	// kernel: the number of polls of the cursor they wait on (each a few
	// nanoseconds), followed by a few polls that yield the processor. Zero
	// means the default, 1000, and while the other side keeps pace (64
	// waits in a row ended within those polls) polls on for up to 30 µs
	// more, unless the cores are oversubscribed: a sleep and its wake-up
	// would stall both sides for longer than that. A wait that needs
	// longer (it yields or sleeps) stops that, and it takes twice as many
	// quick waits in a row to start again (at most 65,536); a wait the
	// longer poll did end halves both counts. It needs two cores and a
	// fine clock (not Windows, whose clock moves in 15.6 ms ticks). Where
	// the process may run on one core only (its CPU affinity: a container
	// pinned to one CPU, a program started with taskset; not a CPU quota)
	// the default polls not at all, since a peer on that core cannot move
	// meanwhile: a wait yields the core, then sleeps (a peer pinned to
	// another core may want an explicit Spin). A negative value means
	// sleep at once, which saves CPU at the price of a kernel wake-up
	// (some microseconds) on every wait. A spin however
	// long still ends for the call's context, for Close (Flock) and for
	// the end of the stream, and, where the process runs goroutines on one
	// thread (GOMAXPROCS 1), lets the others run now and then: a program
	// that wants a reader to poll and never sleep (a core busy, the
	// latency of a wake-up saved) sets math.MaxInt, for its blocking calls
	// and WaitAny alike. It applies to the handle being opened.
	Spin int

	// BatchWake trades latency for wake-ups in a Queue reader's batch
	// reads (PopIntoWait, PopManyWait, PopBytesIntoWait and
	// TypedReader.PopIntoWait, asking for more than one item): a writer
	// of batches (PushMany and its kin) then leaves such a read asleep
	// until a quarter of the ring is ready to take, instead of waking it
	// at every batch. The read's first sleep is a nap of at most a
	// millisecond (plus the system's timer slack), which ends it when the
	// writer pauses first, so items reach it up to about a millisecond
	// late; a reader of small, frequent batches makes a fraction of the
	// wake-ups and spends a fraction of the CPU time. A reader whose nap
	// finds nothing stops napping until its writer is quick again. A
	// writer of one item (Push, a batch of one) still wakes it at once.
	// It applies to the reader being opened; writers and Broadcast
	// readers ignore it, and so does Windows, whose timed waits end on a
	// 15.6 ms clock tick, and every platform where blocking calls poll.
	BatchWake bool

	// Grace is how long a blocking call of the handle being opened waits,
	// once every peer it needs is gone, for another to attach: a reader
	// waiting for items, once every writer is gone (closed or dead)
	// without ending the stream, then returns ErrWriterGone; a Queue
	// writer waiting for room, once every reader is gone, ErrReaderGone. A
	// peer that attaches within the grace (a standby waiting in
	// OpenWriterWait or OpenReaderWait, say) continues the stream, and the
	// call never notices. A buffer that never had a peer of that role (for
	// writers: never had an item written) is waited on without limit: a
	// reader may start before its writer, or after Create's writer set
	// the buffer up and closed. Zero
	// means 500 ms, so that the error comes within about 0.7 s of the last
	// peer's death (a waiting call looks every 100 ms or so); negative
	// means wait for a peer for ever. Where there are no holder locks
	// (every platform but Linux and Windows) nothing proves a peer gone,
	// and calls wait for ever.
	Grace time.Duration

	// AllowOtherOwner lets the openers attach to a buffer file owned by
	// another user in a world-writable sticky directory such as /dev/shm or
	// /tmp. By default such a file is refused with ErrUntrusted, because
	// anyone may have planted it there.
	AllowOtherOwner bool
}

// The defaults Create applies to a zero Length and ItemSize, and the
// openers to a zero Grace.
const (
	defaultLength   = 1024
	defaultItemSize = 8
	defaultGrace    = 500 * time.Millisecond
)

// config is Options with defaults applied; the caller's Options are never
// written.
type config struct {
	Options
	perm fs.FileMode
	typ  layout.TypeRecord // the type CreateTyped records (none: zero)
}

func (o *Options) config() config {
	var c config
	if o != nil {
		c.Options = *o
	}
	if c.Dir == "" {
		c.Dir = DefaultDir()
	}
	c.perm = c.Perm.Perm()
	if c.perm == 0 {
		c.perm = 0o600
	}
	if c.Grace == 0 {
		c.Grace = defaultGrace
	}
	return c
}

// checkOpen validates the fields an opener may set: zero, or a valid value.
func (c *config) checkOpen() error {
	switch {
	case c.Length != 0 && c.Length < 2:
		return optionsf("Length %d is below 2", c.Length)
	case c.ItemSize != 0 && (c.ItemSize < 1 || c.ItemSize > layout.MaxItemSize):
		return optionsf("ItemSize %d is out of range", c.ItemSize)
	case c.Strategy != 0 && !c.Strategy.valid():
		return optionsf("unknown strategy %d", c.Strategy)
	case c.Mode != 0 && !c.Mode.valid():
		return optionsf("unknown mode %d", c.Mode)
	}
	return nil
}

// match reports ErrMismatch if a field the opener set differs from g.
func (c *config) match(g layout.Geometry) error {
	var diffs []string
	if c.Length != 0 && uint64(c.Length) != g.Length {
		diffs = append(diffs, fmt.Sprintf("Length %d, buffer has %d", c.Length, g.Length))
	}
	if c.ItemSize != 0 && uint64(c.ItemSize) != uint64(g.ItemSize) {
		diffs = append(diffs, fmt.Sprintf("ItemSize %d, buffer has %d", c.ItemSize, g.ItemSize))
	}
	if c.Strategy != 0 && c.Strategy != Strategy(g.Strategy) {
		diffs = append(diffs, fmt.Sprintf("Strategy %v, buffer has %v", c.Strategy, Strategy(g.Strategy)))
	}
	if c.Mode != 0 && c.Mode != Mode(g.Mode) {
		diffs = append(diffs, fmt.Sprintf("Mode %v, buffer has %v", c.Mode, Mode(g.Mode)))
	}
	if c.FixedSize && !g.Fixed {
		diffs = append(diffs, "FixedSize, buffer has items of variable size")
	}
	if diffs != nil {
		return fmt.Errorf("%w: %s", ErrMismatch, strings.Join(diffs, "; "))
	}
	return nil
}

// geometryFor checks the shape Create was asked for and computes its
// layout. length and itemSize are already defaulted.
func geometryFor(length, itemSize int, s Strategy, m Mode, fixed bool) (layout.Geometry, error) {
	switch {
	case length < 2:
		return layout.Geometry{}, optionsf("Length %d is below 2", length)
	case itemSize < 1:
		return layout.Geometry{}, optionsf("ItemSize %d is below 1", itemSize)
	case itemSize > layout.MaxItemSize:
		return layout.Geometry{}, optionsf("ItemSize %d is above %d", itemSize, layout.MaxItemSize)
	case !s.valid():
		return layout.Geometry{}, optionsf("unknown strategy %d", s)
	case !m.valid():
		return layout.Geometry{}, optionsf("unknown mode %d", m)
	}
	g, ok := layout.NewGeometry(uint64(length), uint32(itemSize), uint8(s), uint8(m), fixed)
	if !ok {
		return layout.Geometry{}, optionsf("Length %d with ItemSize %d overflows the file size", length, itemSize)
	}
	return g, nil
}

// checkArch refuses the Atomic strategy where 64-bit atomic operations on
// shared memory are not lock-free (platform.LockFreeAtomic64): there the
// runtime emulates them with a lock private to the process, which other
// processes cannot see.
func checkArch(s Strategy) error {
	if s == Atomic && !platform.LockFreeAtomic64 {
		return fmt.Errorf("%w: the Atomic strategy needs lock-free 64-bit atomics, which %s does not have; use Flock",
			ErrUnsupported, runtime.GOARCH)
	}
	return nil
}
