//go:build unix

package scb_test

import (
	"net"

	"golang.org/x/sys/unix"
)

// specialFiles make files of kinds other than regular files and
// directories, which an opener must refuse without blocking.
var specialFiles = []struct {
	why  string
	make func(path string) error
}{
	{"FIFO", func(p string) error { return unix.Mkfifo(p, 0o600) }},
	{"socket", func(p string) error {
		l, err := net.Listen("unix", p)
		if err != nil {
			return err
		}
		// Keep the socket file: closing a listener removes it.
		l.(*net.UnixListener).SetUnlinkOnClose(false)
		return l.Close()
	}},
}
