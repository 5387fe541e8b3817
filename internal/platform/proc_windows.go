//go:build windows

package platform

// Processes on Windows: whether a process id recorded in a header is alive.

import (
	"errors"

	"golang.org/x/sys/windows"
)

// stillActive is the exit code GetExitCodeProcess reports while a process
// runs (STILL_ACTIVE).
const stillActive = 259

// ProcessAlive reports whether a process with id pid is running.
func ProcessAlive(pid int) bool {
	if pid <= 0 {
		return false
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return errors.Is(err, windows.ERROR_ACCESS_DENIED)
	}
	defer windows.CloseHandle(h)
	var code uint32
	return windows.GetExitCodeProcess(h, &code) == nil && code == stillActive
}

// FlockHolder cannot ask who holds a lock here: never known.
func FlockHolder(string) (int, bool) { return 0, false }
