//go:build !unix

package bench

import (
	"os"
	"time"
)

// Pipes and Unix sockets are measured on Unix systems only.

func streamThroughput(via Via, s Shape, n int) (time.Duration, error) {
	return 0, ErrUnsupported
}

func streamRoundTrip(via Via, n int) ([]time.Duration, error) { return nil, ErrUnsupported }

func streamChild(j job) error { return ErrUnsupported }

func mpmcStream(via Via) (w, r *os.File, err error) { return nil, nil, ErrUnsupported }
