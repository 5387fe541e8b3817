package scb

import (
	"context"
	"fmt"
	"os"

	"github.com/gofrs/flock"

	"github.com/sharedcbuff/scb/internal/platform"
)

// atomicStrategy is the lock-free scheme. Operations take no lock at all:
// the single writer owns the write cursor, the single Queue reader owns the
// read cursor (each Broadcast reader owns a private one), and each publishes
// its cursor with one atomic store after the slot is written or read, which
// is what makes the slot visible, or free, to the other side. So the side
// is taken once, for the handle's life, when it attaches.
//
// The roles are enforced with gofrs/flock locks on small files beside the
// buffer (name.scb.<id>.wlock for the writer, name.scb.<id>.rlock for a
// Queue reader, where id is random and kept in the header; lockfiles.go),
// which the kernel drops when the holder dies, so a crashed writer never
// keeps a new one out.
type atomicStrategy struct {
	role *flock.Flock // nil for a Broadcast reader, which needs no role lock
	b    *mapping
	path string // the role lock file's
}

func newAtomicStrategy(b *mapping, r role) (*atomicStrategy, error) {
	var ext string
	switch sideOf(b, r) {
	case writeSide:
		ext = writerLockExt
	case readSide:
		ext = readerLockExt
	default:
		return &atomicStrategy{}, nil
	}
	path := lockName(b.path, b.geo.ID, ext)
	fl := flock.New(path, flock.SetPermissions(b.perm), flock.SetFlag(os.O_CREATE|os.O_RDONLY|platform.LockOpenFlags))
	ok, err := fl.TryLock()
	if err != nil {
		return nil, fmt.Errorf("lock %s: %w", path, err)
	}
	if !ok {
		holder := "another process or handle"
		if p := rolePid(b.file.Fd(), b.lay.Base, 0, r); p != 0 {
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
	return &atomicStrategy{role: fl, b: b, path: path}, nil
}

func (s *atomicStrategy) owns() bool { return true }

func (s *atomicStrategy) locks() bool { return false }

// token is 1: the one Queue reader marks the items it takes with it.
func (s *atomicStrategy) token() uint16 { return 1 }

// take and give have nothing to do: the side is the handle's for its life.
func (s *atomicStrategy) take(context.Context) error { return nil }
func (s *atomicStrategy) give()                      {}

// detach gives up the role lock, if the role has one. If Remove took the
// buffer's name meanwhile it left the lock file, which this handle held
// (deleting a held one would let a second holder attach); nobody can open
// the buffer any more, so the file goes now, unless another handle of the
// removed buffer holds it (removeFreeLockFile). A failure to delete it is
// not the caller's: the next Remove of the name deletes leftovers.
func (s *atomicStrategy) detach() error {
	if s.role == nil {
		return nil
	}
	if err := s.role.Unlock(); err != nil {
		return err
	}
	if !s.b.creating && !isSameFile(s.b.file, s.b.path) {
		_ = removeFreeLockFile(s.path)
	}
	return nil
}
