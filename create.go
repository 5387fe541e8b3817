package scb

// Create's file work: build the buffer file under a temporary name, then link
// it into place (publishFile) or throw it away (abandon).

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"

	"github.com/sharedcbuff/scb/internal/layout"
	"github.com/sharedcbuff/scb/internal/platform"
)

// buildFile makes a complete buffer file under a temporary name in c.Dir
// and maps it. The temporary file is locked so that Remove can tell a
// Create in progress from one that died. Nothing in c.Dir has the buffer's
// name yet: publishFile links it into place, abandon throws it away.
func buildFile(name string, c config, g layout.Geometry) (*mapping, string, error) {
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
	// Each attempt that loses to a Remove (which takes a temporary file's
	// lock, finds it free and deletes it, between our create and our lock)
	// starts again under a new name: under a churn of Removes of the same
	// name ten attempts were seen to lose in a row.
	for range 1000 {
		var err error
		tmp = tempName(c.Dir, name, tempExt)
		f, err = platform.CreateExcl(tmp, c.perm)
		if errors.Is(err, fs.ErrExist) {
			continue
		}
		if err != nil {
			return nil, "", err
		}
		// Lock it, so that Remove knows a Create is in progress. Remove
		// may have deleted the file as stale between the create and the
		// lock; then start again under another name.
		if _, err := platform.LockFd(f.Fd(), true); err != nil {
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
		return nil, "", fmt.Errorf("no temporary file in %s survived concurrent Removes of the name", c.Dir)
	}
	fail := func(err error) (*mapping, string, error) {
		f.Close()
		os.Remove(tmp)
		return nil, "", err
	}
	if err := f.Chmod(c.perm); err != nil {
		return fail(err)
	}
	if err := platform.Reserve(f, int64(g.FileSize)); err != nil {
		return fail(fmt.Errorf("reserve %d bytes for %s: %w", g.FileSize, tmp, err))
	}
	hdr := make([]byte, layout.FixedFields)
	g.Encode(hdr)
	if _, err := f.WriteAt(hdr, 0); err != nil {
		return fail(err)
	}
	if c.typ.Sum != 0 {
		line := make([]byte, layout.LineSize)
		c.typ.Encode(line)
		if _, err := f.WriteAt(line, layout.OffTypeSum); err != nil {
			return fail(err)
		}
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

// publishFile gives the temporary file built by buildFile the buffer's name.
// It links rather than renames so that an existing buffer is never replaced:
// if the name is taken the result matches ErrExist and the temporary file is
// removed.
func (b *mapping) publishFile(tmp string) error {
	b.creating = false
	err := os.Link(tmp, b.path)
	os.Remove(tmp)
	platform.UnlockFd(b.file.Fd())
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
func (b *mapping) abandon(tmp string) {
	b.removeOwnLockFiles()
	b.close()
	os.Remove(tmp)
}

// removeOwnLockFiles removes the lock files made for a buffer that was
// never published: they carry its id, so nobody else can be using them.
func (b *mapping) removeOwnLockFiles() {
	for _, lp := range lockFiles(b.path, b.geo) {
		os.Remove(lp)
	}
}
