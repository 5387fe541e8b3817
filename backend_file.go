package scb

import (
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// File names. A buffer called jobs is the file jobs.scb; the Atomic
// strategy's role locks are jobs.scb.<id>.wlock and .rlock beside it;
// Create builds the file as .jobs.scb.<random>.tmp (a name no buffer can
// have) and links it into place.
const (
	fileExt       = ".scb"
	writerLockExt = ".wlock"
	readerLockExt = ".rlock"
	tempExt       = ".tmp"
	tempRandLen   = 12 // hex digits of randomness in a temporary name
)

// DefaultDir returns the directory buffers live in when Options.Dir is
// empty: the environment variable SCB_DIR if set; else /dev/shm on Linux if
// it is a writable directory; else os.TempDir().
func DefaultDir() string {
	if d := os.Getenv("SCB_DIR"); d != "" {
		return d
	}
	if d := shmDir(); d != "" {
		return d
	}
	return os.TempDir()
}

// checkName enforces the name rules: 1 to 200 bytes of A-Z a-z 0-9 . _ -,
// not starting with '.'. Such a name cannot leave its directory or collide
// with a temporary or lock file.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidName, len(name), maxNameLen)
	}
	if name[0] == '.' {
		return fmt.Errorf("%w: starts with '.'", ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: byte %#02x at %d (allowed: A-Z a-z 0-9 . _ -)", ErrInvalidName, c, i)
		}
	}
	return nil
}

// buffer is one process's mapping of a buffer file. Writer and Reader each
// own one, and keep a copy of its ring for the hot path.
type buffer struct {
	ring
	creating bool // built by Create and not yet linked into place
	name     string
	dir      string
	path     string
	file     *os.File
	mem      mmap.MMap
	geo      geometry
	perm     fs.FileMode
}

// mapFile maps f, whose header g has been validated against its size.
func mapFile(name, dir string, f *os.File, g geometry, perm fs.FileMode) (*buffer, error) {
	mem, err := mmap.MapRegion(f, int(g.fileSize), mmap.RDWR, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	return &buffer{
		ring: newRing(unsafe.Pointer(&mem[0]), g),
		name: name,
		dir:  dir,
		path: filepath.Join(dir, name+fileExt),
		file: f,
		mem:  mem,
		geo:  g,
		perm: perm,
	}, nil
}

// close unmaps and closes, returning the first error.
func (b *buffer) close() error {
	err := b.mem.Unmap()
	if cerr := b.file.Close(); err == nil {
		err = cerr
	}
	return err
}

// buildFile makes a complete buffer file under a temporary name in c.Dir
// and maps it. The temporary file is locked so that Remove can tell a
// Create in progress from one that died. Nothing in c.Dir has the buffer's
// name yet: publishFile links it into place, abandon throws it away.
func buildFile(name string, c config, g geometry) (*buffer, string, error) {
	if fi, err := os.Stat(c.Dir); err != nil {
		return nil, "", fmt.Errorf("directory %s: %w", c.Dir, err)
	} else if !fi.IsDir() {
		return nil, "", fmt.Errorf("%s is not a directory: %w", c.Dir, fs.ErrInvalid)
	}
	// Refuse a taken name before making anything (the writer role would
	// leave a lock file behind). publishFile checks again, atomically.
	if _, err := os.Lstat(filepath.Join(c.Dir, name+fileExt)); err == nil {
		return nil, "", fmt.Errorf("%w in %s", ErrExist, c.Dir)
	}
	var f *os.File
	var tmp string
	for range 10 {
		var err error
		tmp = tempName(c.Dir, name)
		f, err = createExcl(tmp, c.perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		// Lock it, so that Remove knows a Create is in progress. Remove
		// may have deleted the file as stale between the create and the
		// lock; then start again under another name.
		if _, err := lockFd(f.Fd(), true); err != nil {
			f.Close()
			os.Remove(tmp)
			return nil, "", fmt.Errorf("lock %s: %w", tmp, err)
		}
		if isSameFile(f, tmp) {
			break
		}
		f.Close()
		f = nil
	}
	if f == nil {
		return nil, "", fmt.Errorf("no free temporary name in %s", c.Dir)
	}
	fail := func(err error) (*buffer, string, error) {
		f.Close()
		os.Remove(tmp)
		return nil, "", err
	}
	if err := f.Chmod(c.perm); err != nil {
		return fail(err)
	}
	if err := reserve(f, int64(g.fileSize)); err != nil {
		return fail(fmt.Errorf("reserve %d bytes for %s: %w", g.fileSize, tmp, err))
	}
	hdr := make([]byte, fixedSize)
	g.encode(hdr)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return fail(err)
	}
	b, err := mapFile(name, c.Dir, f, g, c.perm)
	if err != nil {
		return fail(err)
	}
	if err := makeLockFiles(filepath.Join(c.Dir, name+fileExt), c, g); err != nil {
		b.abandon(tmp)
		return nil, "", err
	}
	b.creating = true
	return b, tmp, nil
}

// lockFiles returns the role lock files a buffer of strategy s at path
// uses: the Atomic strategy's writer and Queue reader locks.
func lockFiles(path string, g geometry) []string {
	switch {
	case g.strategy != Atomic:
		return nil
	case g.mode == Broadcast:
		return []string{lockName(path, g.id, writerLockExt)}
	}
	return []string{lockName(path, g.id, writerLockExt), lockName(path, g.id, readerLockExt)}
}

// lockName returns the name of a role lock file of the buffer with header
// id at path: jobs.scb.<16 hex digits>.wlock. A buffer created again under
// the same name has another id, so it never shares a role lock with one
// that was removed while handles still held its roles.
func lockName(path string, id uint64, ext string) string {
	return fmt.Sprintf("%s.%016x%s", path, id, ext)
}

// isLockOf reports whether base is the name of a role lock file of some
// buffer called name, whatever its id.
func isLockOf(base, name string) bool {
	rest, ok := strings.CutPrefix(base, name+fileExt+".")
	if !ok {
		return false
	}
	id, ok := strings.CutSuffix(rest, writerLockExt)
	if !ok {
		id, ok = strings.CutSuffix(rest, readerLockExt)
	}
	if !ok || len(id) != 16 {
		return false
	}
	_, err := hex.DecodeString(id)
	return err == nil
}

// removeLockFiles removes the role lock files of every buffer that had the
// name, and reports how many it removed. Handles that hold one keep their
// lock; the buffer they hold it for is gone by then (Remove unlinks it
// first), and a new opener of the name would get the new buffer's.
func removeLockFiles(name, dir string) (int, error) {
	matches, _ := filepath.Glob(filepath.Join(dir, name+fileExt+".*lock"))
	n := 0
	for _, m := range matches {
		if !isLockOf(filepath.Base(m), name) {
			continue // another buffer's, such as x.scb.<id>.scb.<id>.wlock
		}
		if err := os.Remove(m); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return n, err
		}
		n++
	}
	return n, nil
}

// makeLockFiles creates the role lock files of a new buffer, with exactly
// the buffer's permission (whoever first takes a role would otherwise create
// them with theirs, less their umask), or checks them if they are left over
// from an earlier buffer of the same name.
func makeLockFiles(path string, c config, g geometry) error {
	for _, lp := range lockFiles(path, g) {
		f, err := createExcl(lp, c.perm)
		if errors.Is(err, fs.ErrExist) {
			if err := checkLockFile(lp, c); err != nil {
				return err
			}
			continue
		}
		if err != nil {
			return err
		}
		err = f.Chmod(c.perm)
		if cerr := f.Close(); err == nil {
			err = cerr
		}
		if err != nil {
			return err
		}
	}
	return nil
}

// checkLockFile refuses a role lock file that is not a regular file (a
// FIFO would block the open that takes the role), is a symbolic link, or
// belongs to another user in a sticky world-writable directory (who could
// hold the role forever).
func checkLockFile(lp string, c config) error {
	fi, err := os.Lstat(lp)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return nil
	case err != nil:
		return err
	case fi.Mode()&fs.ModeSymlink != 0:
		return fmt.Errorf("%w: %s is a symbolic link", ErrUntrusted, lp)
	case !fi.Mode().IsRegular():
		return corruptf("lock file %s is not a regular file (%v)", lp, fi.Mode().Type())
	case !c.AllowOtherOwner:
		return checkOwner(c.Dir, lp, fi)
	}
	return nil
}

// tempName returns a fresh temporary name for building buffer name in dir:
// .name.scb.<12 hex digits>.tmp.
func tempName(dir, name string) string {
	var rnd [tempRandLen / 2]byte
	_, _ = rand.Read(rnd[:])
	return filepath.Join(dir, "."+name+fileExt+"."+hex.EncodeToString(rnd[:])+tempExt)
}

// isTempOf reports whether base is a temporary name made by tempName for
// buffer name.
func isTempOf(base, name string) bool {
	rest, ok := strings.CutPrefix(base, "."+name+fileExt+".")
	if !ok {
		return false
	}
	rnd, ok := strings.CutSuffix(rest, tempExt)
	if !ok || len(rnd) != tempRandLen {
		return false
	}
	_, err := hex.DecodeString(rnd)
	return err == nil
}

// isSameFile reports whether path still names the open file f.
func isSameFile(f *os.File, path string) bool {
	fi, err := f.Stat()
	if err != nil {
		return false
	}
	pi, err := os.Lstat(path)
	return err == nil && os.SameFile(fi, pi)
}

// publishFile gives the temporary file built by buildFile the buffer's name.
// It links rather than renames so that an existing buffer is never replaced:
// if the name is taken the result matches ErrExist and the temporary file is
// removed.
func (b *buffer) publishFile(tmp string) error {
	b.creating = false
	err := os.Link(tmp, b.path)
	os.Remove(tmp)
	unlockFd(b.file.Fd())
	if err != nil {
		b.removeOwnLockFiles()
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w in %s", ErrExist, b.dir)
		}
		return err
	}
	return nil
}

// abandon throws away a buffer built by buildFile and not published.
func (b *buffer) abandon(tmp string) {
	b.removeOwnLockFiles()
	b.close()
	os.Remove(tmp)
}

// removeOwnLockFiles removes the lock files made for a buffer that was
// never published: they carry its id, so nobody else can be using them.
func (b *buffer) removeOwnLockFiles() {
	for _, lp := range lockFiles(b.path, b.geo) {
		os.Remove(lp)
	}
}

// openChecked opens the buffer file name in c.Dir and validates its header.
// It refuses symbolic links, files that are not regular, and (unless
// c.AllowOtherOwner, or for a read-only look) files of another user in a
// sticky world-writable directory.
func openChecked(name string, c config, write bool) (*os.File, geometry, fs.FileInfo, error) {
	path := filepath.Join(c.Dir, name+fileExt)
	f, err := openNoFollow(path, write)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, geometry{}, nil, fmt.Errorf("%w in %s", ErrNotExist, c.Dir)
		}
		return nil, geometry{}, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = corruptf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if err == nil && write && !c.AllowOtherOwner {
		err = checkOwner(c.Dir, path, fi)
	}
	var g geometry
	if err == nil {
		hdr := make([]byte, fixedSize)
		if fi.Size() >= fixedSize {
			if _, rerr := f.ReadAt(hdr, 0); rerr != nil {
				err = fmt.Errorf("read header of %s: %w", path, rerr)
			}
		}
		if err == nil {
			g, err = decodeHeader(hdr, fi.Size())
		}
	}
	if err != nil {
		f.Close()
		return nil, geometry{}, nil, err
	}
	return f, g, fi, nil
}

// openFile opens and maps an existing buffer for a Writer or Reader.
func openFile(name string, c config) (*buffer, error) {
	f, g, fi, err := openChecked(name, c, true)
	if err != nil {
		return nil, err
	}
	if err := c.match(g); err != nil {
		f.Close()
		return nil, err
	}
	if err := checkArch(g.strategy); err != nil {
		f.Close()
		return nil, err
	}
	for _, lp := range lockFiles(filepath.Join(c.Dir, name+fileExt), g) {
		if err := checkLockFile(lp, c); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := ensureAllocated(f, fi); err != nil {
		f.Close()
		return nil, fmt.Errorf("allocate the %d bytes of %s: %w", fi.Size(), f.Name(), err)
	}
	b, err := mapFile(name, c.Dir, f, g, fi.Mode().Perm())
	if err != nil {
		f.Close()
		return nil, err
	}
	// Check the cursors before the handle takes its role, so that a
	// damaged buffer is refused without leaving a lock file behind. The
	// handle checks them again once it holds its role.
	if g.mode == Queue {
		if _, _, err := queueCursors(b.rcur, b.wcur, g.length); err != nil {
			b.close()
			return nil, err
		}
	}
	return b, nil
}

// queueCursors reads a Queue buffer's read and write cursors without any
// lock, while other processes may be moving them, and checks that they are
// 0 to length apart. The read cursor is read before and after the write
// cursor: when both reads agree, the pair is what the buffer held at one
// instant, and any valid buffer passes the check. If they never agree the
// cursors are live, and the last pair read is returned unchecked (clamped).
func queueCursors(tailp, headp *uint64, length uint64) (tail, head uint64, err error) {
	for range 1000 {
		tail = atomic.LoadUint64(tailp)
		head = atomic.LoadUint64(headp)
		if atomic.LoadUint64(tailp) != tail {
			continue
		}
		if tail > head || head-tail > length {
			return 0, 0, cursorError(tail, head, length)
		}
		return tail, head, nil
	}
	return tail, max(head, tail), nil
}

// statFile reads a buffer's header and cursors with plain reads: no mapping,
// no lock, no role.
func statFile(name string, c config) (Info, error) {
	f, g, fi, err := openChecked(name, c, false)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	// Map the header page read-only to load the cursors atomically: a
	// plain read(2) may copy a cursor that is being stored byte by byte.
	hdr, err := mmap.MapRegion(f, headerSize, mmap.RDONLY, 0, 0)
	if err != nil {
		return Info{}, fmt.Errorf("map the header of %s: %w", f.Name(), err)
	}
	defer hdr.Unmap()
	base := unsafe.Pointer(&hdr[0])
	headp := (*uint64)(unsafe.Add(base, offHead))
	tailp := (*uint64)(unsafe.Add(base, offTail))
	head := atomic.LoadUint64(headp)
	var tail uint64
	if g.mode == Queue {
		if tail, head, err = queueCursors(tailp, headp, g.length); err != nil {
			return Info{}, err
		}
	}
	info := Info{
		Name:     name,
		Path:     f.Name(),
		Length:   int(g.length),
		ItemSize: int(g.itemSize),
		Strategy: g.strategy,
		Mode:     g.mode,
		Size:     fi.Size(),
		Perm:     fi.Mode().Perm(),
		Created:  time.Unix(0, g.created),
		Written:  head,
		// The waiter counts are only kept where blocking calls sleep on a
		// futex (Linux); see wait.go.
		ReadersWaiting: int(atomic.LoadUint32((*uint32)(unsafe.Add(base, offDataWaiters)))),
		WritersWaiting: int(atomic.LoadUint32((*uint32)(unsafe.Add(base, offRoomWaiters)))),
	}
	if g.mode == Broadcast {
		info.Unread = int(min(head, g.length))
		return info, nil
	}
	info.Consumed = tail
	info.Unread = int(head - tail)
	return info, nil
}

// listDir stats every *.scb file with a valid buffer name in c.Dir.
func listDir(c config) ([]Info, error) {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil, &Error{Op: "list", Name: c.Dir, Err: err}
	}
	infos := []Info{}
	var errs []error
	for _, e := range entries {
		name, ok := strings.CutSuffix(e.Name(), fileExt)
		if !ok || checkName(name) != nil {
			continue
		}
		info, err := statFile(name, c)
		if err != nil {
			errs = append(errs, opError("stat", name, err))
			continue
		}
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return infos, errors.Join(errs...)
}

// removeFiles deletes the buffer file, its lock files, and temporary files
// of interrupted Creates of the same name (those whose creator no longer
// holds their lock).
func removeFiles(name string, c config) error {
	path := filepath.Join(c.Dir, name+fileExt)
	stale := removeStaleTemps(name, c.Dir)
	fi, err := os.Lstat(path)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			// Lock files without a buffer: left by a Create that failed,
			// or by a buffer deleted by hand.
			n, err := removeLockFiles(name, c.Dir)
			if err != nil {
				return err
			}
			if stale+n > 0 {
				return nil
			}
			return fmt.Errorf("%w in %s", ErrNotExist, c.Dir)
		}
		return err
	}
	if !fi.Mode().IsRegular() {
		return corruptf("%s is not a regular file (%v); not removing it", path, fi.Mode().Type())
	}
	// The buffer first, then its lock files: an opener that takes a role
	// with a fresh lock file checks afterwards that the buffer is still
	// there, and so cannot hold a role on a removed buffer beside a handle
	// that held it before.
	if err := os.Remove(path); err != nil {
		return err
	}
	_, err = removeLockFiles(name, c.Dir)
	return err
}

// removeStaleTemps removes the temporary files of Creates of name that died
// before finishing, and reports how many it removed.
func removeStaleTemps(name, dir string) int {
	matches, _ := filepath.Glob(filepath.Join(dir, "."+name+fileExt+".*"+tempExt))
	n := 0
	for _, m := range matches {
		if !isTempOf(filepath.Base(m), name) {
			continue // another buffer's, such as .name.scb.x.scb.<hex>.tmp
		}
		f, err := openNoFollow(m, false)
		if err != nil {
			continue
		}
		if ok, _ := lockFd(f.Fd(), false); ok {
			if os.Remove(m) == nil {
				n++
			}
		}
		f.Close()
	}
	return n
}
