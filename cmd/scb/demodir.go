package main

// The demo's temporary directory, and the removal of those that demos left
// behind when they were killed.
//
// A demo makes its buffers in a directory scb-demo-PID-RAND of the buffer
// directory, and holds an exclusive lock (flock(2), LockFileEx on Windows)
// on the file beside it with the same name and ".lock", which the kernel
// releases however the demo ends. A demo that starts removes every such
// directory whose lock it can take: the demo that made it is gone.
//
// Two rules make that safe for a running demo:
//   - a demo makes its directory only once it holds the lock of the file
//     that is at the lock file's path (not one that a cleaner unlinked
//     between the demo's open and its lock);
//   - whoever removes a directory holds its lock, and removes the directory
//     before the lock file.
//
// So a directory whose lock file can be locked has no running demo, and a
// cleaner that unlinks a lock file has already removed the directory.

import (
	"errors"
	"fmt"
	"io/fs"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"

	"github.com/gofrs/flock"
)

const (
	demoDirPrefix = "scb-demo-" // of the names of the demos' directories
	lockSuffix    = ".lock"     // of the names of their lock files
)

// demoDir is the directory of a running demo, and the lock that says so.
type demoDir struct {
	path string
	lock *flock.Flock
}

// makeDemoDir makes a new demo directory in parent and locks it.
func makeDemoDir(parent string) (*demoDir, error) {
	for range 10 {
		path := filepath.Join(parent, fmt.Sprintf("%s%d-%08x", demoDirPrefix, os.Getpid(), rand.Uint32()))
		d, err := lockDemoDir(path)
		if err != nil {
			return nil, err
		}
		if d == nil {
			continue // someone else's (unlikely with a random name): try another
		}
		if err := os.Mkdir(path, 0o700); err != nil {
			d.unlock()
			if errors.Is(err, fs.ErrExist) {
				continue
			}
			return nil, err
		}
		return d, nil
	}
	return nil, fmt.Errorf("could not make a directory for the demo in %s", parent)
}

// lockDemoDir takes the lock of the demo directory path. It returns nil
// and no error if another process holds the lock, or if the lock file was
// unlinked (by whoever held it) between opening and locking.
func lockDemoDir(path string) (*demoDir, error) {
	lock := flock.New(path + lockSuffix)
	ok, err := lock.TryLock()
	if err != nil || !ok {
		return nil, err
	}
	held, err := lock.Stat()
	if err != nil {
		lock.Close()
		return nil, err
	}
	if now, err := os.Stat(lock.Path()); err != nil || !os.SameFile(held, now) {
		lock.Close()
		return nil, nil
	}
	return &demoDir{path: path, lock: lock}, nil
}

// remove removes the directory, then its lock file, and releases the lock.
func (d *demoDir) remove() error {
	err := os.RemoveAll(d.path)
	d.unlock()
	return err
}

// unlock removes the lock file and releases the lock: in that order where
// the system lets an open file be removed; Windows does not (nor does it
// let anyone remove a lock file that is held).
func (d *demoDir) unlock() {
	unlinked := os.Remove(d.lock.Path()) == nil
	d.lock.Close()
	if !unlinked {
		os.Remove(d.lock.Path())
	}
}

// removeStaleDemoDirs removes from parent the directories of demos that no
// longer run, and returns their paths. A directory that cannot be removed
// (another user's, say) is left alone.
func removeStaleDemoDirs(parent string) []string {
	entries, err := os.ReadDir(parent)
	if err != nil {
		return nil // making the new demo's directory will say why
	}
	var removed []string
	for _, e := range entries {
		name := e.Name()
		if !strings.HasPrefix(name, demoDirPrefix) || !strings.HasSuffix(name, lockSuffix) || e.IsDir() {
			continue
		}
		d, err := lockDemoDir(filepath.Join(parent, strings.TrimSuffix(name, lockSuffix)))
		if err != nil || d == nil {
			continue // a running demo's, or not ours to lock
		}
		_, statErr := os.Lstat(d.path)
		if err := d.remove(); err == nil && statErr == nil {
			removed = append(removed, d.path)
		}
	}
	return removed
}
