package platform

import (
	"bytes"
	"fmt"
	"os"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"
)

// FlockHolder returns the process that holds a flock(2) lock on the file
// at path, as the kernel lists it in /proc/locks. known reports whether
// the kernel said: pid is then the holder, or 0 when nobody holds the
// file. A holder the list cannot name (one in a pid namespace this process
// does not see) is not known.
func FlockHolder(path string) (pid int, known bool) {
	var st unix.Stat_t
	if err := unix.Stat(path, &st); err != nil {
		return 0, false
	}
	b, err := os.ReadFile("/proc/locks")
	if err != nil {
		return 0, false
	}
	file := fmt.Sprintf("%02x:%02x:%d", unix.Major(st.Dev), unix.Minor(st.Dev), st.Ino)
	for line := range strings.SplitSeq(string(b), "\n") {
		// "1: FLOCK  ADVISORY  WRITE 22867 fe:00:9977990 0 EOF"; a
		// process waiting for the lock has "->" after the number.
		f := strings.Fields(line)
		if len(f) < 6 || f[1] != "FLOCK" || f[5] != file {
			continue
		}
		p, err := strconv.Atoi(f[4])
		if err != nil || p <= 0 {
			return 0, false
		}
		return p, true
	}
	return 0, true
}

// zombie reports whether process pid has exited and not been reaped: its
// state in /proc/PID/stat, the field after the command name in
// parentheses (which may itself hold parentheses), is Z (or X, dead).
func zombie(pid int) bool {
	b, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(b, ')')
	if i < 0 || i+2 >= len(b) {
		return false
	}
	return b[i+2] == 'Z' || b[i+2] == 'X'
}
