//go:build windows

package platform

// Processes on Windows: when a process started, to tell it from one that
// was given its id later.

import "golang.org/x/sys/windows"

// ProcStart returns when process pid was created (a FILETIME: 100 ns
// units since 1601), or 0 if it cannot tell.
func ProcStart(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	h, err := windows.OpenProcess(windows.PROCESS_QUERY_LIMITED_INFORMATION, false, uint32(pid))
	if err != nil {
		return 0
	}
	defer windows.CloseHandle(h)
	var created, exited, kernel, user windows.Filetime
	if windows.GetProcessTimes(h, &created, &exited, &kernel, &user) != nil {
		return 0
	}
	return uint64(created.HighDateTime)<<32 | uint64(created.LowDateTime)
}
