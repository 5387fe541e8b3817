package scb

import (
	"hash/crc32"
	"time"
)

// Layout facts for the white-box corruption and fuzz tests in package
// scb_test: they damage chosen bytes of real files, and take the offsets
// from header.go rather than repeating them.

const (
	HeaderSize   = headerSize
	OffMagic     = offMagic
	OffVersion   = offVersion
	OffByteOrder = offByteOrder
	OffLength    = offLength
	OffItemSize  = offItemSize
	OffSlotSize  = offSlotSize
	OffStrategy  = offStrategy
	OffMode      = offMode
	OffSlots     = offSlots
	OffFileSize  = offFileSize
	OffChecksum  = offChecksum
	OffHead      = offHead
	OffTail      = offTail
	HeaderUsed   = headerUsed
	SlotSeq      = broadcastSeq // Broadcast slots only
	MaxNameLen   = maxNameLen
)

// SlotSize is the size of a slot of mode m holding items of up to itemSize
// bytes.
func SlotSize(itemSize int, m Mode) int { return int(slotSizeFor(uint64(itemSize), m)) }

// SlotLen is the offset of the item length in a slot of mode m.
func SlotLen(m Mode) int64 {
	if m == Broadcast {
		return broadcastLen
	}
	return queueLen
}

// SlotData is the offset of the item bytes in a slot of mode m for items
// of up to itemSize bytes.
func SlotData(itemSize int, m Mode) int64 { return int64(dataOffset(uint64(itemSize), m)) }

// Reseal recomputes the header checksum of b (at least fixedSize bytes)
// after a test changed a fixed field on purpose.
func Reseal(b []byte) {
	sum := crc32Castagnoli(b[:offChecksum])
	b[offChecksum] = byte(sum)
	b[offChecksum+1] = byte(sum >> 8)
	b[offChecksum+2] = byte(sum >> 16)
	b[offChecksum+3] = byte(sum >> 24)
}

func crc32Castagnoli(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// SetSleepLimits makes every sleep of a blocking call waiting for items or
// room last until it is woken, up to d: with d long, a lost wake-up is a
// hang instead of a delay. It returns a function that restores the limits.
func SetSleepLimits(d time.Duration) (restore func()) {
	s, r := sleepLimit, roomLimit
	sleepLimit, roomLimit = d, d
	return func() { sleepLimit, roomLimit = s, r }
}

// Futexes reports whether blocking calls sleep until woken on this
// platform (else they poll, and there is no wake-up to lose).
const Futexes = futexes

// LockWords reports whether Flock takes lock words on this platform (else
// it locks the buffer file for every operation).
const LockWords = holderLocks

// SetAwaitHook makes every blocking call of this process run f each time
// it begins to wait, after an attempt found no item (or no room), until
// restore is called.
func SetAwaitHook(f func()) (restore func()) {
	awaitHook = f
	return func() { awaitHook = nil }
}

// SetLockStep makes every Flock operation of this process call f at each
// step where a holder killed must leave the buffer usable (strategy_flock.go's
// lockStep), until restore is called.
func SetLockStep(f func(step string)) (restore func()) {
	lockStep = f
	return func() { lockStep = nil }
}
