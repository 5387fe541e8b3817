//go:build windows

package platform

// File operations on Windows: opening without following links, exclusive
// creation, and LockFileEx locks.

import (
	"errors"
	"fmt"
	"io/fs"
	"os"
	"unsafe"

	"golang.org/x/sys/windows"
)

// LockOpenFlags has nothing to add on Windows, which has no FIFOs in the
// file system and whose lock files are checked with Lstat first.
const LockOpenFlags = 0

// OpenNoFollow opens an existing file, refusing a symbolic link. The file
// is opened with FILE_SHARE_DELETE so that Remove can delete a buffer that
// is open elsewhere.
func OpenNoFollow(path string, write bool) (*os.File, error) {
	fi, err := os.Lstat(path)
	if err != nil {
		return nil, err
	}
	switch {
	case fi.Mode()&fs.ModeSymlink != 0:
		return nil, &FileError{ErrSymlink, path + " is a symbolic link"}
	case !fi.Mode().IsRegular():
		return nil, &FileError{ErrNotRegular, fmt.Sprintf("%s is not a regular file (%v)", path, fi.Mode().Type())}
	}
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	access := uint32(windows.GENERIC_READ)
	if write {
		access |= windows.GENERIC_WRITE
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, access, share, nil, windows.OPEN_EXISTING,
		windows.FILE_ATTRIBUTE_NORMAL|windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_NOT_FOUND) || errors.Is(err, windows.ERROR_PATH_NOT_FOUND) {
			return nil, &fs.PathError{Op: "open", Path: path, Err: fs.ErrNotExist}
		}
		return nil, &fs.PathError{Op: "open", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}

// LstatID returns what os.SameFile needs to compare path, not following a
// symbolic link, with an open file: its volume and file index, read through
// a handle opened with full sharing. (os.Lstat would read them later through
// a handle that shares nothing, which Wine refuses while another handle has
// the file mapped.)
func LstatID(path string) (fs.FileInfo, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, windows.FILE_READ_ATTRIBUTES, share, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OPEN_REPARSE_POINT|windows.FILE_FLAG_BACKUP_SEMANTICS, 0)
	if err != nil {
		return nil, &fs.PathError{Op: "lstat", Path: path, Err: err}
	}
	f := os.NewFile(uintptr(h), path)
	defer f.Close()
	return f.Stat()
}

// RemoveBuffer deletes the buffer file at path, or fails with ErrInUse while
// any process has it open: Windows cannot delete a mapped file, nor the
// role lock files of an attached handle (gofrs/flock opens them without
// FILE_SHARE_DELETE). It opens the file for delete sharing nothing, which
// fails while the file is open anywhere, and deletes it through that
// handle, so that no opener can come between the check and the delete.
func RemoveBuffer(path string) error {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return err
	}
	h, err := windows.CreateFile(p, windows.DELETE, 0, nil, windows.OPEN_EXISTING,
		windows.FILE_FLAG_OPEN_REPARSE_POINT, 0)
	switch {
	case errors.Is(err, windows.ERROR_SHARING_VIOLATION):
		return &FileError{ErrInUse, path + " is open (on Windows a buffer cannot be removed while a handle has it open)"}
	case errors.Is(err, windows.ERROR_FILE_NOT_FOUND):
		return &fs.PathError{Op: "remove", Path: path, Err: fs.ErrNotExist}
	case err != nil:
		return &fs.PathError{Op: "remove", Path: path, Err: err}
	}
	del := uint32(1) // FILE_DISPOSITION_INFO.DeleteFile
	err = windows.SetFileInformationByHandle(h, windows.FileDispositionInfo, (*byte)(unsafe.Pointer(&del)), 4)
	if cerr := windows.CloseHandle(h); err == nil {
		err = cerr
	}
	if err != nil {
		return &fs.PathError{Op: "remove", Path: path, Err: err}
	}
	return nil
}

// CheckOwner has nothing to check on Windows: the temporary directory is
// per user.
func CheckOwner(dir, path string, fi fs.FileInfo) error { return nil }

// lockRange is the byte range the lock covers: one byte far past the end of
// any buffer, so that the mandatory Windows lock never blocks I/O on the
// file itself.
func lockRange() *windows.Overlapped {
	return &windows.Overlapped{Offset: 0xFFFFFFFE, OffsetHigh: 0x7FFFFFFF}
}

// LockFd takes an exclusive LockFileEx lock on fd, waiting for it if block
// is set. It reports false, nil when the lock is held elsewhere and block is
// not set. The system drops the lock when the process dies.
func LockFd(fd uintptr, block bool) (bool, error) {
	flags := uint32(windows.LOCKFILE_EXCLUSIVE_LOCK)
	if !block {
		flags |= windows.LOCKFILE_FAIL_IMMEDIATELY
	}
	err := windows.LockFileEx(windows.Handle(fd), flags, 0, 1, 0, lockRange())
	switch {
	case err == nil:
		return true, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return false, nil
	}
	return false, err
}

// RoleHeld reports whether another open file holds a lock on the role
// lock file f. gofrs/flock locks its first byte, so that is the byte
// tried (and dropped again if it was free).
func RoleHeld(f *os.File) (bool, error) {
	h := windows.Handle(f.Fd())
	err := windows.LockFileEx(h, windows.LOCKFILE_EXCLUSIVE_LOCK|windows.LOCKFILE_FAIL_IMMEDIATELY, 0, 1, 0, &windows.Overlapped{})
	switch {
	case err == nil:
		windows.UnlockFileEx(h, 0, 1, 0, &windows.Overlapped{})
		return false, nil
	case errors.Is(err, windows.ERROR_LOCK_VIOLATION), errors.Is(err, windows.ERROR_IO_PENDING):
		return true, nil
	}
	return false, err
}

func UnlockFd(fd uintptr) error {
	return windows.UnlockFileEx(windows.Handle(fd), 0, 1, 0, lockRange())
}

// CreateExcl creates a new file that must not exist, shareable for delete
// so that the temporary name can be removed after it is linked into place.
func CreateExcl(path string, perm fs.FileMode) (*os.File, error) {
	p, err := windows.UTF16PtrFromString(path)
	if err != nil {
		return nil, err
	}
	share := uint32(windows.FILE_SHARE_READ | windows.FILE_SHARE_WRITE | windows.FILE_SHARE_DELETE)
	h, err := windows.CreateFile(p, windows.GENERIC_READ|windows.GENERIC_WRITE, share, nil,
		windows.CREATE_NEW, windows.FILE_ATTRIBUTE_NORMAL, 0)
	if err != nil {
		if errors.Is(err, windows.ERROR_FILE_EXISTS) || errors.Is(err, windows.ERROR_ALREADY_EXISTS) {
			return nil, &fs.PathError{Op: "create", Path: path, Err: fs.ErrExist}
		}
		return nil, &fs.PathError{Op: "create", Path: path, Err: err}
	}
	return os.NewFile(uintptr(h), path), nil
}
