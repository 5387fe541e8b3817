package scb

import "sync"

// flockStrategy guards every operation with an exclusive flock(2) on the
// buffer file itself (LockFileEx on Windows), held only for the operation,
// and a mutex for the goroutines of one handle (a flock belongs to the open
// file, so it cannot tell them apart). Any number of writers and readers may
// be attached. The kernel drops the lock of a process that dies holding it.
//
// It locks the already open file descriptor with golang.org/x/sys rather
// than through gofrs/flock, whose Unlock closes the file: per operation that
// would be an open, a lock, an unlock and a close instead of two calls.
type flockStrategy struct {
	mu sync.Mutex
	fd uintptr
}

func newFlockStrategy(b *buffer) *flockStrategy {
	return &flockStrategy{fd: b.file.Fd()}
}

func (s *flockStrategy) shared() bool { return true }

func (s *flockStrategy) lock() error {
	s.mu.Lock()
	if _, err := lockFd(s.fd, true); err != nil {
		s.mu.Unlock()
		return err
	}
	return nil
}

func (s *flockStrategy) unlock() {
	unlockFd(s.fd)
	s.mu.Unlock()
}

func (s *flockStrategy) release() error { return nil }
