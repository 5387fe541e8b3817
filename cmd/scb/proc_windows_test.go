//go:build windows

package main

import (
	"os"
	"syscall"
)

// stillActive is the exit code GetExitCodeProcess reports for a process
// that runs.
const stillActive = 259

// processExited reports whether the process pid has exited.
func processExited(pid int) bool {
	h, err := syscall.OpenProcess(syscall.PROCESS_QUERY_INFORMATION, false, uint32(pid))
	if err != nil {
		return true // no such process
	}
	defer syscall.CloseHandle(h)
	var code uint32
	if err := syscall.GetExitCodeProcess(h, &code); err != nil {
		return false
	}
	return code != stillActive
}

// peakRSS reports false: Windows' rusage has no memory figures.
func peakRSS(ps *os.ProcessState) (int64, bool) { return 0, false }
