package platform

// Processes on Linux: when a process started, to tell it from one that was
// given its id later.

import (
	"bytes"
	"io"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// ProcStart returns when process pid started, in clock ticks since the
// machine booted (field 22 of /proc/PID/stat), or 0 if it cannot tell.
// With the pid it names one process for the machine's uptime: a process
// given a recycled pid started later.
//
// The file is opened relative to a descriptor of /proc, not by its full
// name: QEMU's user emulation (the arm64 CI lane) answers a process's own
// /proc/self/stat and /proc/PID/stat itself, with a start time of the
// calling thread's that other processes, which read the kernel's, never
// see. A relative name is the kernel's file everywhere.
func ProcStart(pid int) uint64 {
	if pid <= 0 {
		return 0
	}
	dir, err := os.Open("/proc")
	if err != nil {
		return 0
	}
	defer dir.Close()
	fd, err := unix.Openat(int(dir.Fd()), strconv.Itoa(pid)+"/stat", unix.O_RDONLY|unix.O_CLOEXEC, 0)
	if err != nil {
		return 0
	}
	f := os.NewFile(uintptr(fd), "stat")
	defer f.Close()
	b, err := io.ReadAll(f)
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	fields := strings.Fields(string(b[i+1:])) // from field 3, the state
	if len(fields) < 20 {
		return 0
	}
	t, err := strconv.ParseUint(fields[19], 10, 64)
	if err != nil {
		return 0
	}
	return t
}
