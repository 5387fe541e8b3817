package layout_test

import (
	"math"
	"testing"

	"github.com/stretchr/testify/assert"

	"github.com/sharedcbuff/scb/internal/layout"
)

// lapMod is the number of distinct laps a state word holds (38 bits, 0
// never used).
const lapMod = 1<<38 - 1

// TestLaps: a lap is the pass over the ring, modulo lapMod, plus one, by a
// shift for lengths that are powers of two and a division otherwise, for
// item numbers at the edges of each pass and where laps wrap.
func TestLaps(t *testing.T) {
	for _, length := range []uint64{1, 2, 3, 7, 8, 1000, 1024, 1 << 20, 1<<31 - 1} {
		l := layout.NewLaps(length)
		passes := []uint64{0, 1, 2, lapMod - 1, lapMod, lapMod + 1, 2*lapMod - 1, 2 * lapMod, 2*lapMod + 1, 1 << 38, 1<<38 + 1, math.MaxUint64 / length}
		for _, q := range passes {
			for _, n := range []uint64{q * length, q*length + length - 1} {
				if n/length != q {
					continue // past the top of uint64
				}
				assert.Equal(t, q%lapMod+1, l.Lap(n), "length %d, item %d", length, n)
			}
		}
		assert.Equal(t, (math.MaxUint64/length)%lapMod+1, l.Lap(math.MaxUint64), "length %d, the last item", length)
	}
}

// TestStateWords: a word made for item n says so, with its kind, token and
// deliveries (saturating at 255); it is not about the items a pass before
// or after in the same slot; a slot's word before its item is taken is the
// previous item's Done, or zero on the first pass.
func TestStateWords(t *testing.T) {
	for _, length := range []uint64{1, 3, 16} {
		l := layout.NewLaps(length)
		for _, n := range []uint64{0, length - 1, length, 5*length + 2, lapMod * length} {
			for _, kind := range []uint64{layout.Leased, layout.Done, layout.Returned} {
				s := layout.StateOf(kind, n, l, 65535, 300)
				assert.True(t, s.Of(n, l))
				assert.False(t, s.Of(n+length, l), "the next pass's item in the slot")
				assert.Equal(t, kind, s.Kind())
				assert.Equal(t, uint16(65535), s.Token())
				assert.Equal(t, 255, s.Deliveries())
				assert.Equal(t, 2, layout.StateOf(kind, n, l, 0, 2).Deliveries())
			}
			u := layout.Untaken(n, l)
			assert.False(t, u.Of(n, l), "untaken is no word of item %d", n)
			if n < length {
				assert.Zero(t, uint64(u))
			} else {
				assert.Equal(t, layout.StateOf(layout.Done, n-length, l, 0, 0), u)
			}
		}
	}
}

// TestUnread: a Queue buffer's unread items are the write cursor less the
// read cursor, and never more than Length, whatever torn pair is loaded.
func TestUnread(t *testing.T) {
	for _, tc := range []struct {
		name         string
		rcur, wcur   uint64
		length, want uint64
	}{
		{"empty", 5, 5, 8, 0},
		{"some", 5, 8, 8, 3},
		{"full", 5, 13, 8, 8},
		{"more than Length", 5, 20, 8, 8},
		{"read past written", 9, 5, 8, 8},
	} {
		t.Run(tc.name, func(t *testing.T) {
			r, w := tc.rcur, tc.wcur
			ring := layout.Ring{RCur: &r, WCur: &w, Length: tc.length}
			assert.Equal(t, int(tc.want), ring.Unread())
		})
	}
}
