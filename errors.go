package scb

import (
	"errors"
	"fmt"
	"io/fs"
	"strconv"
)

// The errors below are scb's own, returned alone or wrapped in an [*Error]
// that names the operation and the buffer; calls may also return
// io.ErrShortBuffer, a context's error, or an error of the operating system,
// wrapped the same way. Test for them with [errors.Is]. ErrFull and
// ErrEmpty, the two that a busy loop meets on every turn, are returned
// unwrapped so that checking them costs nothing.
var (
	// ErrInvalidName is returned when a buffer name is empty, longer than
	// 200 bytes, starts with '.', or has a byte other than A-Z a-z 0-9 . _ -.
	// The name is refused before the file system is touched.
	ErrInvalidName = errors.New("invalid buffer name")

	// ErrInvalidOptions is returned when [Options] cannot describe a buffer:
	// Length below 2, ItemSize below 1, an unknown Mode or Strategy, or a
	// geometry whose file size would overflow.
	ErrInvalidOptions = errors.New("invalid options")

	// ErrExist is returned by [Create] when a buffer of that name already
	// exists (or is being created by another process). It matches
	// [fs.ErrExist].
	ErrExist error = &wrapped{"buffer already exists", fs.ErrExist}

	// ErrNotExist is returned when opening, inspecting or removing a buffer
	// that does not exist. It matches [fs.ErrNotExist].
	ErrNotExist error = &wrapped{"buffer does not exist", fs.ErrNotExist}

	// ErrMismatch is returned when an opener passes a Length, ItemSize, Mode
	// or Strategy that differs from what the buffer was created with, or
	// asks for FixedSize of a buffer of variable-size items. Openers may
	// leave these fields zero: the geometry is read from the file.
	ErrMismatch = errors.New("options do not match the buffer")

	// ErrCorrupt is returned when a file is not a valid buffer: wrong magic,
	// version, checksum, byte order or size, a cursor or item length out of
	// range, or not a regular file (nor may a role lock file be anything
	// but a regular file). The wrapping error says which. Openers, Stat and
	// List report it before changing anything on disk.
	ErrCorrupt = errors.New("corrupt buffer file")

	// ErrBusy is returned when a role is already taken: with the Atomic
	// strategy, a second writer, or a second reader of a Queue buffer. The
	// role is freed when its holder closes or dies. It is also returned by
	// a Writer's writing calls while its Claim is outstanding, and by a
	// Reader's reading calls while its Peek is, and on Windows by Remove
	// while any handle has the buffer open. And it is returned by the
	// calls that collide when an Atomic Writer or Reader is used by two
	// goroutines at once (which is not allowed) or another process moves
	// its cursor without holding the role: such a call publishes nothing,
	// so the buffer stays valid for every other user (see the package
	// documentation).
	ErrBusy = errors.New("buffer is busy")

	// ErrFull is returned by a non-blocking push to a Queue buffer whose
	// Length items are all unread. Nothing was written. It is returned
	// bare, not in an [*Error] (loops compare it on every turn, as with
	// io.EOF), so its own message names the package.
	ErrFull = errors.New("scb: buffer is full")

	// ErrEmpty is returned by a non-blocking read when there is nothing to
	// read. Like ErrFull it is returned bare, and names the package.
	ErrEmpty = errors.New("scb: buffer is empty")

	// ErrOverrun is matched by the [*OverrunError] a Broadcast reader gets
	// (wrapped in an [*Error]: use errors.As to read its count) when the
	// writer overwrote items it had not read yet. The reader has already
	// skipped to the oldest item the buffer still held.
	ErrOverrun = errors.New("reader overrun")

	// ErrTooLarge is returned when writing an item longer than the buffer's
	// ItemSize, and by Commit for more than ItemSize bytes. The item was not
	// written (a batch call has written the items before it).
	ErrTooLarge = errors.New("item larger than the buffer's item size")

	// ErrRange is returned by Push for a value that does not fit in ItemSize
	// bytes, by Pop for an item that does not hold a uint64 (longer than 8
	// bytes with a non-zero byte in front), and by Commit for a negative
	// length. Pop leaves such an item unread; PopBytes can read it. In a
	// buffer of fixed-size items (Options.FixedSize) a byte item shorter
	// than ItemSize is ErrRange too, and so, with ErrInvalidOptions, is a
	// typed handle whose type is not ItemSize bytes.
	ErrRange = errors.New("value out of range for the item size")

	// ErrNotClaimed is returned by Commit or Abort without an outstanding
	// Claim, by Release without an outstanding Peek, and by Lease.Ack or
	// Lease.GiveBack of a lease that has ended (acknowledged, given back,
	// or taken back from a holder found dead) or of the zero Lease.
	ErrNotClaimed = errors.New("no claimed slot, peeked item or lease")

	// ErrRemoved is returned by a blocking call (one ending in Wait) whose
	// buffer was removed, or replaced by a new buffer of the same name,
	// while it waited, once the call can never proceed: a Reader with no
	// item left to read, or a Writer of an Atomic Queue buffer that no
	// reader holds (none can attach any more: the name leads elsewhere).
	// The call notices within about a quarter of a second. A Flock Writer
	// does not check for readers this way; it gets ErrReaderGone once its
	// readers are gone, where holder locks prove it, else waits until its
	// context is done. Non-blocking calls do not report it.
	ErrRemoved = errors.New("buffer was removed")

	// ErrWriterGone is returned by a Reader's blocking call (one ending in
	// Wait, and the iterators) that waits for items when every writer of
	// its stream is gone, closed or dead, without ending the stream
	// (Writer.CloseWrite), and none attached within Options.Grace. It is
	// never io.EOF: the stream did not end, it was cut. A stream that never
	// had a writer is waited for as long as the call's context allows. The
	// reader may wait again: a writer that attaches later continues the
	// stream. Only where there are holder locks (Linux, Windows): elsewhere
	// nothing proves a writer gone, and the call waits on.
	ErrWriterGone = errors.New("every writer is gone")

	// ErrReaderGone is ErrWriterGone's counterpart for a Queue Writer's
	// blocking call that waits for room when every reader that ever
	// attached is gone and none attached within Options.Grace.
	ErrReaderGone = errors.New("every reader is gone")

	// ErrClosed is returned by every operation on a Writer or Reader after
	// Close.
	ErrClosed error = &wrapped{"buffer handle is closed", fs.ErrClosed}

	// ErrUntrusted is returned when opening a file scb refuses to trust: a
	// symbolic link where the buffer or one of its role lock files should
	// be, or such a file owned by another user in a world-writable sticky
	// directory such as /dev/shm or /tmp (see Options.AllowOtherOwner). It
	// matches [fs.ErrPermission].
	ErrUntrusted error = &wrapped{"refusing to open an untrusted file", fs.ErrPermission}

	// ErrUnsupported is returned when the current platform cannot provide
	// what was asked, such as the Atomic strategy on an architecture without
	// lock-free 64-bit atomics, or zero-copy access to a Broadcast buffer.
	// It matches [errors.ErrUnsupported].
	ErrUnsupported error = &wrapped{"not supported", errors.ErrUnsupported}
)

// wrapped is a sentinel that also matches a standard library error.
type wrapped struct {
	msg string
	std error
}

func (e *wrapped) Error() string { return e.msg }
func (e *wrapped) Unwrap() error { return e.std }

// Error records a failed operation on a named buffer. Err is one of the
// sentinel errors of this package, possibly wrapped with more detail, or an
// error from the operating system.
type Error struct {
	Op   string // "create", "open", "push", "pop", "stat", "remove", ...
	Name string // the buffer's name
	Err  error  // the cause
}

// Error returns "scb: <op> "<name>": <cause>".
func (e *Error) Error() string {
	return "scb: " + e.Op + " " + strconv.Quote(e.Name) + ": " + e.Err.Error()
}

// Unwrap returns the cause.
func (e *Error) Unwrap() error { return e.Err }

// OverrunError is returned, wrapped in an [*Error] (get it with errors.As),
// by a read on a Broadcast buffer that found the writer had overwritten
// items the reader had not read. The reader skipped them and continues with
// the oldest item the buffer still held, which the next read returns,
// unless the writer overwrote that one too in the meantime: then the next
// read reports a further overrun. OverrunError matches [ErrOverrun].
type OverrunError struct {
	Lost uint64 // items skipped by this read
}

// Error returns "reader overrun: N items lost".
func (e *OverrunError) Error() string {
	return "reader overrun: " + strconv.FormatUint(e.Lost, 10) + " items lost"
}

// Is reports whether target is ErrOverrun.
func (e *OverrunError) Is(target error) bool { return target == ErrOverrun }

func opError(op, name string, err error) error {
	return &Error{Op: op, Name: name, Err: err}
}

// corruptf returns an error matching ErrCorrupt that says what is wrong.
func corruptf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrCorrupt}, args...)...)
}

// errOverwritten reports a buffer whose header was zeroed or overwritten
// under a handle that has it open.
var errOverwritten = corruptf("the header was overwritten while the buffer was open")

// optionsf returns an error matching ErrInvalidOptions.
func optionsf(format string, args ...any) error {
	return fmt.Errorf("%w: "+format, append([]any{ErrInvalidOptions}, args...)...)
}

// cursorError reports shared cursors that no valid buffer can have.
func cursorError(tail, head, length uint64) error {
	return corruptf("read cursor %d and write cursor %d are not 0 to %d apart", tail, head, length)
}
