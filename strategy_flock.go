package scb

// flockStrategy guards every operation with an exclusive flock(2) on the
// buffer file itself (LockFileEx on Windows), held only for the operation,
// so any number of writers and readers may be attached. A flock belongs to
// the open file, not to a goroutine, so each handle also serialises its own
// goroutines with a mutex before taking it (Writer.mu, Reader.mu). The
// kernel drops the lock of a process that dies holding it.
//
// It locks the already open descriptor with golang.org/x/sys rather than
// through gofrs/flock, whose Unlock closes the file: per operation that
// would be an open, a lock, an unlock and a close instead of two calls.
type flockStrategy struct {
	fd uintptr
}

func newFlockStrategy(b *buffer) *flockStrategy {
	return &flockStrategy{fd: b.file.Fd()}
}

func (s *flockStrategy) shared() bool { return true }

// lockTries is how many times lock asks for the file lock without
// blocking before it sleeps in the kernel for it. Operations hold the lock
// for about a microsecond, so a few tries usually succeed, and cost less
// than a kernel sleep and wake-up.
const lockTries = 4

func (s *flockStrategy) lock() error {
	for range lockTries {
		if ok, err := lockFd(s.fd, false); ok || err != nil {
			return err
		}
	}
	_, err := lockFd(s.fd, true)
	return err
}

func (s *flockStrategy) unlock() { unlockFd(s.fd) }

func (s *flockStrategy) release() error { return nil }
