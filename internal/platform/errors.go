package platform

import "errors"

// What the file operations refuse, as kinds that package scb turns into its
// own sentinels (ErrUntrusted, ErrCorrupt, ErrBusy). An error of this
// package matches one of them with errors.Is; its text says which file and
// why, and reads on after scb's sentinel ("refusing to open an untrusted
// file: /dev/shm/jobs.scb is a symbolic link"). Where the platform cannot
// do something at all, the error matches errors.ErrUnsupported.
var (
	// ErrSymlink: a symbolic link where a buffer or lock file should be.
	ErrSymlink = errors.New("symbolic link")
	// ErrNotRegular: a file that is not a regular file (a FIFO, a
	// directory, a device).
	ErrNotRegular = errors.New("not a regular file")
	// ErrOtherOwner: another user's file in a world-writable sticky
	// directory.
	ErrOtherOwner = errors.New("another user's file")
	// ErrInUse: a file that cannot be removed while it is open (Windows).
	ErrInUse = errors.New("file in use")
)

// FileError is a refused file: Kind is one of the errors above, Text says
// what was found.
type FileError struct {
	Kind error
	Text string // "/dev/shm/jobs.scb is a symbolic link"
}

func (e *FileError) Error() string { return e.Text }
func (e *FileError) Unwrap() error { return e.Kind }
