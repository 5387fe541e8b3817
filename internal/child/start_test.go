package child_test

import (
	"errors"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sharedcbuff/scb/internal/child"
)

// TestRetryStart checks which start failures RetryStart tries again: only
// Wine's spurious ERROR_INTERNAL_ERROR, on Windows, at most three times.
func TestRetryStart(t *testing.T) {
	internal := syscall.Errno(1359)
	other := errors.New("exec: no such file")
	tests := []struct {
		name  string
		errs  []error // what each attempt returns; nil once it starts
		calls int
		err   error
	}{
		{"starts", []error{nil}, 1, nil},
		{"other error", []error{other, nil}, 1, other},
		{"internal error once", []error{internal, nil}, onWindows(2, 1), onWindows(nil, error(internal))},
		{"internal error always", []error{internal, internal, internal, internal}, onWindows(3, 1), internal},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var log strings.Builder
			defer child.SetStartLog(&log)()
			calls := 0
			err := child.RetryStart(func() error {
				calls++
				return tt.errs[calls-1]
			})
			assert.Equal(t, tt.calls, calls)
			assert.Equal(t, tt.err, err)
			assert.Equal(t, tt.calls-1, strings.Count(log.String(), "trying again"), "every retry is reported")
		})
	}
}

// onWindows returns win on Windows and other elsewhere.
func onWindows[T any](win, other T) T {
	if runtime.GOOS == "windows" {
		return win
	}
	return other
}
