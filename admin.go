package scb

// Stat, List and Remove's file work: reading a buffer's header and cursors
// without attaching, listing a directory, and removing a buffer's files.

import (
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
	if err := removeBuffer(path); err != nil {
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
