package scb

import (
	"encoding/binary"
	"sync/atomic"
	"unsafe"
)

// itemBytes returns the first n bytes of slot s's item area.
func itemBytes(s unsafe.Pointer, n int) []byte {
	return unsafe.Slice((*byte)(unsafe.Add(s, slotData)), n)
}

// itemLen returns the length recorded in slot s.
func itemLen(s unsafe.Pointer) int {
	return int(*(*uint32)(unsafe.Add(s, slotLen)))
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

// unread returns the items in the ring: unread ones in Queue mode, held
// ones (at most Length) in Broadcast mode.
func (b *buffer) unread() int {
	if b.broadcast {
		return int(min(atomic.LoadUint64(b.head), b.length))
	}
	t := atomic.LoadUint64(b.tail) // first: the head only grows past it
	h := atomic.LoadUint64(b.head)
	return int(min(h-t, b.length))
}
