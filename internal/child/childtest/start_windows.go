package childtest

import (
	"errors"
	"syscall"
)

// spuriousStartError reports whether err, from starting a process, is
// ERROR_INTERNAL_ERROR, which Wine's CreateProcess returns now and then on
// a busy machine (once in a kill loop's thousands of starts). Nothing under
// test starts processes, so StartWith tries again.
func spuriousStartError(err error) bool {
	return errors.Is(err, syscall.Errno(1359)) // ERROR_INTERNAL_ERROR
}
