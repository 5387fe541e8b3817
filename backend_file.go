package scb

// The file backend: a process's mapping of a buffer file (mapping), and opening
// an existing buffer file, validating its header, and mapping it. The
// format itself is internal/layout's; the operating system's part,
// internal/platform's, whose refusals become scb's errors here (osError).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"sync/atomic"
	"unsafe"

	"github.com/edsrzf/mmap-go"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
	"github.com/sharedcbuff/scb/internal/wait"
)

// mapping is one process's mapping of a buffer file. Writer and Reader each
// own one, and keep a copy of its ring for the hot path.
type mapping struct {
	lay      layout.Ring
	geo      layout.Geometry
	creating bool // built by Create and not yet linked into place
	name     string
	dir      string
	path     string
	file     *os.File
	mem      mmap.MMap
	perm     fs.FileMode
}

// mapFile maps f, whose header g has been validated against its size.
func mapFile(name, dir string, f *os.File, g layout.Geometry, perm fs.FileMode) (*mapping, error) {
	mem, err := mmap.MapRegion(f, int(g.FileSize), mmap.RDWR, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	wait.Map(unsafe.Pointer(&mem[0]), len(mem), g.ID)
	return &mapping{
		lay:  layout.NewRing(unsafe.Pointer(&mem[0]), g),
		geo:  g,
		name: name,
		dir:  dir,
		path: filepath.Join(dir, name+fileExt),
		file: f,
		mem:  mem,
		perm: perm,
	}, nil
}

// close unmaps and closes, returning the first error.
func (b *mapping) close() error {
	if len(b.mem) > 0 {
		wait.Unmap(unsafe.Pointer(&b.mem[0]))
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
func openChecked(name string, c config, write bool) (*os.File, layout.Geometry, fs.FileInfo, error) {
	path := filepath.Join(c.Dir, name+fileExt)
	f, err := openNoFollow(path, write)
	if err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return nil, layout.Geometry{}, nil, notExist(name, c.Dir)
		}
		return nil, layout.Geometry{}, nil, err
	}
	fi, err := f.Stat()
	if err == nil && !fi.Mode().IsRegular() {
		err = corruptf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	if err == nil && write && !c.AllowOtherOwner {
		err = checkOwner(c.Dir, path, fi)
	}
	var g layout.Geometry
	if err == nil {
		g, err = readHeader(f, fi.Size())
	}
	if err != nil {
		f.Close()
		return nil, layout.Geometry{}, nil, err
	}
	return f, g, fi, nil
}

// readHeader reads and validates the header of the open file f of size
// bytes. Every header layout.Decode refuses is ErrCorrupt.
func readHeader(f *os.File, size int64) (layout.Geometry, error) {
	hdr := make([]byte, layout.FixedFields)
	if size >= layout.FixedFields {
		if _, err := f.ReadAt(hdr, 0); err != nil {
			return layout.Geometry{}, fmt.Errorf("read header of %s: %w", f.Name(), err)
		}
	}
	g, err := layout.Decode(hdr, size)
	if err != nil {
		return layout.Geometry{}, fmt.Errorf("%w: %w", ErrCorrupt, err)
	}
	return g, nil
}

// openFile opens and maps an existing buffer for a Writer or Reader.
func openFile(name string, c config) (*mapping, error) {
	f, g, fi, err := openChecked(name, c, true)
	if err != nil {
		return nil, err
	}
	if err := c.match(g); err != nil {
		f.Close()
		return nil, err
	}
	if err := checkArch(Strategy(g.Strategy)); err != nil {
		f.Close()
		return nil, err
	}
	for _, lp := range lockFiles(filepath.Join(c.Dir, name+fileExt), g) {
		if err := checkLockFile(lp, c); err != nil {
			f.Close()
			return nil, err
		}
	}
	if err := platform.EnsureAllocated(f, fi); err != nil {
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
	if !g.Broadcast() {
		if _, _, err := queueCursors(b.lay.RCur, b.lay.WCur, g.Length); err != nil {
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
