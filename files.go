package scb

import (
	"errors"
	"fmt"
	"io/fs"
	"os"

	"github.com/sharedcbuff/scb/internal/platform"
)

// The operating system's files as scb sees them: internal/platform's
// operations with scb's errors, and whether a path still names an open file.

// osError turns what internal/platform refuses into scb's errors: a
// symbolic link or another user's file is ErrUntrusted, a file that is not
// a regular file ErrCorrupt, a file Windows cannot remove while it is open
// ErrBusy, and what the platform cannot do ErrUnsupported. Other errors
// pass unchanged.
func osError(err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, platform.ErrSymlink):
		return fmt.Errorf("%w: %w", ErrUntrusted, err)
	case errors.Is(err, platform.ErrOtherOwner):
		return fmt.Errorf("%w: %w (set Options.AllowOtherOwner to use it anyway)", ErrUntrusted, err)
	case errors.Is(err, platform.ErrNotRegular):
		return fmt.Errorf("%w: %w", ErrCorrupt, err)
	case errors.Is(err, platform.ErrInUse):
		return fmt.Errorf("%w: %w", ErrBusy, err)
	case errors.Is(err, errors.ErrUnsupported) && !errors.Is(err, ErrUnsupported):
		return fmt.Errorf("%w: %w", ErrUnsupported, err)
	}
	return err
}

// openNoFollow opens an existing file, refusing a symbolic link and never
// blocking on a FIFO (platform.OpenNoFollow), with scb's errors.
func openNoFollow(path string, write bool) (*os.File, error) {
	f, err := platform.OpenNoFollow(path, write)
	return f, osError(err)
}

// checkOwner refuses a file of another user in a world-writable sticky
// directory (platform.CheckOwner), with scb's errors.
func checkOwner(dir, path string, fi fs.FileInfo) error {
	return osError(platform.CheckOwner(dir, path, fi))
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
	pi, err := platform.LstatID(path)
	return err == nil && os.SameFile(fi, pi)
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
