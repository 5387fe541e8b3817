//go:build !linux

package wait

import "sync/atomic"

// noWaitvAtStart and noWaitv matter only on Linux.
var (
	noWaitvAtStart = true
	noWaitv        atomic.Bool
)
