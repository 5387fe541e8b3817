package scb

// Naming: the name rules, the default directory, and the names of a buffer's
// file, its role lock files and the temporary files Create builds it under.

import (
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"strings"

	"github.com/sharedcbuff/scb/internal/platform"
)

// File names. A buffer called jobs is the file jobs.scb; the Atomic
// strategy's role locks are jobs.scb.<id>.wlock and .rlock beside it;
// Create builds the file as .jobs.scb.<random>.tmp (a name no buffer can
// have) and links it into place; Remove renames it to .jobs.scb.<random>.rm
// before it deletes it.
const (
	fileExt       = ".scb"
	writerLockExt = ".wlock"
	readerLockExt = ".rlock"
	tempExt       = ".tmp"
	removedExt    = ".rm"
	tempRandLen   = 12 // hex digits of randomness in a temporary name

	maxNameLen = 200 // bytes in a buffer's name, at most
)

// DefaultDir returns the directory buffers live in when Options.Dir is
// empty: the environment variable SCB_DIR if set; else /dev/shm on Linux,
// or /private/tmp on macOS (shared by every user, login session and
// launchd service), if it is a writable directory; else os.TempDir().
func DefaultDir() string {
	if d := os.Getenv("SCB_DIR"); d != "" {
		return d
	}
	if d := platform.ShmDir(); d != "" {
		return d
	}
	return os.TempDir()
}

// checkName enforces the name rules: 1 to 200 bytes of A-Z a-z 0-9 . _ -,
// not starting with '.'. Such a name cannot leave its directory or collide
// with a temporary or lock file.
func checkName(name string) error {
	if name == "" {
		return fmt.Errorf("%w: empty", ErrInvalidName)
	}
	if len(name) > maxNameLen {
		return fmt.Errorf("%w: %d bytes, at most %d", ErrInvalidName, len(name), maxNameLen)
	}
	if name[0] == '.' {
		return fmt.Errorf("%w: starts with '.'", ErrInvalidName)
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '.' || c == '_' || c == '-') {
			return fmt.Errorf("%w: byte %#02x at %d (allowed: A-Z a-z 0-9 . _ -)", ErrInvalidName, c, i)
		}
	}
	return nil
}

// notExist is ErrNotExist for the buffer name in dir, with a hint when the
// name ends in the file's extension: names carry none (jobs, not
// jobs.scb), and jobs.scb is the buffer file jobs.scb.scb.
func notExist(name, dir string) error {
	if base, ok := strings.CutSuffix(name, fileExt); ok && base != "" {
		return fmt.Errorf("%w in %s (names carry no %q: the buffer in %s.scb is called %q)", ErrNotExist, dir, fileExt, base, base)
	}
	return fmt.Errorf("%w in %s", ErrNotExist, dir)
}

// lockName returns the name of a role lock file of the buffer with header
// id at path: jobs.scb.<16 hex digits>.wlock. A buffer created again under
// the same name has another id, so it never shares a role lock with one
// that was removed while handles still held its roles.
func lockName(path string, id uint64, ext string) string {
	return fmt.Sprintf("%s.%016x%s", path, id, ext)
}

// lockOf reports whether base is the name of a role lock file of some
// buffer called name, and returns the id in it.
func lockOf(base, name string) (uint64, bool) {
	rest, ok := strings.CutPrefix(base, name+fileExt+".")
	if !ok {
		return 0, false
	}
	id, ok := strings.CutSuffix(rest, writerLockExt)
	if !ok {
		id, ok = strings.CutSuffix(rest, readerLockExt)
	}
	if !ok || len(id) != 16 {
		return 0, false
	}
	v, err := strconv.ParseUint(id, 16, 64)
	return v, err == nil && fmt.Sprintf("%016x", v) == id // as lockName writes it
}

// tempName returns a fresh temporary name with extension ext (tempExt or
// removedExt) for buffer name in dir: .name.scb.<12 hex digits><ext>.
func tempName(dir, name, ext string) string {
	var rnd [tempRandLen / 2]byte
	_, _ = rand.Read(rnd[:])
	return filepath.Join(dir, "."+name+fileExt+"."+hex.EncodeToString(rnd[:])+ext)
}

// isTempOf reports whether base is a temporary name made by tempName for
// buffer name with extension ext.
func isTempOf(base, name, ext string) bool {
	rest, ok := strings.CutPrefix(base, "."+name+fileExt+".")
	if !ok {
		return false
	}
	rnd, ok := strings.CutSuffix(rest, ext)
	if !ok || len(rnd) != tempRandLen {
		return false
	}
	_, err := hex.DecodeString(rnd)
	return err == nil
}
