package scb

// The file backend: a process's mapping of a buffer file (buffer), and opening
// an existing buffer file, validating its header, and mapping it.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

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
	wakeMap(unsafe.Pointer(&mem[0]), len(mem), g.id)
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
	if len(b.mem) > 0 {
		wakeUnmap(unsafe.Pointer(&b.mem[0]))
	}
	err := b.mem.Unmap()
	if cerr := b.file.Close(); err == nil {
		err = cerr
	}
	return err
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
		g, err = readHeader(f, fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, geometry{}, nil, err
	}
	return f, g, fi, nil
}

// readHeader reads and validates the header of the open file f of size
// bytes.
func readHeader(f *os.File, size int64) (geometry, error) {
	hdr := make([]byte, fixedSize)
	if size >= fixedSize {
		if _, err := f.ReadAt(hdr, 0); err != nil {
			return geometry{}, fmt.Errorf("read header of %s: %w", f.Name(), err)
		}
	}
	return decodeHeader(hdr, size)
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

// isSameFile reports whether path still names the open file f. An error
// reading either counts as "not the same": the callers then treat the file
// as removed.
func isSameFile(f *os.File, path string) bool {
	fi, err := f.Stat()
	return err == nil && names(path, fi)
}

// names reports whether path names the file described by fi (from the
// Stat of an open file).
func names(path string, fi fs.FileInfo) bool {
	pi, err := lstatID(path)
	return err == nil && os.SameFile(fi, pi)
}
