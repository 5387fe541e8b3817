//go:build unix

package platform

// Processes on Unix: whether a process id recorded in a header is alive.

import (
	"errors"
	"math"
	"syscall"
)

// ProcessAlive reports whether a process with id pid exists and has not
// exited (signal 0 checks without sending anything; EPERM means it exists
// as another user). An id no process can have is not alive: a pid_t is a
// positive int32, and a larger word read as one would turn negative, where
// kill(-1, 0) asks about every process. A zombie, a process that exited
// and waits for its parent to reap it, answers kill but runs nothing and
// holds no lock: not alive either, where the platform tells (zombie).
func ProcessAlive(pid int) bool {
	if pid <= 0 || pid > math.MaxInt32 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return (err == nil || errors.Is(err, syscall.EPERM)) && !zombie(pid)
}
