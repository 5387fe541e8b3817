package scb

import (
	"crypto/rand"
	"encoding/binary"
	"fmt"
	"io/fs"
	"strings"
	"time"

	"github.com/sharedcbuff/scb/internal/layout"
)

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

	// Flock guards every operation with an exclusive file lock on the
	// buffer, so any number of writers and readers, in any number of
	// processes and goroutines, may share it.
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
	// means the default, 1000; a negative value means sleep at once, which
	// saves CPU at the price of a kernel wake-up (some microseconds) on
	// every wait. It applies to the handle being opened.
	Spin int

	// AllowOtherOwner lets the openers attach to a buffer file owned by
	// another user in a world-writable sticky directory such as /dev/shm or
	// /tmp. By default such a file is refused with ErrUntrusted, because
	// anyone may have planted it there.
	AllowOtherOwner bool
}

// The defaults Create applies to a zero Length and ItemSize.
const (
	defaultLength   = 1024
	defaultItemSize = 8
)

// config is Options with defaults applied; the caller's Options are never
// written.
type config struct {
	Options
	perm fs.FileMode
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
	if diffs != nil {
		return fmt.Errorf("%w: %s", ErrMismatch, strings.Join(diffs, "; "))
	}
	return nil
}

// Create makes a new buffer called name and returns a Writer attached to it.
// If a buffer of that name exists, Create returns an error matching ErrExist
// and leaves it alone.
//
// The file is built under a temporary name, its space reserved, and then
// linked into place in one step, so no other process ever sees a half-made
// buffer and a full file system is reported here rather than as a crash
// later.
func Create(name string, opts *Options) (*Writer, error) {
	w, err := create(name, opts)
	if err != nil {
		return nil, opError("create", name, err)
	}
	return w, nil
}

func create(name string, opts *Options) (*Writer, error) {
	if err := checkName(name); err != nil {
		return nil, err
	}
	c := opts.config()
	length, itemSize, s, m := c.Length, c.ItemSize, c.Strategy, c.Mode
	if length == 0 {
		length = defaultLength
	}
	if itemSize == 0 {
		itemSize = defaultItemSize
	}
	if s == 0 {
		s = Atomic
	}
	if m == 0 {
		m = Queue
	}
	g, err := geometryFor(length, itemSize, s, m)
	if err != nil {
		return nil, err
	}
	if err := checkArch(s); err != nil {
		return nil, err
	}
	g.Created = time.Now().UnixNano()
	var id [8]byte
	_, _ = rand.Read(id[:]) // crypto/rand never fails on supported systems
	g.ID = binary.LittleEndian.Uint64(id[:])
	b, tmp, err := buildFile(name, c, g)
	if err != nil {
		return nil, err
	}
	// The writer role is free: its lock file was just made, named after
	// this buffer's random id. A taken name is found by publishFile.
	w, err := newWriter(b, c)
	if err == nil {
		err = b.publishFile(tmp)
		if err != nil {
			w.Close()
		}
	} else {
		b.abandon(tmp)
	}
	if err != nil {
		return nil, err
	}
	return w, nil
}

// geometryFor checks the shape Create was asked for and computes its
// layout. length and itemSize are already defaulted.
func geometryFor(length, itemSize int, s Strategy, m Mode) (layout.Geometry, error) {
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
	g, ok := layout.NewGeometry(uint64(length), uint32(itemSize), uint8(s), uint8(m))
	if !ok {
		return layout.Geometry{}, optionsf("Length %d with ItemSize %d overflows the file size", length, itemSize)
	}
	return g, nil
}

// OpenWriter attaches a writer to the existing buffer called name.
//
// With the Atomic strategy only one writer may be attached at a time;
// OpenWriter returns an error matching ErrBusy while another is. With Flock
// any number may be.
func OpenWriter(name string, opts *Options) (*Writer, error) {
	b, c, err := openBuffer(name, opts)
	if err != nil {
		return nil, opError("open", name, err)
	}
	w, err := newWriter(b, c)
	if err != nil {
		b.close()
		return nil, opError("open", name, err)
	}
	return w, nil
}

// OpenReader attaches a reader to the existing buffer called name. It
// returns an error matching ErrNotExist if there is none.
//
// With the Atomic strategy a Queue buffer has one reader at a time;
// OpenReader returns an error matching ErrBusy while another is attached.
// Broadcast buffers, and any buffer of the Flock strategy, take any number.
func OpenReader(name string, opts *Options) (*Reader, error) {
	b, c, err := openBuffer(name, opts)
	if err != nil {
		return nil, opError("open", name, err)
	}
	r, err := newReader(b, c)
	if err != nil {
		b.close()
		return nil, opError("open", name, err)
	}
	return r, nil
}

func openBuffer(name string, opts *Options) (*buffer, config, error) {
	c := opts.config()
	if err := checkName(name); err != nil {
		return nil, c, err
	}
	if err := c.checkOpen(); err != nil {
		return nil, c, err
	}
	b, err := openFile(name, c)
	return b, c, err
}

// Info describes a buffer, as read from its file by Stat or List. The
// counts are a snapshot that may be stale by the time they are used.
type Info struct {
	Name     string      // the buffer's name
	Path     string      // the buffer's file
	Length   int         // slots
	ItemSize int         // largest item in bytes
	Strategy Strategy    // coordination scheme
	Mode     Mode        // delivery model
	Size     int64       // file size in bytes
	Perm     fs.FileMode // the file's permission bits
	Created  time.Time   // when Create made it
	Written  uint64      // items written since creation
	Consumed uint64      // Queue: items read since creation; Broadcast: 0 (readers keep their own cursors)
	Unread   int         // Queue: items waiting to be read; Broadcast: items held in the ring
	Ended    bool        // a writer ended the stream (Writer.CloseWrite) and none attached since

	// WriterPid and ReaderPid are the process ids of the attached writer
	// and Queue reader of an Atomic buffer, the roles it has one holder
	// for; 0 when none is attached (a holder that died is not), and for a
	// Flock buffer or Broadcast readers, whose handles are not recorded.
	WriterPid int
	ReaderPid int

	// ReadersWaiting and WritersWaiting count the times blocking calls
	// went to sleep in the kernel, waiting for items or for room, since the
	// other side last woke them (on Linux; elsewhere they poll, and the
	// counts stay 0). Non-zero means someone sleeps or slept and was not
	// yet woken: a call that woke by its own timeout, or a process killed
	// while asleep, stays counted until the next wake-up, which costs the
	// other side one system call.
	ReadersWaiting int
	WritersWaiting int
}

// Stat describes the buffer called name without attaching to it: it takes
// no role and no lock, and never changes the file.
func Stat(name string, opts *Options) (Info, error) {
	if err := checkName(name); err != nil {
		return Info{}, opError("stat", name, err)
	}
	info, err := statFile(name, opts.config())
	if err != nil {
		return Info{}, opError("stat", name, err)
	}
	return info, nil
}

// Remove deletes the buffer called name and the role lock files (Atomic
// strategy) that nothing uses any more, and cleans up what interrupted
// Creates and Removes of that name left behind. It returns an error
// matching ErrNotExist if it found neither a buffer nor the leftovers of an
// interrupted Create (lock files it deletes on the way do not count).
//
// Handles that still have the buffer open keep working on it on Unix, as
// with any removed file, and keep their roles: Remove never deletes a role
// lock file that a handle holds. A later Remove of the name deletes it once
// it is free, as it does the empty lock file that an opener racing Remove
// may leave. On Windows Remove fails while the buffer is open anywhere.
//
// Under concurrency, with other processes using the same name:
//   - Remove takes the buffer file away from its name with one rename, so
//     it deletes exactly the buffer that had the name at that instant, and
//     only lock files whose id is neither that of the buffer then called
//     name nor that of a Create in progress, and that no handle holds.
//   - Remove and Create: a Create that links its buffer into place before
//     Remove's rename is removed, one that links it after is not; Remove
//     never touches the files of a Create in progress. Either way every
//     role of every buffer has at most one holder.
//   - Remove and the openers: an opener racing Remove either attaches
//     before the buffer loses its name, and works on the removed buffer,
//     or fails with ErrNotExist.
//   - Remove and Remove: of concurrent Removes of one buffer, exactly one
//     removes it and returns nil; the others return ErrNotExist, unless
//     they cleaned up an interrupted Create.
//
// Remove reads the directory before changing anything: if it cannot (out
// of file descriptors, say), it returns that error having changed nothing.
// Any later error is returned, joined with the others it met, after Remove
// has done what it could; lock files it could not delete stay for a later
// Remove.
//
// On Windows, Remove fails with ErrBusy while the buffer is open anywhere,
// and deletes nothing.
func Remove(name string, opts *Options) error {
	if err := checkName(name); err != nil {
		return opError("remove", name, err)
	}
	if err := removeFiles(name, opts.config()); err != nil {
		return opError("remove", name, err)
	}
	return nil
}

// List describes every buffer in dir (DefaultDir() when dir is empty),
// sorted by name. A file with a buffer's name that cannot be read as one is
// left out of the list and reported in the error, which joins one error per
// such file; the buffers that could be read are returned with it. A buffer
// removed while List reads the directory is left out, with no error. If dir
// itself cannot be read, the error is an [*Error] whose Name is dir.
func List(dir string) ([]Info, error) {
	return listDir((&Options{Dir: dir}).config())
}
