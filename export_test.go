package scb

import "hash/crc32"

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
	SlotSeq      = slotSeq
	SlotLen      = slotLen
	SlotData     = slotData
	MaxNameLen   = maxNameLen
)

// SlotSize is the size of a slot holding items of up to itemSize bytes.
func SlotSize(itemSize int) int { return int(slotSizeFor(uint64(itemSize))) }

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
