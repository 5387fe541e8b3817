package scb

import (
	"crypto/rand"
	"encoding/binary"
	"encoding/hex"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// File names. A buffer called jobs is the file jobs.scb; the Atomic
// strategy's role locks are jobs.scb.wlock and jobs.scb.rlock beside it;
// Create builds the file as .jobs.scb.<random>.tmp (a name no buffer can
// have) and links it into place.
const (
	fileExt       = ".scb"
	writerLockExt = ".wlock"
	readerLockExt = ".rlock"
	tempExt       = ".tmp"
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
	name string
	dir  string
	path string
	file *os.File
	mem  mmap.MMap
	geo  geometry
	perm fs.FileMode
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
	var f *os.File
	var tmp string
	for range 10 {
		var rnd [6]byte
		_, _ = rand.Read(rnd[:])
		tmp = filepath.Join(c.Dir, "."+name+fileExt+"."+hex.EncodeToString(rnd[:])+tempExt)
		var err error
		f, err = createExcl(tmp, c.perm)
		if err == nil {
			break
		}
		if !errors.Is(err, fs.ErrExist) {
			return nil, "", err
		}
	}
	if f == nil {
		return nil, "", fmt.Errorf("no free temporary name in %s", c.Dir)
	}
	fail := func(err error) (*buffer, string, error) {
		f.Close()
		os.Remove(tmp)
		return nil, "", err
	}
	if _, err := lockFd(f.Fd(), false); err != nil {
		return fail(fmt.Errorf("lock %s: %w", tmp, err))
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
	return b, tmp, nil
}

// publishFile gives the temporary file built by buildFile the buffer's name.
// It links rather than renames so that an existing buffer is never replaced:
// if the name is taken the result matches ErrExist and the temporary file is
// removed.
func (b *buffer) publishFile(tmp string) error {
	err := os.Link(tmp, b.path)
	os.Remove(tmp)
	unlockFd(b.file.Fd())
	if err != nil {
		if errors.Is(err, fs.ErrExist) {
			return fmt.Errorf("%w in %s", ErrExist, b.dir)
		}
		return err
	}
	return nil
}

// abandon throws away a buffer built by buildFile and not published.
func (b *buffer) abandon(tmp string) {
	b.close()
	os.Remove(tmp)
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
	b, err := mapFile(name, c.Dir, f, g, fi.Mode().Perm())
	if err != nil {
		f.Close()
		return nil, err
	}
	return b, nil
}

// statFile reads a buffer's header and cursors with plain reads: no mapping,
// no lock, no role.
func statFile(name string, c config) (Info, error) {
	f, g, fi, err := openChecked(name, c, false)
	if err != nil {
		return Info{}, err
	}
	defer f.Close()
	var cur [offTail + 8]byte
	if _, err := f.ReadAt(cur[:], 0); err != nil {
		return Info{}, fmt.Errorf("read cursors: %w", err)
	}
	head := binary.NativeEndian.Uint64(cur[offHead:])
	tail := binary.NativeEndian.Uint64(cur[offTail:])
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
	}
	if g.mode == Broadcast {
		info.Unread = int(min(head, g.length))
		return info, nil
	}
	if tail > head || head-tail > g.length {
		return Info{}, corruptf("read cursor %d and write cursor %d are more than %d apart", tail, head, g.length)
	}
	info.Consumed = tail
	info.Unread = int(head - tail)
	return info, nil
}

// listDir stats every *.scb file with a valid buffer name in c.Dir.
func listDir(c config) ([]Info, error) {
	entries, err := os.ReadDir(c.Dir)
	if err != nil {
		return nil, fmt.Errorf("scb: list %s: %w", c.Dir, err)
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
			if stale > 0 {
				return nil
			}
			return fmt.Errorf("%w in %s", ErrNotExist, c.Dir)
		}
		return err
	}
	if !fi.Mode().IsRegular() {
		return corruptf("%s is not a regular file (%v); not removing it", path, fi.Mode().Type())
	}
	if err := os.Remove(path); err != nil {
		return err
	}
	for _, ext := range []string{writerLockExt, readerLockExt} {
		if err := os.Remove(path + ext); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return err
		}
	}
	return nil
}

// removeStaleTemps removes the temporary files of Creates of name that died
// before finishing, and reports how many it removed.
func removeStaleTemps(name, dir string) int {
	matches, _ := filepath.Glob(filepath.Join(dir, "."+name+fileExt+".*"+tempExt))
	n := 0
	for _, m := range matches {
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
