package platform

// Processes on Linux: when a process started, to tell it from one that was
// given its id later.

import (
	"bytes"
	"os"
	"strconv"
	"strings"
)

// ProcStart returns when process pid started, in clock ticks since the
// machine booted (field 22 of /proc/PID/stat), or 0 if it cannot tell.
// With the pid it names one process for the machine's uptime: a process
// given a recycled pid started later.
func ProcStart(pid int) uint64 {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return 0
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 {
		return 0
	}
	f := strings.Fields(string(b[i+1:])) // from field 3, the state
	if len(f) < 20 {
		return 0
	}
	t, err := strconv.ParseUint(f[19], 10, 64)
	if err != nil {
		return 0
	}
	return t
}
