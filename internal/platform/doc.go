// Package platform is what scb needs of the operating system, one concern
// per file, each file named concern_platform.go with an explicit //go:build
// line. Every concern has exactly one fallback (the _other file, or for
// atomic64 the _emulated file), so that the package builds on every GOOS and
// GOARCH, Plan 9, js/wasm and wasip1 included, with exactly one definition
// of each name below. Its errors are its own (errors.go); package scb turns
// them into its sentinels. The wait and wake-up primitives are package wait's.
//
// files: opening and locking buffer and lock files.
//
//	OpenNoFollow(path string, write bool) (*os.File, error)  open an existing file, refusing a symbolic link, never blocking on a FIFO
//	CreateExcl(path string, perm fs.FileMode) (*os.File, error)  create a file that must not exist
//	CheckOwner(dir, path string, fi fs.FileInfo) error  refuse another user's file in a sticky world-writable dir
//	LstatID(path string) (fs.FileInfo, error)  what os.SameFile needs, without following a link
//	RemoveBuffer(path string) error  delete a buffer file (Windows: only while nobody has it open)
//	LockFd(fd uintptr, block bool) (bool, error)  exclusive lock the kernel drops when the process dies
//	UnlockFd(fd uintptr) error
//	RoleHeld(f *os.File) (bool, error)  whether another open file holds gofrs/flock's lock on f
//	LockOpenFlags  extra open flags for role lock files (gofrs/flock)
//
// alloc: giving a buffer file all its blocks up front, so that a full file
// system is an error and not a SIGBUS (alloc.go's writeZeros is shared).
//
//	Reserve(f *os.File, size int64) error  size a new file and allocate it
//	EnsureAllocated(f *os.File, fi fs.FileInfo) error  fill the holes of an opened file
//
// shmdir: the platform's own default directory, if any (scb.DefaultDir).
//
//	ShmDir() string
//
// holder: Flock's holder slots, byte locks that belong to a handle's open
// file and that the kernel drops when it closes or its process dies. Without
// them Flock locks the file for every operation.
//
//	HolderLocks  whether LockHolder works
//	LockHolder(fd uintptr, slot uint32) (bool, error)  take slot's byte lock if free
//	UnlockHolder(fd uintptr, slot uint32) error
//	HolderHeld(fd uintptr, slot uint32) (bool, error)  whether another file holds it
//
// proc: when a process started, so that a holder's recorded process id is
// not believed of a process that was given the id later.
//
//	ProcStart(pid int) uint64  0 where it cannot tell
//
// atomic64 (by GOARCH, not GOOS): whether the Atomic strategy is offered.
//
//	LockFreeAtomic64  true where 64-bit atomics work between processes
//
// The files that provide them:
//
//	                   files             alloc            shmdir                              holder
//	linux              files_unix.go     alloc_linux.go   shmdir_linux.go (/dev/shm)          holder_linux.go (F_OFD_SETLK)
//	darwin             files_unix.go     alloc_other.go   shmdir_darwin.go (/private/tmp)     holder_other.go
//	freebsd            files_unix.go     alloc_other.go   shmdir_other.go                     holder_other.go
//	other unix         files_unix.go     alloc_other.go   shmdir_other.go                     holder_other.go
//	  (netbsd, openbsd, ...)
//	windows            files_windows.go  alloc_other.go   shmdir_other.go                     holder_windows.go (LockFileEx byte ranges)
//	fallback           files_other.go    alloc_other.go   shmdir_other.go                     holder_other.go
//	  (plan9, js/wasm, wasip1: every file operation returns errors.ErrUnsupported)
//
//	shmdir_unix.go: the check /dev/shm and /private/tmp must pass (linux, darwin)
//	proc: proc_linux.go (/proc/PID/stat), proc_windows.go (GetProcessTimes),
//	proc_unix_other.go and proc_other.go (cannot tell)
//
//	386, amd64, arm64, loong64, mips64(le), ppc64(le), riscv64, s390x: atomic64_lockfree.go
//	every other GOARCH (arm, mips(le), wasm, ...): atomic64_emulated.go
package platform
