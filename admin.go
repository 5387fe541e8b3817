package scb

// Stat, List and Remove, and their file work: reading a buffer's header and
// cursors without attaching, listing a directory, and removing a buffer's
// files (and the Atomic role lock files nothing can use any more).

import (
	"errors"
	"fmt"
	"io"
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

// Info describes a buffer, as read from its file by Stat or List. The
// counts are a snapshot that may be stale by the time they are used.
type Info struct {
	Name     string // the buffer's name
	Path     string // the buffer's file
	Length   int    // slots
	ItemSize int    // largest item in bytes
	// FixedSize says every item is exactly ItemSize bytes (the slots
	// record no length; see Options.FixedSize).
	FixedSize bool
	// Type is the Go type the buffer was made for by CreateTyped (as Go
	// prints it: main.Reading), whose typed handles alone may open it;
	// empty for a buffer made otherwise.
	Type     string
	Strategy Strategy    // coordination scheme
	Mode     Mode        // delivery model
	Size     int64       // file size in bytes
	Perm     fs.FileMode // the file's permission bits
	Created  time.Time   // when Create made it
	Written  uint64      // items written since creation
	Consumed uint64      // Queue: items read since creation; Broadcast: 0 (readers keep their own cursors)
	Unread   int         // Queue: items waiting to be read; Broadcast: items held in the ring
	Ended    bool        // a writer ended the stream (Writer.CloseWrite) and none attached since
	// Generation numbers the stream's runs: 0 for the first, one more
	// each time a writer attaches to an ended stream and so opens it
	// again (see the package documentation's runs).
	Generation int

	// WriterPid and ReaderPid are the process ids of an attached writer
	// and an attached Queue reader (for Flock, which takes many, of one of
	// them: Holders lists them all), 0 when none is attached. A handle
	// counts as attached only while the kernel holds its holder lock,
	// which it drops when the handle closes or its process dies; a pid
	// recorded in the file is never believed on its own. Where there are
	// no holder locks (every platform but Linux and Windows) nothing
	// proves a holder, and both are 0.
	WriterPid int
	ReaderPid int

	// Holders lists the attached handles, each proved by its holder lock
	// (Linux and Windows; elsewhere the list is empty), in holder slot
	// order.
	Holders []Holder

	// Taken counts, in Queue mode, the unread items that readers have
	// taken and not consumed: being read, leased, or given back and
	// waiting to be taken again (Returned counts those). Leases counts the
	// leases outstanding by holder: a Flock reader's holder slot + 1, or 1
	// for the Atomic reader. A holder that died is counted until a reader
	// that takes finds it gone and takes its items back.
	Taken    int
	Returned int
	Leases   map[int]int

	// ReadersWaiting and WritersWaiting count the blocking calls of
	// attached handles that are asleep in the kernel right now, waiting
	// for items or for room (Holder.Asleep summed by role), where Stat
	// proves holders (Linux, Windows); elsewhere both are 0.
	ReadersWaiting int
	WritersWaiting int
}

// Holder is one handle attached to a buffer, as Stat found it: its holder
// lock was held when Stat asked the kernel.
type Holder struct {
	Token  int       // the holder slot + 1; a Flock reader's leases are counted under it in Info.Leases
	Writer bool      // a writer; else a reader
	Pid    int       // its process; 0 if the process running under the id it recorded did not start when it says, or that cannot be read
	Since  time.Time // when it attached
	Asleep int       // its blocking calls asleep in the kernel right now
	Leases int       // a Queue reader: its leases outstanding
	Lag    uint64    // a Broadcast reader: items written that it has not read yet
	Lost   uint64    // a Broadcast reader: items overwritten before it read them
}

// Stat describes the buffer called name without attaching to it: it takes
// no role and never changes the file. To prove who is attached it asks the
// kernel about each holder's byte lock: on Linux a question that takes
// nothing; on Windows a shared lock on the byte, dropped at once (a handle
// attaching in that instant takes another slot).
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
// lock file that a handle holds. The handle deletes it when it closes, and
// a later Remove of the name deletes one that is free, as it does the empty
// lock file that an opener racing Remove may leave. On Windows Remove fails while the buffer is open anywhere.
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

// statFile reads a buffer's header and cursors with plain reads: no mapping,
// no lock, no role.
func statFile(name string, c config) (Info, error) {
	f, g, fi, err := openChecked(name, c, false)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	// Map the header page, and a Queue's state words, read-only to load
	// them atomically: a plain read(2) may copy a word being stored.
	hdr, err := mmap.MapRegion(f, int(g.SlotsOffset()), mmap.RDONLY, 0, 0)
	if err != nil {
		return Info{}, fmt.Errorf("map the header of %s: %w", f.Name(), err)
	}
	defer hdr.Unmap()
	base := unsafe.Pointer(&hdr[0])
	typ, err := layout.DecodeType(hdr[layout.OffTypeSum:][:layout.LineSize])
	if err != nil {
		return Info{}, corruptf("%v", err)
	}
	headp := layout.At64(base, layout.OffHead)
	tailp := layout.At64(base, layout.OffTail)
	head := atomic.LoadUint64(headp)
	var tail uint64
	if !g.Broadcast() {
		if tail, head, err = queueCursors(tailp, headp, g.Length); err != nil {
			return Info{}, err
		}
	}
	ring := layout.NewRing(base, g)
	// The end word before a second load of the write cursor, as a reader
	// loads them (endOrEmpty).
	e := atomic.LoadUint64(ring.End)
	switch err := endOrEmpty(&ring, e, atomic.LoadUint64(ring.WCur)); err {
	case io.EOF, ErrEmpty:
	default:
		return Info{}, err
	}
	info := Info{
		Ended:      e != 0,
		Generation: int(atomic.LoadUint32(ring.Run)),
		Name:       name,
		Path:       f.Name(),
		Length:     int(g.Length),
		ItemSize:   int(g.ItemSize),
		FixedSize:  g.Fixed,
		Type:       typ.Name,
		Strategy:   Strategy(g.Strategy),
		Mode:       Mode(g.Mode),
		Size:       fi.Size(),
		Perm:       fi.Mode().Perm(),
		Created:    time.Unix(0, g.Created),
		Written:    head,
	}
	if err := info.addHolders(f.Fd(), base, head); err != nil {
		return Info{}, fmt.Errorf("ask who holds %s: %w", f.Name(), err)
	}
	if g.Broadcast() {
		info.Unread = int(min(head, g.Length))
		return info, nil
	}
	info.Consumed = tail
	info.Unread = int(head - tail)
	info.Taken, info.Returned, info.Leases = takenOf(&ring, tail, head)
	for i, h := range info.Holders {
		switch {
		case h.Writer:
		case info.Strategy == Atomic:
			h.Leases = info.Leases[1] // the one reader's mark (atomicStrategy.token)
		default:
			h.Leases = info.Leases[h.Token]
		}
		info.Holders[i] = h
	}
	return info, nil
}

// addHolders fills in the attached handles of the buffer whose file is
// open as fd and whose header is mapped at base, and whose write cursor
// was head.
func (info *Info) addHolders(fd uintptr, base unsafe.Pointer, head uint64) error {
	return liveHolders(fd, base, 0, 0, func(hi holderInfo) {
		h := Holder{
			Token:  hi.token,
			Writer: hi.role == layout.HolderWriter,
			Pid:    hi.provenPid(),
			Since:  time.Unix(0, hi.since),
			Asleep: int(hi.asleep),
		}
		switch {
		case h.Writer:
			info.WritersWaiting += h.Asleep
			if info.WriterPid == 0 {
				info.WriterPid = h.Pid
			}
		default:
			info.ReadersWaiting += h.Asleep
			if info.Mode == Broadcast {
				h.Lag, h.Lost = head-min(hi.pos, head), hi.lost
			} else if info.ReaderPid == 0 {
				info.ReaderPid = h.Pid
			}
		}
		info.Holders = append(info.Holders, h)
	})
}

// takenOf counts, in the Queue buffer ring whose read and write cursors
// were tail and head, the items taken and not consumed, those of them
// given back, and the leases by holder token.
func takenOf(ring *layout.Ring, tail, head uint64) (taken, returned int, leases map[int]int) {
	end := min(max(atomic.LoadUint64(ring.TCur), tail), head)
	for p := tail; p < end; {
		w := layout.State(atomic.LoadUint64(ring.State(p)))
		if !w.Of(p, ring.Laps) {
			p++
			continue
		}
		n := span(w)
		switch w.Kind() {
		case layout.Done:
			p += n
			continue
		case layout.Returned:
			returned++
		case layout.Leased:
			if atomic.LoadUint64(ring.RCur) > p {
				// Acknowledged at the front since tail was loaded: the
				// read cursor moved past it and left its word (ack).
				p += n
				continue
			}
			if leases == nil {
				leases = map[int]int{}
			}
			leases[int(w.Token())]++
		}
		taken += int(n)
		p += n
	}
	return taken, returned, leases
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
		return notExist(name, c.Dir)
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

// removeLockFiles removes the role lock files of name in dir that nothing
// can use any more: those whose id is
// neither that of the buffer now called name nor that of a Create of name
// in progress, and that no handle holds. A held one belongs to a live
// handle of a removed buffer; it is left for a later Remove, once it is
// free. It removes nothing if it cannot tell which ids are in use.
//
// Create writes the header of its temporary file, with the new id, before
// it makes the lock files, and links the file to its name before it
// deletes the temporary file. The lock files are listed first and the ids
// looked up after, temporary files before the name; so a lock file listed
// here whose id is not found belongs to a buffer that has lost its name,
// or to a Create that died. An opener of that buffer that opened the lock
// file before it is unlinked here, and locks it after, finds that the
// name no longer names it (newAtomicStrategy).
func removeLockFiles(name, dir string) error {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return err
	}
	var locks []string
	var ids []uint64
	for _, e := range entries {
		if id, ok := lockOf(e.Name(), name); ok {
			locks = append(locks, filepath.Join(dir, e.Name()))
			ids = append(ids, id)
		}
	}
	if len(locks) == 0 {
		return nil
	}
	live, err := liveIDs(name, dir)
	if err != nil {
		return fmt.Errorf("not removing lock files: cannot tell which are in use: %w", err)
	}
	var errs []error
	for i, lp := range locks {
		if !live[ids[i]] {
			errs = append(errs, removeFreeLockFile(lp))
		}
	}
	return errors.Join(errs...)
}

// liveIDs returns the ids of the buffer called name in dir and of the
// Creates of name in progress (their temporary files).
func liveIDs(name, dir string) (map[uint64]bool, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, err
	}
	live := map[uint64]bool{}
	var errs []error
	add := func(path string) {
		id, err := readID(path)
		switch {
		case err == nil:
			live[id] = true
		case errors.Is(err, fs.ErrNotExist), errors.Is(err, ErrCorrupt), errors.Is(err, ErrUntrusted):
			// Gone; or a header not written yet, by a Create that has
			// made no lock file yet; or not a buffer at all.
		default:
			errs = append(errs, err)
		}
	}
	for _, e := range entries {
		if isTempOf(e.Name(), name, tempExt) {
			add(filepath.Join(dir, e.Name()))
		}
	}
	add(filepath.Join(dir, name+fileExt))
	return live, errors.Join(errs...)
}

// readID returns the id in the header of the buffer file at path.
func readID(path string) (uint64, error) {
	f, err := openNoFollow(path, false)
	if err != nil {
		return 0, err
	}
	defer f.Close()
	fi, err := f.Stat()
	if err != nil {
		return 0, err
	}
	if !fi.Mode().IsRegular() {
		return 0, corruptf("%s is not a regular file (%v)", path, fi.Mode().Type())
	}
	g, err := readHeader(f, fi.Size())
	return g.ID, err
}
