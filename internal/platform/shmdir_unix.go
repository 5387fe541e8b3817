//go:build linux || darwin

package platform

// The check the platforms' own default directories (shmdir_linux.go,
// shmdir_darwin.go) must pass.

import (
	"os"

	"golang.org/x/sys/unix"
)

// writableDir returns dir if it is a directory this process can write,
// else "".
func writableDir(dir string) string {
	if fi, err := os.Stat(dir); err != nil || !fi.IsDir() {
		return ""
	}
	if unix.Access(dir, unix.W_OK) != nil {
		return ""
	}
	return dir
}
