package scb

// The buffer file format, all of it: the header page, the slot layout, and
// the encoding of integer items (big-endian, below). It does not depend on
// GOARCH: every offset and size is a constant here, and the one property of
// the machine it records, the byte order, is checked on open. The format
// stays in package scb rather than an internal package because the hot path
// reads these constants and slot offsets inline, and one small file is
// findable enough. ring.go holds the in-memory view of a mapped file.

import (
	"encoding/binary"
	"hash/crc32"
	"math"
	"math/bits"
)

// The file format, version 2. Every offset is a constant that does not
// depend on the architecture.
//
// The file is one header page of headerSize bytes followed by Length slots of
// slotSize bytes. The header's first 128-byte line holds the fixed fields,
// written once by Create and covered by a CRC-32C checksum; the numbers are
// little-endian except the byte-order mark. Each shared cursor then has a
// 128-byte line of its own, so that the writer and the readers never share a
// cache line (128 bytes covers the adjacent-line prefetcher of x86 and the
// 128-byte lines of Apple's arm64 cores). The cursors are updated with
// sync/atomic and are in the machine's own byte order, which the byte-order
// mark records; so are the wake-up words and the slot headers below. A file
// made on a machine with the other byte order is refused.
//
// A slot is a slot header followed by ItemSize bytes of item. Queue slots
// need only the item's length; Broadcast slots also carry a sequence
// number, with which a reader detects that the writer overwrote the item
// while it was reading it. For items of 64 bytes or more the slot header
// takes a whole 64-byte line and slots are a multiple of 64 bytes, so that
// every item starts on a cache line (copying 4 KiB items that straddle
// lines is about a third slower); smaller slots are a multiple of 8:
//
//	Queue:
//	 0 len  uint32  the item's length, at most ItemSize
//	 4 -    uint32  reserved, zero
//	 8 item [ItemSize]byte      (at 64 when ItemSize >= 64)
//
//	Broadcast:
//	 0 seq  uint64  2n+2 once item n is in the slot, 2n+1 while it is written
//	 8 len  uint32  the item's length, at most ItemSize
//	12 -    uint32  reserved, zero
//	16 item [ItemSize]byte      (at 64 when ItemSize >= 64)
//
// An item is opaque bytes, except that Push and Pop store an integer item
// big-endian in all ItemSize bytes, zero-padded in front when ItemSize is
// above 8 (putUint and getUint, in ring.go).
const (
	headerSize = 4096 // the header page; slots start at this offset
	lineSize   = 128  // one cache line pair: cursors never share one

	// Fixed fields (line 0).
	offMagic     = 0  // [8]byte fileMagic
	offVersion   = 8  // uint32 formatVersion
	offByteOrder = 12 // uint32 byteOrderMark in the creator's byte order
	offLength    = 16 // uint64 number of slots
	offItemSize  = 24 // uint32 largest item in bytes
	offSlotSize  = 28 // uint32 bytes per slot
	offStrategy  = 32 // uint8 Strategy
	offMode      = 33 // uint8 Mode
	offSlots     = 40 // uint64 offset of slot 0 (headerSize)
	offFileSize  = 48 // uint64 total file size
	offCreated   = 56 // int64 creation time, Unix nanoseconds
	offID        = 64 // uint64 random, names this buffer's role lock files
	offChecksum  = 72 // uint32 CRC-32C (Castagnoli) of bytes [0, offChecksum)
	fixedSize    = 76 // bytes of line 0 that are defined; the rest is zero

	// Shared cursors, each on its own line.
	offHead = 1 * lineSize // uint64 items ever written: the write cursor
	offTail = 2 * lineSize // uint64 items ever consumed: the Queue read cursor

	// Wake-up words for blocking calls (see wait.go).
	offDataSeq     = 3 * lineSize   // uint32 bumped when items arrive and a reader waits
	offDataWaiters = 3*lineSize + 4 // uint32 readers sleeping on offDataSeq
	offRoomSeq     = 4 * lineSize   // uint32 bumped when room frees up and a writer waits
	offRoomWaiters = 4*lineSize + 4 // uint32 writers sleeping on offRoomSeq
	offLockSeq     = 5 * lineSize   // uint32 Flock where files lock (see strategy_flock.go): bumped on unlock when a locker waits
	offLockWaiters = 5*lineSize + 4 // uint32 Flock where files lock: lockers sleeping on offLockSeq

	// The stream's state and who is attached, rarely written.
	offEnd       = 6 * lineSize    // uint64 0 while the stream is open; n+1 once it ended after item n-1
	offWriterPid = 6*lineSize + 8  // uint32 Atomic: the attached writer's process id, 0 when none
	offReaderPid = 6*lineSize + 12 // uint32 Atomic Queue: the attached reader's process id, 0 when none

	// Flock's lock words (strategy_flock.go, lockword.go), one line per
	// side: the word is 0 while the side is free, else its holder's token
	// (holder slot + 1); lockers sleep on the side's sequence word.
	offWriteLock        = 7 * lineSize   // uint32 the writers' lock
	offWriteLockSeq     = 7*lineSize + 4 // uint32 bumped on unlock when a writer sleeps for the lock
	offWriteLockWaiters = 7*lineSize + 8 // uint32 writers sleeping on offWriteLockSeq
	offReadLock         = 8 * lineSize   // uint32 the Queue readers' lock
	offReadLockSeq      = 8*lineSize + 4 // uint32 bumped on unlock when a reader sleeps for the lock
	offReadLockWaiters  = 8*lineSize + 8 // uint32 readers sleeping on offReadLockSeq
	headerUsed          = 9 * lineSize   // everything past this in the header page is zero

	// Slot layouts.
	queueLen      = 0  // uint32 item length
	queueData     = 8  // item bytes
	broadcastSeq  = 0  // uint64 sequence number
	broadcastLen  = 8  // uint32 item length
	broadcastData = 16 // item bytes

	// formatVersion 2: Flock takes lock words instead of a file lock per
	// operation, which processes of version 1 would not respect.
	formatVersion = 2
	byteOrderMark = 0x01020304

	// Limits. maxItemSize keeps a slot's size in a uint32 and any single
	// item addressable on 32-bit platforms.
	maxItemSize = 1 << 30
)

// fileMagic opens every buffer file.
var fileMagic = [8]byte{'S', 'C', 'B', 'R', 'I', 'N', 'G', 0}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// geometry is what the fixed header fields describe.
type geometry struct {
	length   uint64
	itemSize uint32
	slotSize uint32
	strategy Strategy
	mode     Mode
	fileSize uint64
	created  int64
	id       uint64 // random per buffer: a recreated name gets new lock files
}

// newGeometry computes the layout for a buffer of the given shape, or
// reports why there cannot be one. length and itemSize are already
// defaulted.
func newGeometry(length, itemSize int, s Strategy, m Mode) (geometry, error) {
	switch {
	case length < 2:
		return geometry{}, optionsf("Length %d is below 2", length)
	case itemSize < 1:
		return geometry{}, optionsf("ItemSize %d is below 1", itemSize)
	case itemSize > maxItemSize:
		return geometry{}, optionsf("ItemSize %d is above %d", itemSize, maxItemSize)
	case !s.valid():
		return geometry{}, optionsf("unknown strategy %d", s)
	case !m.valid():
		return geometry{}, optionsf("unknown mode %d", m)
	}
	slot := slotSizeFor(uint64(itemSize), m)
	size, ok := fileSizeFor(uint64(length), slot)
	if !ok {
		return geometry{}, optionsf("Length %d with ItemSize %d overflows the file size", length, itemSize)
	}
	return geometry{
		length:   uint64(length),
		itemSize: uint32(itemSize),
		slotSize: uint32(slot),
		strategy: s,
		mode:     m,
		fileSize: size,
	}, nil
}

// lineAlign is the item size from which items start on a 64-byte line.
const lineAlign = 64

// dataOffset returns where the item starts in a slot of mode m for items of
// up to itemSize bytes.
func dataOffset(itemSize uint64, m Mode) uint64 {
	switch {
	case itemSize >= lineAlign:
		return lineAlign
	case m == Broadcast:
		return broadcastData
	}
	return queueData
}

// slotSizeFor returns the bytes a slot of mode m takes for items of up to
// itemSize bytes.
func slotSizeFor(itemSize uint64, m Mode) uint64 {
	size := dataOffset(itemSize, m) + itemSize
	if itemSize >= lineAlign {
		return (size + lineAlign - 1) &^ (lineAlign - 1)
	}
	return (size + 7) &^ 7
}

// fileSizeFor returns headerSize + length*slot, and false if that does not
// fit the int64 of a file size and the int of a mapping on this platform.
func fileSizeFor(length, slot uint64) (uint64, bool) {
	hi, lo := bits.Mul64(length, slot)
	if hi != 0 {
		return 0, false
	}
	size, carry := bits.Add64(lo, headerSize, 0)
	if carry != 0 || size > math.MaxInt64 || size > uint64(math.MaxInt) {
		return 0, false
	}
	return size, true
}

// encode writes the fixed fields into the first fixedSize bytes of b.
func (g geometry) encode(b []byte) {
	le := binary.LittleEndian
	copy(b[offMagic:], fileMagic[:])
	le.PutUint32(b[offVersion:], formatVersion)
	binary.NativeEndian.PutUint32(b[offByteOrder:], byteOrderMark)
	le.PutUint64(b[offLength:], g.length)
	le.PutUint32(b[offItemSize:], g.itemSize)
	le.PutUint32(b[offSlotSize:], g.slotSize)
	b[offStrategy] = byte(g.strategy)
	b[offMode] = byte(g.mode)
	le.PutUint64(b[offSlots:], headerSize)
	le.PutUint64(b[offFileSize:], g.fileSize)
	le.PutUint64(b[offCreated:], uint64(g.created))
	le.PutUint64(b[offID:], g.id)
	le.PutUint32(b[offChecksum:], crc32.Checksum(b[:offChecksum], castagnoli))
}

// decodeHeader validates the fixed fields in b (at least fixedSize bytes)
// against a file of fileSize bytes: magic, version, checksum, byte order,
// then geometry, each with its own message. Nothing read is trusted before
// it is checked.
func decodeHeader(b []byte, fileSize int64) (geometry, error) {
	if len(b) < fixedSize || fileSize < headerSize {
		return geometry{}, corruptf("file is %d bytes, smaller than the %d-byte header", fileSize, headerSize)
	}
	le := binary.LittleEndian
	if [8]byte(b[offMagic:offMagic+8]) != fileMagic {
		return geometry{}, corruptf("bad magic %q: not an scb buffer", b[offMagic:offMagic+8])
	}
	if v := le.Uint32(b[offVersion:]); v != formatVersion {
		return geometry{}, corruptf("format version %d, this package reads version %d", v, formatVersion)
	}
	if sum, want := crc32.Checksum(b[:offChecksum], castagnoli), le.Uint32(b[offChecksum:]); sum != want {
		return geometry{}, corruptf("header checksum %#08x, computed %#08x", want, sum)
	}
	if binary.NativeEndian.Uint32(b[offByteOrder:]) != byteOrderMark {
		return geometry{}, corruptf("made on a machine with the other byte order")
	}
	g := geometry{
		length:   le.Uint64(b[offLength:]),
		itemSize: le.Uint32(b[offItemSize:]),
		slotSize: le.Uint32(b[offSlotSize:]),
		strategy: Strategy(b[offStrategy]),
		mode:     Mode(b[offMode]),
		fileSize: le.Uint64(b[offFileSize:]),
		created:  int64(le.Uint64(b[offCreated:])),
		id:       le.Uint64(b[offID:]),
	}
	switch {
	case g.length < 2:
		return geometry{}, corruptf("length %d", g.length)
	case g.itemSize < 1 || g.itemSize > maxItemSize:
		return geometry{}, corruptf("item size %d", g.itemSize)
	case !g.strategy.valid():
		return geometry{}, corruptf("strategy %d", g.strategy)
	case !g.mode.valid():
		return geometry{}, corruptf("mode %d", g.mode)
	case uint64(g.slotSize) != slotSizeFor(uint64(g.itemSize), g.mode):
		return geometry{}, corruptf("slot size %d for item size %d", g.slotSize, g.itemSize)
	case le.Uint64(b[offSlots:]) != headerSize:
		return geometry{}, corruptf("slots at offset %d, want %d", le.Uint64(b[offSlots:]), headerSize)
	}
	size, ok := fileSizeFor(g.length, uint64(g.slotSize))
	if !ok || size != g.fileSize {
		return geometry{}, corruptf("geometry %d x %d bytes does not add up to the recorded size %d", g.length, g.slotSize, g.fileSize)
	}
	if uint64(fileSize) != g.fileSize {
		return geometry{}, corruptf("file is %d bytes, header says %d", fileSize, g.fileSize)
	}
	return g, nil
}
