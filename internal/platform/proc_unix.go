//go:build unix

package platform

// Processes on Unix: whether a process id recorded in a header is alive.

import (
	"errors"
	"syscall"
)

// ProcessAlive reports whether a process with id pid exists (signal 0
// checks without sending anything; EPERM means it exists as another user).
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	err := syscall.Kill(pid, 0)
	return err == nil || errors.Is(err, syscall.EPERM)
}
