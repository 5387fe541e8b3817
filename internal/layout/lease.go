package layout

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
// lap says Leased (a reader has it and has not acknowledged it), Done
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

// Lap returns the lap field of item n of a ring of length slots: 1 for
// the first pass, and never 0, so that a zero word (a new file) is no
// item's.
func Lap(n, length uint64) uint64 { return (n/length)%lapMod + 1 }

// prevLap returns the lap field of the item that held item n's slot
// before it (0 for the first pass).
func prevLap(n, length uint64) uint64 {
	if n < length {
		return 0
	}
	return Lap(n-length, length)
}

// StateOf returns the word of kind for item n (of a ring of length slots),
// held by token, taken deliveries times (saturating at 255).
func StateOf(kind uint64, n, length uint64, token uint16, deliveries int) State {
	d := uint64(min(max(deliveries, 0), maxCount))
	return State(Lap(n, length)<<lapShift | d<<countShift | uint64(token)<<tokenShift | kind)
}

// Untaken returns the word of item n's slot before anyone took item n:
// the previous item's Done, or zero on the first pass.
func Untaken(n, length uint64) State {
	if n < length {
		return 0
	}
	return State(prevLap(n, length)<<lapShift | Done)
}

// Of reports whether s is about item n.
func (s State) Of(n, length uint64) bool { return uint64(s)>>lapShift == Lap(n, length) }

// Kind returns the kind of s.
func (s State) Kind() uint64 { return uint64(s) & (1<<kindBits - 1) }

// Token returns the holder's token in s.
func (s State) Token() uint16 { return uint16(uint64(s) >> tokenShift) }

// Deliveries returns how many times the item was taken.
func (s State) Deliveries() int { return int(uint64(s) >> countShift & maxCount) }
