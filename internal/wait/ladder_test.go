package wait

// White-box test of the Yielder's back-off: a slow yield (another thread
// ran) stops yielding for minBusy, doubling while yields stay slow, and
// fast yields shorten the period again.

import (
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

func TestYieldBacksOffWhenCoresAreBusy(t *testing.T) {
	defer func(f func()) { yieldNow = f }(yieldNow)
	defer func(f func() int64) { clock = f }(clock)
	// A clock of the test's: a fast yield takes no time, a slow one twice
	// slowYield, whatever the machine does meanwhile (under emulation a
	// real clock once made a fast yield slow).
	var t0 int64 = 1
	clock = func() int64 { return t0 }
	yields := 0
	slow := func() { yields++; t0 += 2 * slowYield }
	fast := func() { yields++ }
	var h Yielder

	yieldNow = fast
	require.True(t, h.Yield(), "a fast yield: keep yielding")
	assert.Zero(t, h.busyFor.Load())

	yieldNow = slow
	require.False(t, h.Yield(), "a slow yield: stop yielding")
	assert.Equal(t, 2, yields)
	assert.Equal(t, minBusy, h.busyFor.Load())
	require.False(t, h.Yield(), "while busy, no yield at all")
	assert.Equal(t, 2, yields)

	h.busyUntil.Store(0) // the period is over
	require.False(t, h.Yield(), "still slow")
	assert.Equal(t, 3, yields)
	assert.Equal(t, 2*minBusy, h.busyFor.Load(), "the period doubles")
	for range 10 {
		h.busyUntil.Store(0)
		h.Yield()
	}
	assert.Equal(t, maxBusy, h.busyFor.Load(), "up to maxBusy")

	yieldNow = fast
	h.busyUntil.Store(0)
	require.True(t, h.Yield(), "the cores calmed down")
	assert.Equal(t, maxBusy-maxBusy/8, h.busyFor.Load(), "a fast yield shortens the next period")
}

// TestLadderStages climbs ladders whose condition becomes true at a
// chosen poll, on a clock of the test's that moves a nanosecond per look,
// and checks the stage each climb reports.
func TestLadderStages(t *testing.T) {
	defer func(f func()) { yieldNow = f }(yieldNow)
	defer func(f func() int64) { clock = f }(clock)
	var now int64 = 1
	looks := 0
	clock = func() int64 { looks++; now++; return now }
	yieldNow = func() {}
	tests := []struct {
		name  string
		l     Ladder
		ready int // the poll at which the condition becomes true (0: never)
		want  Stage
		polls int // polls made
	}{
		{"first poll", Ladder{Spins: 10, Yields: 3}, 1, Spun, 1},
		{"last spin", Ladder{Spins: 10, Yields: 3}, 10, Spun, 10},
		{"after the spins, no timed stage", Ladder{Spins: 10, Yields: 3}, 11, Yielded, 11},
		{"in the timed stage", Ladder{Spins: 10, For: 100, Yields: 3}, 11, Timed, 11},
		// The timed stage looks at the clock every forCheck polls: on
		// this clock 100 ns pass after 100 looks.
		{"late in the timed stage", Ladder{Spins: 10, For: 100, Yields: 3}, 10 + 99*forCheck, Timed, 10 + 99*forCheck},
		{"after the timed stage", Ladder{Spins: 10, For: 100, Yields: 3}, 10 + 100*forCheck + 1, Yielded, 10 + 100*forCheck + 1},
		{"last yield", Ladder{Spins: 10, Yields: 3}, 13, Yielded, 13},
		{"never", Ladder{Spins: 10, For: 100, Yields: 3}, 0, Missed, 10 + 100*forCheck + 3},
		{"no spins", Ladder{Yields: 3}, 1, Yielded, 1},
		{"nothing at all", Ladder{}, 1, Missed, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			polls := 0
			ready := func() bool { polls++; return polls == tt.ready }
			var y Yielder
			assert.Equal(t, tt.want, tt.l.Climb(&y, ready))
			assert.Equal(t, tt.polls, polls)
		})
	}
	t.Run("oversubscribed", func(t *testing.T) {
		var y Yielder
		y.busyUntil.Store(now + int64(minBusy))
		polls := 0
		st := Ladder{Spins: 10, Yields: 3}.Climb(&y, func() bool { polls++; return false })
		assert.Equal(t, Missed, st)
		assert.Equal(t, 11, polls, "no yield while busy: one poll after the spins, then sleep")
	})
	t.Run("no clock without a timed stage", func(t *testing.T) {
		looks = 0
		var y Yielder
		Ladder{Spins: 10}.Climb(&y, func() bool { return false })
		assert.Zero(t, looks)
	})
}
