package layout

import "math/bits"

// A Queue buffer's items are taken, one slot at a time, by marking the
// slot's state word (the states array after the header page, one uint64
// per slot). A taker marks a slot before it moves the take cursor past
// it, so that whatever it dies doing, the word says who has the item:
//
//	bits 26-63  lap: which pass over the ring the word is about (Lap)
//	bits 18-25  deliveries: how many times the item was taken, at most 255
//	bits  2-17  the holder's token (1-65535), 0 for none
//	bits  0-1   the kind: Leased, Done or Returned
//
// A word whose lap is not item n's is about the item the slot held before:
// item n has not been taken yet (Untaken is that word). A word of item n's
// lap says Leased (a reader has it and has not acknowledged it; behind the
// read cursor, it was acknowledged at the front and means nothing), Done
// (consumed: the read cursor may pass it) or Returned (given back, or
// taken back from a holder that died: the next taker gets it first).
// Every change is a compare-and-swap from the word the changer expects,
// lap included, so that a reader that slept through a pass over the ring
// cannot mistake one item for another.

// State is a slot's state word.
type State uint64

// The kinds of state.
const (
	Leased   = 1
	Done     = 2
	Returned = 3
)

const (
	kindBits   = 2
	tokenBits  = 16
	countBits  = 8
	tokenShift = kindBits
	countShift = tokenShift + tokenBits
	lapShift   = countShift + countBits // 26
	lapMod     = 1<<(64-lapShift) - 1   // laps wrap at this, skipping 0
	maxCount   = 1<<countBits - 1
)

// MaxToken is the largest holder token a state word holds.
const MaxToken = 1<<tokenBits - 1

// Laps numbers the passes over a ring of one length. A taker works out an
// item's lap several times per item, so a ring whose length is a power of
// two shifts instead of dividing (a 64-bit division costs tens of cycles).
type Laps struct {
	length uint64
	shift  uint8 // log2(length) if length is a power of two, else divide
	pow2   bool
}

// NewLaps returns the laps of a ring of length slots (length > 0).
func NewLaps(length uint64) Laps {
	l := Laps{length: length}
	if length&(length-1) == 0 {
		l.pow2, l.shift = true, uint8(bits.TrailingZeros64(length))
	}
	return l
}

// Lap returns the lap field of item n: 1 for the first pass, and never 0,
// so that a zero word (a new file) is no item's.
func (l Laps) Lap(n uint64) uint64 {
	q := n >> l.shift
	if !l.pow2 {
		q = n / l.length
	}
	// q % lapMod without dividing: 2^38 is 1 modulo 2^38-1, so q is
	// q&lapMod + q>>38 modulo lapMod, a sum below 2*lapMod.
	m := q&lapMod + q>>(64-lapShift)
	if m >= lapMod {
		m -= lapMod
	}
	return m + 1
}

// StateOf returns the word of kind for item n (of a ring whose laps are
// l), held by token, taken deliveries times (saturating at 255).
func StateOf(kind uint64, n uint64, l Laps, token uint16, deliveries int) State {
	d := uint64(min(max(deliveries, 0), maxCount))
	return State(l.Lap(n)<<lapShift | d<<countShift | uint64(token)<<tokenShift | kind)
}

// Untaken returns the word of item n's slot before anyone took item n:
// the previous item's Done, or zero on the first pass.
func Untaken(n uint64, l Laps) State {
	if n < l.length {
		return 0
	}
	return State(l.Lap(n-l.length)<<lapShift | Done)
}

// Of reports whether s is about item n.
func (s State) Of(n uint64, l Laps) bool { return uint64(s)>>lapShift == l.Lap(n) }

// Kind returns the kind of s.
func (s State) Kind() uint64 { return uint64(s) & (1<<kindBits - 1) }

// Token returns the holder's token in s.
func (s State) Token() uint16 { return uint16(uint64(s) >> tokenShift) }

// Deliveries returns how many times the item was taken.
func (s State) Deliveries() int { return int(uint64(s) >> countShift & maxCount) }
