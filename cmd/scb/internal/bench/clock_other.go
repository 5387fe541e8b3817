//go:build !windows

package bench

import "time"

// instant is a reading of the clock.
type instant = time.Time

func now() instant { return time.Now() }

// since returns the time elapsed since t.
func since(t instant) time.Duration { return time.Since(t) }
