package wait

// White-box test of SleepAny: a Wake on any one of the words ends the
// sleep, where the platform sleeps on several words, and the loop of a
// caller ends soon where it polls.

import (
	"runtime"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// sleepAnyUntilWoken sleeps on 4 words until another goroutine makes
// word k's condition true and wakes it, and returns how many sleeps that
// took and how long.
func sleepAnyUntilWoken(t *testing.T, k int) (int, time.Duration) {
	var seqs, waiters [4]uint32
	words := make([]Word, 4)
	for i := range words {
		words[i] = Word{Seq: &seqs[i], Waiters: &waiters[i]}
	}
	var cond atomic.Bool
	go func() {
		time.Sleep(20 * time.Millisecond)
		cond.Store(true)
		words[k].Wake()
	}()
	var s State
	vals := make([]uint32, len(words))
	start := time.Now()
	for !cond.Load() {
		SleepAny(words, vals, &s, cond.Load, 10*time.Second)
		require.Less(t, time.Since(start), 5*time.Second, "the wake-up of word %d was lost", k)
	}
	return s.sleeps, time.Since(start)
}

func TestSleepAnyWakes(t *testing.T) {
	for k := range 4 {
		sleeps, took := sleepAnyUntilWoken(t, k)
		if runtime.GOOS == "linux" && !noWaitvAtStart || runtime.GOOS == "windows" {
			// One sleep, ended by the Wake (or, rarely, a spurious
			// return and a second one), not by the 10 s limit.
			assert.LessOrEqual(t, sleeps, 3, "word %d: woken after %v", k, took)
		}
	}
}

// TestSleepAnyPolls is TestSleepAnyWakes where futex_waitv is missing (a
// kernel older than 5.16, or an emulator): SleepAny polls, and the caller's
// loop still ends soon after the condition holds.
func TestSleepAnyPolls(t *testing.T) {
	defer func(v bool) { noWaitv.Store(v) }(noWaitv.Load())
	noWaitv.Store(true)
	for k := range 4 {
		_, took := sleepAnyUntilWoken(t, k)
		assert.Less(t, took, time.Second)
	}
}
