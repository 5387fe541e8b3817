//go:build !linux && !windows

package wait

import "time"

// canWaitAny reports that nothing here sleeps on several words at once:
// neither __ulock_wait (macOS) nor _umtx_op (FreeBSD) can, so SleepAny
// polls.
func canWaitAny(n int) bool { return false }

func waitOnAny(ws []Word, vals []uint32, d time.Duration) bool { return false }
