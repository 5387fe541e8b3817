package wait

// White-box test of the registrations on a word: the two kinds counted
// side by side, and a half that carries over.

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
)

// TestRegisterCarry: a registration never leaves its own half of the
// count at zero, even where registrations left behind fill the half, so a
// waker that looks at the halves (Eager) always sees a sleeper of each
// kind that sleeps.
func TestRegisterCarry(t *testing.T) {
	cases := []struct {
		before uint32
		as     uint32
		eager  bool // Eager after the registration
	}{
		{0, One, true},
		{0, Share, false},
		{Share, One, true},
		{0xffff, One, true},           // the One half carries into Share
		{Share | 0xffff, One, true},   // and with a Share registered
		{0xffff << 16, Share, false},  // the Share half wraps the word
		{0xffff<<16 | 3, Share, true}, // a wrap keeps the Ones
		{0xffffffff, One, true},       // both halves full
		{0xffffffff, Share, true},     // the Ones stay
		{0xfffe << 16, Share, false},  // no carry: counted once
		{0xfffe, One, true},           // no carry: counted once
	}
	for _, c := range cases {
		t.Run(fmt.Sprintf("%#x+%#x", c.before, c.as), func(t *testing.T) {
			waiters := c.before
			register(&waiters, c.as)
			assert.Equal(t, c.eager, Eager(waiters), "Eager(%#x)", waiters)
			if c.as == One {
				assert.NotZero(t, waiters&(Share-1), "the One half reads zero: %#x", waiters)
			} else {
				assert.NotZero(t, waiters>>16, "the Share half reads zero: %#x", waiters)
			}
			if c.before&(Share-1) != Share-1 && c.as == One || c.before>>16 != 0xffff && c.as == Share {
				assert.Equal(t, c.before+c.as, waiters, "a registration without a carry is counted once")
			}
		})
	}
}

// TestSleepRegisters: Sleep registers One and SleepForShare Share, before
// they look at the condition (a sleeper that finds it true at once leaves
// its registration, for the next waker to claim).
func TestSleepRegisters(t *testing.T) {
	var seq, waiters uint32
	w := Word{Seq: &seq, Waiters: &waiters}
	var s State
	ready := func() bool { return true }
	w.Sleep(&s, ready, 0)
	w.SleepForShare(&s, ready, 0)
	w.SleepForShare(&s, ready, 0)
	if !Futexes {
		assert.Zero(t, waiters, "where waits poll nobody registers")
		return
	}
	assert.Equal(t, 2*Share+One, waiters)
	assert.True(t, Eager(waiters))
	w.Wake()
	assert.Zero(t, waiters, "a wake claims both kinds")
	assert.Equal(t, uint32(1), seq)
}
