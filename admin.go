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

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
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
	hdr, err := mmap.MapRegion(f, layout.HeaderSize, mmap.RDONLY, 0, 0)
	if err != nil {
		return Info{}, fmt.Errorf("map the header of %s: %w", f.Name(), err)
	}
	defer hdr.Unmap()
	base := unsafe.Pointer(&hdr[0])
	headp := layout.At64(base, layout.OffHead)
	tailp := layout.At64(base, layout.OffTail)
	head := atomic.LoadUint64(headp)
	var tail uint64
	if !g.Broadcast() {
		if tail, head, err = queueCursors(tailp, headp, g.Length); err != nil {
			return Info{}, err
		}
	}
	info := Info{
		Ended:     atomic.LoadUint64(layout.At64(base, layout.OffEnd)) != 0,
		WriterPid: livePid(layout.At32(base, layout.OffWriterPid)),
		ReaderPid: livePid(layout.At32(base, layout.OffReaderPid)),
		Name:      name,
		Path:      f.Name(),
		Length:    int(g.Length),
		ItemSize:  int(g.ItemSize),
		Strategy:  Strategy(g.Strategy),
		Mode:      Mode(g.Mode),
		Size:      fi.Size(),
		Perm:      fi.Mode().Perm(),
		Created:   time.Unix(0, g.Created),
		Written:   head,
		// The waiter counts are only kept where blocking calls sleep on a
		// futex (Linux); see wait.go.
		ReadersWaiting: int(atomic.LoadUint32(layout.At32(base, layout.OffDataWaiters))),
		WritersWaiting: int(atomic.LoadUint32(layout.At32(base, layout.OffRoomWaiters))),
	}
	if g.Broadcast() {
		info.Unread = int(min(head, g.Length))
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
		if errors.Is(err, fs.ErrNotExist) {
			continue // removed since the directory was read
		}
		if err != nil {
			errs = append(errs, opError("stat", name, err))
			continue
		}
		infos = append(infos, info)
	}
	slices.SortFunc(infos, func(a, b Info) int { return strings.Compare(a.Name, b.Name) })
	return infos, errors.Join(errs...)
}

// removeFiles removes the buffer file called name in c.Dir, what
// interrupted Creates and Removes of the name left behind, and the role
// lock files of the name that nothing can use any more (removeLockFiles).
// It reports ErrNotExist if it found neither a buffer nor the leftovers of
// an interrupted Create, and every error it met.
func removeFiles(name string, c config) error {
	// Read the directory before changing anything: if that fails (out of
	// descriptors, say), Remove fails having done nothing.
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return err
	}
	stale, err := removeLeftovers(name, c.Dir, entries)
	gone, uerr := unlinkBuffer(name, c.Dir)
	if uerr != nil {
		return errors.Join(err, uerr)
	}
	if err := errors.Join(err, removeLockFiles(name, c.Dir)); err != nil {
		return err
	}
	if !gone && stale == 0 {
		return fmt.Errorf("%w in %s", ErrNotExist, c.Dir)
	}
	return nil
}

// unlinkBuffer takes the buffer file away from its name and deletes it, and
// reports whether there was one. It renames the file to a private name
// first, so that what it deletes is exactly the file it took from the name,
// even while other processes remove and create the name; killed in between,
// it leaves a .rm file that the next Remove deletes. Whoever deletes it,
// the buffer's role lock files are removed by removeLockFiles.
func unlinkBuffer(name, dir string) (bool, error) {
	path := filepath.Join(dir, name+fileExt)
	fi, err := os.Lstat(path)
	switch {
	case errors.Is(err, fs.ErrNotExist):
		return false, nil
	case err != nil:
		return false, err
	case !fi.Mode().IsRegular():
		return false, corruptf("%s is not a regular file (%v); not removing it", path, fi.Mode().Type())
	}
	tmp := tempName(dir, name, removedExt)
	if err := os.Rename(path, tmp); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return false, nil // another Remove took it first
		}
		return false, err
	}
	if err := osError(platform.RemoveBuffer(tmp)); err != nil {
		if errors.Is(err, fs.ErrNotExist) {
			return true, nil // a concurrent Remove deleted it as a leftover
		}
		// Windows deletes no file that is open (removeBuffer says ErrBusy):
		// give the name back if nobody has taken it meanwhile.
		if _, lerr := os.Lstat(path); errors.Is(lerr, fs.ErrNotExist) {
			os.Rename(tmp, path)
		}
		return false, err
	}
	return true, nil
}

// removeLeftovers removes, of the entries of dir, the temporary files of
// Creates of name that died before finishing (those whose creator no
// longer holds their lock) and the files of Removes of name that died
// before deleting them. It reports how many temporary files of Creates it
// removed.
func removeLeftovers(name, dir string, entries []os.DirEntry) (int, error) {
	n := 0
	var errs []error
	for _, e := range entries {
		path := filepath.Join(dir, e.Name())
		switch {
		case isTempOf(e.Name(), name, tempExt):
			removed, err := removeStaleTemp(path)
			if removed {
				n++
			}
			errs = append(errs, err)
		case isTempOf(e.Name(), name, removedExt) && e.Type().IsRegular():
			_, err := unlink(path)
			errs = append(errs, err)
		}
	}
	return n, errors.Join(errs...)
}

// removeStaleTemp removes the temporary file of a Create at path if its
// creator no longer holds its lock, and reports whether it did. Something
// else under a temporary name (a symbolic link, a FIFO) is not a Create's:
// it is left alone.
func removeStaleTemp(path string) (bool, error) {
	f, err := openNoFollow(path, false)
	switch {
	case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrUntrusted), errors.Is(err, ErrCorrupt):
		return false, nil
	case err != nil:
		return false, err
	}
	defer f.Close()
	ok, err := platform.LockFd(f.Fd(), false)
	if err != nil || !ok {
		return false, err
	}
	return unlink(path)
}

// unlink removes the file at path and reports whether it did; a file that
// is already gone is no error.
func unlink(path string) (bool, error) {
	err := os.Remove(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	return err == nil, err
}

// livePid returns the process id in a header's pid word if that process
// is alive, else 0.
func livePid(word *uint32) int {
	pid := int(atomic.LoadUint32(word))
	if !platform.ProcessAlive(pid) {
		return 0
	}
	return pid
}
