package scb

import (
	"context"
	"fmt"
	"os"
	"runtime"
	"sync/atomic"

	"github.com/gofrs/flock"
)

// atomicStrategy is the lock-free scheme. Operations take no lock at all:
// the single writer owns the write cursor, the single Queue reader owns the
// read cursor (each Broadcast reader owns a private one), and each publishes
// its cursor with one atomic store after the slot is written or read, which
// is what makes the slot visible, or free, to the other side.
//
// The roles are enforced with gofrs/flock locks on small files beside the
// buffer (name.scb.<id>.wlock for the writer, name.scb.<id>.rlock for a
// Queue reader, where id is random and kept in the header),
// which the kernel drops when the holder dies, so a crashed writer never
// keeps a new one out.
type atomicStrategy struct {
	role   *flock.Flock // nil for a Broadcast reader, which needs no role lock
	reader *os.File     // a Queue writer's: the reader's role lock file, not locked (watchReader)
	pid    *uint32      // the header's word for the role's process id; nil for a Broadcast reader
}

func newAtomicStrategy(b *buffer, r role) (*atomicStrategy, error) {
	var ext string
	switch {
	case r == roleWriter:
		ext = writerLockExt
	case !b.broadcast:
		ext = readerLockExt
	default:
		return &atomicStrategy{}, nil
	}
	path := lockName(b.path, b.geo.id, ext)
	fl := flock.New(path, flock.SetPermissions(b.perm), flock.SetFlag(os.O_CREATE|os.O_RDONLY|lockOpenFlags))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		holder := "another process or handle"
		pid := b.writerPid
		if r == roleReader {
			pid = b.readerPid
		}
		if p := int(atomic.LoadUint32(pid)); processAlive(p) {
			holder = fmt.Sprintf("process %d", p)
		}
		return nil, fmt.Errorf("%w: another %s is attached (%s holds %s)", ErrBusy, r, holder, path)
	}
	// The lock file was opened without blocking (a FIFO planted under its
	// name would otherwise hang the open) and must be a regular file.
	fi, err := fl.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = corruptf("lock file %s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if err != nil {
		fl.Unlock()
		return nil, err
	}
	// If Remove took the buffer's name while this handle was opening it,
	// give the role up: the lock just taken may be on a fresh lock file
	// that an earlier holder of the role does not share, or on one that
	// Remove unlinked between this handle's open and its lock (Remove
	// unlinks only lock files that no buffer with a name and no Create
	// uses, while it holds their lock), which nobody else can see. A
	// buffer being created has no name yet, and Remove leaves its lock
	// files alone.
	if !names(path, fi) || !b.creating && !isSameFile(b.file, b.path) {
		fl.Unlock()
		return nil, fmt.Errorf("%w in %s (removed while it was being opened)", ErrNotExist, b.dir)
	}
	return &atomicStrategy{role: fl}, nil
}

func (s *atomicStrategy) owns() bool       { return true }
func (s *atomicStrategy) checkFirst() bool { return false }

// attach loads the cursors once (nobody else moves them) and records the
// process holding the role, for Stat and for ErrBusy's message.
func (s *atomicStrategy) attach(h *handle) error {
	if s.pid != nil {
		atomic.StoreUint32(s.pid, uint32(os.Getpid()))
	}
	return h.load()
}

// admit only checks the handle is open: a handle is used by one goroutine
// at a time, so Close cannot run beside its calls.
func (s *atomicStrategy) admit(h *handle) error {
	if h.b == nil {
		return ErrClosed
	}
	return nil
}

func (s *atomicStrategy) dismiss() {}

// take has nothing to take: the handle's cursor is its own.
func (s *atomicStrategy) take(_ context.Context, h *handle) error {
	if h.lent {
		return h.lentErr
	}
	return nil
}

// moved wakes the other side's sleepers at once: nothing is held that
// they would find taken.
func (s *atomicStrategy) moved(h *handle, d direction) { h.wakeNow(d) }

func (s *atomicStrategy) give(*handle)   {}
func (s *atomicStrategy) keep()          {}
func (s *atomicStrategy) resume() error  { return nil }
func (s *atomicStrategy) stop(h *handle) { h.closing.Store(true) }
func (s *atomicStrategy) stopped()       {}

// watchReader opens, without locking it, the Queue reader's role lock
// file of the buffer a writer attaches to, so that readerGone can ask
// whether the role is held even after Remove unlinked the file.
func (s *atomicStrategy) watchReader(b *buffer) {
	if f, err := openNoFollow(lockName(b.path, b.geo.id, readerLockExt), false); err == nil {
		s.reader = f
	}
}

// readerGone reports whether the Queue reader role is free. (The writer
// asks only once its buffer was removed, so no reader can take the role
// meanwhile.)
func (s *atomicStrategy) readerGone(*handle) bool {
	if s.reader == nil {
		return false
	}
	held, err := roleHeld(s.reader)
	return err == nil && !held
}

// detach gives up the role lock, if the role has one.
func (s *atomicStrategy) detach() error {
	if s.pid != nil {
		atomic.CompareAndSwapUint32(s.pid, uint32(os.Getpid()), 0)
	}
	if s.reader != nil {
		s.reader.Close()
	}
	if s.role == nil {
		return nil
	}
	return s.role.Unlock()
}

// checkArch refuses the Atomic strategy where 64-bit atomic operations on
// shared memory are not lock-free (see atomic64_*.go): there the runtime
// emulates them with a lock private to the process, which other processes
// cannot see.
func checkArch(s Strategy) error {
	if s == Atomic && !lockFreeAtomic64 {
		return fmt.Errorf("%w: the Atomic strategy needs lock-free 64-bit atomics, which %s does not have; use Flock",
			ErrUnsupported, runtime.GOARCH)
	}
	return nil
}
