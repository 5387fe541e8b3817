package layout

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// Ring is the view of one mapped buffer file: its geometry and the
// addresses of its shared words and slots. Each handle keeps its own copy,
// so that the hot path reaches what it needs without following a pointer.
// The words are read and written with sync/atomic by the engine; Ring only
// says where they are.
type Ring struct {
	Base        unsafe.Pointer // the mapping
	Slots       unsafe.Pointer // slot 0
	States      unsafe.Pointer // the state word of slot 0 (Queue mode; lease.go)
	TCur        *uint64        // Queue take cursor (lease.go)
	Returns     *uint32        // Queue: items given back or taken back from dead holders
	WCur        *uint64        // write cursor: items ever written
	RCur        *uint64        // Queue read cursor: items ever consumed
	DataSeq     *uint32        // wake-up word of readers waiting for items
	DataWaiters *uint32
	RoomSeq     *uint32 // wake-up word of Queue writers waiting for room
	RoomWaiters *uint32
	LockSeq     *uint32 // wake-up word of Flock lockers, where files lock
	LockWaiters *uint32
	End         *uint64 // 0 while the stream is open, items+1 once it ended
	Run         *uint32 // the stream's run, bumped by a writer that opens an ended stream again

	Length   uint64
	Mask     uint64 // Length-1 when Length is a power of two, else 0
	Laps     Laps   // item numbers to laps, for state words
	SlotSize uintptr
	LenOff   uintptr // offset of the item length in a slot
	DataOff  uintptr // offset of the item bytes in a slot
	ItemSize int
	Fixed    bool   // SlotsFixed: every item is ItemSize bytes, slots record no length
	Shared   bool   // the Flock strategy: several writers share the write cursor
	magic    uint64 // the header's first word at open, for Sound
}

// NewRing returns the view of the file mapped at base, whose header g
// describes.
func NewRing(base unsafe.Pointer, g Geometry) Ring {
	r := Ring{
		Base:        base,
		Slots:       unsafe.Add(base, g.SlotsOffset()),
		States:      unsafe.Add(base, HeaderSize),
		TCur:        At64(base, OffTake),
		Returns:     At32(base, OffReturns),
		WCur:        At64(base, OffHead),
		RCur:        At64(base, OffTail),
		DataSeq:     At32(base, OffDataSeq),
		DataWaiters: At32(base, OffDataWaiters),
		RoomSeq:     At32(base, OffRoomSeq),
		RoomWaiters: At32(base, OffRoomWaiters),
		LockSeq:     At32(base, OffLockSeq),
		LockWaiters: At32(base, OffLockWaiters),
		End:         At64(base, OffEnd),
		Run:         At32(base, OffRun),
		Length:      g.Length,
		Laps:        NewLaps(g.Length),
		SlotSize:    uintptr(g.SlotSize),
		LenOff:      uintptr(LenOffset(g.Broadcast())),
		DataOff:     uintptr(DataOffset(uint64(g.ItemSize), g.Broadcast(), g.Fixed)),
		ItemSize:    int(g.ItemSize),
		Fixed:       g.Fixed,
		Shared:      g.Strategy == StrategyFlock,
	}
	r.magic = atomic.LoadUint64((*uint64)(base))
	if g.Length&(g.Length-1) == 0 {
		r.Mask = g.Length - 1
	}
	return r
}

// At32 returns the 32-bit word at offset off of the mapping at base.
func At32(base unsafe.Pointer, off uintptr) *uint32 { return (*uint32)(unsafe.Add(base, off)) }

// At64 returns the 64-bit word at offset off of the mapping at base.
func At64(base unsafe.Pointer, off uintptr) *uint64 { return (*uint64)(unsafe.Add(base, off)) }

// Slot returns the address of the slot that holds item n: a mask when the
// length is a power of two, a division otherwise.
func (r *Ring) Slot(n uint64) unsafe.Pointer {
	return unsafe.Add(r.Slots, uintptr(r.Index(n))*r.SlotSize)
}

// State returns the state word of the slot that holds item n (Queue mode).
func (r *Ring) State(n uint64) *uint64 {
	return (*uint64)(unsafe.Add(r.States, uintptr(r.Index(n))*8))
}

// Index returns the index of the slot that holds item n.
func (r *Ring) Index(n uint64) uint64 {
	if r.Mask != 0 {
		return n & r.Mask
	}
	return n % r.Length
}

// Sound reports whether the header's first word is still what it was at
// open: a file zeroed or overwritten under the handle is not.
func (r *Ring) Sound() bool {
	return atomic.LoadUint64((*uint64)(r.Base)) == r.magic
}

// Unread returns the unread items of a Queue buffer: the write cursor less
// the read cursor, at most Length (a torn pair of loads is not trusted).
func (r *Ring) Unread() int {
	t := atomic.LoadUint64(r.RCur) // first: the write cursor only grows past it
	h := atomic.LoadUint64(r.WCur)
	return int(min(h-t, r.Length))
}

// Ready returns how many items of a Queue buffer are ready to take: the
// write cursor less the read cursor or, past it, the take cursor (items
// under a lease are not ready), at most Length.
func (r *Ring) Ready() uint64 {
	t := max(atomic.LoadUint64(r.RCur), atomic.LoadUint64(r.TCur)) // first: the write cursor only grows past them
	h := atomic.LoadUint64(r.WCur)
	if h < t {
		return 0
	}
	return min(h-t, r.Length)
}

// ItemLen returns the length recorded in slot s, or ItemSize in a buffer
// of fixed-size items. The caller checks it against ItemSize, as a
// uint32, before using it: converted to int first, a damaged length could
// turn negative on a 32-bit platform.
func (r *Ring) ItemLen(s unsafe.Pointer) uint32 {
	if r.Fixed {
		return uint32(r.ItemSize)
	}
	return *(*uint32)(unsafe.Add(s, r.LenOff))
}

// SetItemLen records the length of the item in slot s; in a buffer of
// fixed-size items n is ItemSize, and nothing is recorded.
func (r *Ring) SetItemLen(s unsafe.Pointer, n int) {
	if !r.Fixed {
		*(*uint32)(unsafe.Add(s, r.LenOff)) = uint32(n)
	}
}

// Fits reports whether an item of n bytes can be written: at most
// ItemSize bytes, exactly ItemSize with fixed-size items.
func (r *Ring) Fits(n int) bool {
	return n == r.ItemSize || n < r.ItemSize && !r.Fixed
}

// Item returns the first n bytes of slot s's item area; n <= ItemSize.
func (r *Ring) Item(s unsafe.Pointer, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(s, r.DataOff)), n)
}

// Seq returns the sequence word of the Broadcast slot s.
func Seq(s unsafe.Pointer) *uint64 { return (*uint64)(unsafe.Add(s, BroadcastSeq)) }

// PutUint stores v big-endian in all of d, which is at least as long as v
// needs: leading bytes beyond 8 are zero.
func PutUint(d []byte, v uint64) {
	if len(d) == 8 {
		binary.BigEndian.PutUint64(d, v)
		return
	}
	if len(d) > 8 {
		clear(d[:len(d)-8])
		binary.BigEndian.PutUint64(d[len(d)-8:], v)
		return
	}
	for i := len(d) - 1; i >= 0; i-- {
		d[i] = byte(v)
		v >>= 8
	}
}

// GetUint decodes a big-endian item. It reports false for an item longer
// than 8 bytes with a non-zero byte before the last 8.
func GetUint(d []byte) (uint64, bool) {
	if len(d) == 8 {
		return binary.BigEndian.Uint64(d), true
	}
	if len(d) > 8 {
		for _, c := range d[:len(d)-8] {
			if c != 0 {
				return 0, false
			}
		}
		return binary.BigEndian.Uint64(d[len(d)-8:]), true
	}
	var v uint64
	for _, c := range d {
		v = v<<8 | uint64(c)
	}
	return v, true
}

// FitsUint reports whether v fits in an integer item of itemSize bytes.
func FitsUint(v uint64, itemSize int) bool {
	return itemSize >= 8 || v>>(8*uint(itemSize)) == 0
}
