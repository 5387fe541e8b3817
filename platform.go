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
//	roleHeld(f *os.File) (bool, error)  whether another open file holds gofrs/flock's lock on f
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
// wake: the primitive under blocking calls' sleeps (wait.go has the
// protocol: registration, claiming the wake, the back-off without it).
//
//	futexes  whether waitOn really sleeps until wakeOn (else waits poll)
//	waitOn(word *uint32, val uint32, d time.Duration)  sleep while *word == val, at most d, across processes
//	wakeOn(word *uint32, old uint32)  wake every sleeper on word, in every process; word was just bumped from old
//	wakeMap(base unsafe.Pointer, size int, id uint64), wakeUnmap(base)  a buffer is mapped or unmapped (Windows names its events by buffer)
//	maxSleep  the longest single sleep
//	osYield()  give the processor to any other runnable thread (sched_yield on Linux, FreeBSD and macOS; runtime.Gosched elsewhere)
//
// holder: Flock's holder slots, byte locks that belong to a handle's open
// file and that the kernel drops when it closes or its process dies
// (lockword.go, strategy_flock.go). Without them Flock locks the file for
// every operation.
//
//	holderLocks  whether lockHolder works
//	lockHolder(fd uintptr, slot uint32) (bool, error)  take slot's byte lock if free
//	unlockHolder(fd uintptr, slot uint32) error
//
// proc: whether a recorded process id is alive, for Stat's liveness.
//
//	processAlive(pid int) bool
//
// atomic64 (by GOARCH, not GOOS): whether the Atomic strategy is offered.
//
//	lockFreeAtomic64  true where 64-bit atomics work between processes
//
// The files that provide them:
//
//	                   files             alloc            shmdir                              wake
//	linux              files_unix.go     alloc_linux.go   shmdir_linux.go (/dev/shm)          wake_linux.go (futex)
//	darwin             files_unix.go     alloc_other.go   shmdir_darwin.go (/private/tmp)     wake_darwin.go, .s (__ulock_wait, shared)
//	freebsd            files_unix.go     alloc_other.go   shmdir_other.go                     wake_freebsd.go (_umtx_op)
//	other unix         files_unix.go     alloc_other.go   shmdir_other.go                     wake_other.go (polling)
//	  (netbsd, openbsd, ...)
//	windows            files_windows.go  alloc_other.go   shmdir_other.go                     wake_windows.go (named events)
//	fallback           files_other.go    alloc_other.go   shmdir_other.go                     wake_other.go
//	  (plan9, js/wasm, wasip1: every file operation returns ErrUnsupported)
//
//	shmdir_unix.go: the check /dev/shm and /private/tmp must pass (linux, darwin)
//	wake_futex.go: futexes and maxSleep (100 ms) where waitOn sleeps until woken (linux, darwin, freebsd)
//
// Windows has no wait on an address between processes; wake_windows.go
// sets a named manual-reset event per wake-up word instead, with a shorter
// maxSleep (10 ms, about 16 ms with the default clock tick) because a race
// between sleepers of one word can make one miss a wake-up (the file's
// comment has it).
//
// Where waits poll (wake_other.go), a blocking call notices the item or
// the room it waits for at most maxSleep (1 ms) plus the system's timer
// slack after it appears. Where the clock ticks at 100 Hz, as NetBSD's
// and OpenBSD's do by default, a 1 ms sleep rounds up to one or two ticks,
// so the worst case there is about 20 ms.
// Where waitOn sleeps until woken, a wake-up takes a system call's time; a
// lost one (a waker that died between claiming and making it) costs at
// most maxSleep (100 ms).
//
//	proc: proc_unix.go, proc_windows.go, proc_other.go (the fallback)
//	holder: holder_linux.go (F_OFD_SETLK), holder_windows.go (LockFileEx byte ranges), holder_other.go (the fallback: none)
//
//	386, amd64, arm64, loong64, mips64(le), ppc64(le), riscv64, s390x: atomic64_lockfree.go
//	every other GOARCH (arm, mips(le), wasm, ...): atomic64_emulated.go
