package scb

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// ring is the geometry of a mapped buffer and the addresses of its shared
// words. Every Writer and Reader keeps its own copy, so that the hot path
// reaches what it needs without following a pointer.
type ring struct {
	base        unsafe.Pointer // the mapping
	wcur        *uint64        // write cursor: items ever written
	rcur        *uint64        // Queue read cursor: items ever consumed
	dataSeq     *uint32
	dataWaiters *uint32
	roomSeq     *uint32
	roomWaiters *uint32
	lockSeq     *uint32 // Flock only
	lockWaiters *uint32
	end         *uint64 // 0 while the stream is open, items+1 once it ended
	writerPid   *uint32
	readerPid   *uint32

	length    uint64
	mask      uint64 // length-1 when length is a power of two, else 0
	slotSize  uintptr
	lenOff    uintptr // offset of the item length in a slot
	dataOff   uintptr // offset of the item bytes in a slot
	itemSize  int
	broadcast bool
	magic     uint64 // the header's first word at open, for sound()
}

func newRing(base unsafe.Pointer, g geometry) ring {
	at32 := func(off uintptr) *uint32 { return (*uint32)(unsafe.Add(base, off)) }
	at64 := func(off uintptr) *uint64 { return (*uint64)(unsafe.Add(base, off)) }
	r := ring{
		base:        base,
		wcur:        at64(offHead),
		rcur:        at64(offTail),
		dataSeq:     at32(offDataSeq),
		dataWaiters: at32(offDataWaiters),
		roomSeq:     at32(offRoomSeq),
		roomWaiters: at32(offRoomWaiters),
		lockSeq:     at32(offLockSeq),
		lockWaiters: at32(offLockWaiters),
		end:         at64(offEnd),
		writerPid:   at32(offWriterPid),
		readerPid:   at32(offReaderPid),
		length:      g.length,
		slotSize:    uintptr(g.slotSize),
		lenOff:      queueLen,
		dataOff:     uintptr(dataOffset(uint64(g.itemSize), g.mode)),
		itemSize:    int(g.itemSize),
		broadcast:   g.mode == Broadcast,
	}
	if r.broadcast {
		r.lenOff = broadcastLen
	}
	r.magic = atomic.LoadUint64((*uint64)(base))
	if g.length&(g.length-1) == 0 {
		r.mask = g.length - 1
	}
	return r
}

// slot returns the address of the slot that holds item n: a mask when the
// length is a power of two, a division otherwise.
func (g *ring) slot(n uint64) unsafe.Pointer {
	return unsafe.Add(g.base, headerSize+uintptr(g.index(n))*g.slotSize)
}

// index returns the index of the slot that holds item n.
func (g *ring) index(n uint64) uint64 {
	if g.mask != 0 {
		return n & g.mask
	}
	return n % g.length
}

// sound reports whether the header's first word is still what it was at
// open: a file zeroed or overwritten under the handle is not.
func (g *ring) sound() bool {
	return atomic.LoadUint64((*uint64)(g.base)) == g.magic
}

// wentBack reports the cursor named ("write" or "read") found at now after
// the handle saw it at was: writers and readers only move their cursors
// forward, so that is damage.
func wentBack(cursor string, was, now uint64) error {
	return corruptf("the %s cursor went back from %d to %d: the file was truncated or overwritten", cursor, was, now)
}

// raceOrDamage classifies a cursor that was not where the handle left it
// when it came to publish it (cursor names it, was is the handle's copy,
// now the shared value): damage if the header lost its magic or the cursor
// is back at 0 after the handle saw it past 0, else race, misuse by two
// goroutines. Only 0 is sure: under misuse the handle's own copies are torn
// between goroutines, so a cursor below them proves nothing.
func (g *ring) raceOrDamage(cursor string, was, now uint64, race error) error {
	switch {
	case !g.sound():
		return errOverwritten
	case now == 0 && was > 0:
		return wentBack(cursor, was, 0)
	}
	return race
}

// seqOf returns the sequence word of the Broadcast slot s.
func seqOf(s unsafe.Pointer) *uint64 { return (*uint64)(s) }

// itemLen returns the length recorded in slot s. The caller checks it
// against itemSize, as a uint32, before using it: converted to int first,
// a damaged length could turn negative on a 32-bit platform.
func (g *ring) itemLen(s unsafe.Pointer) uint32 {
	return *(*uint32)(unsafe.Add(s, g.lenOff))
}

func (g *ring) setItemLen(s unsafe.Pointer, n int) {
	*(*uint32)(unsafe.Add(s, g.lenOff)) = uint32(n)
}

// item returns the first n bytes of slot s's item area; n <= itemSize.
func (g *ring) item(s unsafe.Pointer, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(s, g.dataOff)), n)
}

// unread returns the items in the ring: unread ones in Queue mode, held
// ones (at most Length) in Broadcast mode.
func (g *ring) unread() int {
	if g.broadcast {
		return int(min(atomic.LoadUint64(g.wcur), g.length))
	}
	t := atomic.LoadUint64(g.rcur) // first: the write cursor only grows past it
	h := atomic.LoadUint64(g.wcur)
	return int(min(h-t, g.length))
}

// putUint stores v big-endian in all of d, which is at least as long as v
// needs: leading bytes beyond 8 are zero.
func putUint(d []byte, v uint64) {
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

// getUint decodes a big-endian item. It reports false for an item longer
// than 8 bytes with a non-zero byte before the last 8.
func getUint(d []byte) (uint64, bool) {
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
