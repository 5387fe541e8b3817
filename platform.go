package scb

// What each platform provides. Platform code lives in files named
// concern_platform.go, each with an explicit //go:build line, and every
// concern has exactly one fallback (the _other file, or for atomic64 the
// _emulated file) so that the package builds on every GOOS and GOARCH,
// Plan 9, js/wasm and wasip1 included, with exactly one definition of each
// name below.
//
// files: opening and locking buffer and lock files.
//
//	openNoFollow(path string, write bool) (*os.File, error)  open an existing file, refusing a symbolic link, never blocking on a FIFO
//	createExcl(path string, perm fs.FileMode) (*os.File, error)  create a file that must not exist
//	checkOwner(dir, path string, fi fs.FileInfo) error  refuse another user's file in a sticky world-writable dir
//	lockFd(fd uintptr, block bool) (bool, error)  exclusive lock the kernel drops when the process dies
//	unlockFd(fd uintptr) error
//	lockOpenFlags  extra open flags for role lock files (gofrs/flock)
//
// alloc: giving a buffer file all its blocks up front, so that a full file
// system is an error and not a SIGBUS (alloc.go's writeZeros is shared).
//
//	reserve(f *os.File, size int64) error  size a new file and allocate it
//	ensureAllocated(f *os.File, fi fs.FileInfo) error  fill the holes of an opened file
//
// shmdir: the platform's own default directory, if any (see DefaultDir).
//
//	shmDir() string
//
// wake: how blocking calls wait for items, room or the Flock lock (wait.go).
//
//	sleep(ws *waitState, seq, waiters *uint32, ready func() bool, limit time.Duration)
//	wake(seq *uint32)
//	maxSleep  the longest single sleep
//
// atomic64 (by GOARCH, not GOOS): whether the Atomic strategy is offered.
//
//	lockFreeAtomic64  true where 64-bit atomics work between processes
//
// The files that provide them:
//
//	                   files             alloc            shmdir            wake
//	linux              files_unix.go     alloc_linux.go   shmdir_linux.go   wake_linux.go (futex)
//	other unix         files_unix.go     alloc_other.go   shmdir_other.go   wake_other.go (polling)
//	  (darwin, freebsd, netbsd, openbsd, ...)
//	windows            files_windows.go  alloc_other.go   shmdir_other.go   wake_other.go
//	fallback           files_other.go    alloc_other.go   shmdir_other.go   wake_other.go
//	  (plan9, js/wasm, wasip1: every file operation returns ErrUnsupported)
//
//	386, amd64, arm64, loong64, mips64(le), ppc64(le), riscv64, s390x: atomic64_lockfree.go
//	every other GOARCH (arm, mips(le), wasm, ...): atomic64_emulated.go
