//go:build linux || freebsd

package bench

import (
	"os"

	"golang.org/x/sys/unix"
)

func haveStream(via Via) error { return nil }

// seqpacketPair returns a connected Unix-domain SOCK_SEQPACKET pair.
func seqpacketPair() (*os.File, *os.File, error) {
	fds, err := unix.Socketpair(unix.AF_UNIX, unix.SOCK_SEQPACKET|unix.SOCK_CLOEXEC, 0)
	if err != nil {
		return nil, nil, os.NewSyscallError("socketpair", err)
	}
	return os.NewFile(uintptr(fds[0]), "seqpacket"), os.NewFile(uintptr(fds[1]), "seqpacket"), nil
}
