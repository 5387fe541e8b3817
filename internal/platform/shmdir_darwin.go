//go:build darwin

package platform

// The default directory on macOS: /private/tmp (what /tmp links to), the
// one directory that every process of every user and login session sees
// under the same name. os.TempDir() there is $TMPDIR, a directory of each
// user's own under /var/folders (and a launchd service may have yet
// another), so a service and a terminal, or two users, would not find each
// other's buffers.
//
// /private/tmp is world-writable and sticky, like Linux's /dev/shm, so the
// same rules apply: CheckOwner refuses a buffer file of another user there
// unless Options.AllowOtherOwner is set (whoever can plant a file in it
// controls what is in it), and a buffer shared between users needs
// Options.Perm to let them open it. Like /dev/shm, it is emptied at boot;
// unlike it, it is on disk (macOS has no tmpfs), and the system's daily
// periodic(8) job deletes files there that have not been accessed for three
// days, which to an open buffer looks like Remove.
//
// /Users/Shared is shared too (also world-writable and sticky, so no
// safer), but it is ordinary persistent storage: buffers of crashed
// programs would stay there for good, and backups would copy them. It is
// not taken. Sandboxed apps can use neither and should set SCB_DIR (or
// Options.Dir) to an app group container.

// ShmDir returns /private/tmp if it is a directory this process can write.
func ShmDir() string { return writableDir("/private/tmp") }
