package child

import (
	"errors"
	"syscall"
)

// spuriousStartError reports whether err, from starting a process, is
// ERROR_INTERNAL_ERROR, which Wine's CreateProcess returns now and then on
// a busy machine ("wine client error: sendmsg: Bad file descriptor"): once
// in a kill loop's thousands of starts, and once in a whole CI run of the
// command's tests. It says nothing about the program being started.
func spuriousStartError(err error) bool {
	return errors.Is(err, syscall.Errno(1359)) // ERROR_INTERNAL_ERROR
}
