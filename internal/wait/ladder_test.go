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
