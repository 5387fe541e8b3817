package platform

import (
	"bytes"
	"os"
	"strconv"
)

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
