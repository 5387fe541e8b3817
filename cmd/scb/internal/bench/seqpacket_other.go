//go:build unix && !(linux || freebsd)

package bench

import "os"

// haveStream reports that Unix-domain SOCK_SEQPACKET is missing here
// (macOS and some BSDs lack it); pipes work.
func haveStream(via Via) error {
	if via == Socket {
		return ErrUnsupported
	}
	return nil
}

func seqpacketPair() (*os.File, *os.File, error) { return nil, nil, ErrUnsupported }
