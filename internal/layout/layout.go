// Package layout is the buffer file format, all of it: the header page,
// the slot layouts, the encoding of integer items, and the view of a mapped
// file that the engine reads and writes through (Ring). It does not depend
// on GOARCH: every offset and size is a constant here, and the one property
// of the machine the file records, the byte order, is checked by Decode.
//
// The package knows bytes, not buffers: it imports nothing of scb, and its
// errors are plain; package scb wraps them in its own sentinels (a header
// that Decode refuses is scb.ErrCorrupt, a geometry NewGeometry refuses is
// scb.ErrInvalidOptions). Its small methods inline into the engine's hot
// path (go build -gcflags=-m prints "inlining call to (*layout.Ring).Slot").
package layout

import (
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"math"
	"math/bits"
)

// The file format, version 6. Every offset is a constant that does not
// depend on the architecture.
//
// The file is a header of HeaderSize bytes (a page of fixed fields, cursors
// and words, then the holder table, holders.go), then, in Queue mode, the
// state words of the slots (one uint64 per slot, lease.go; StatesSize bytes
// in all, a multiple of 64), then Length slots of SlotSize bytes, from
// SlotsOffset. The header's first 128-byte line holds the fixed fields,
// written once by Create and covered by a CRC-32C checksum; the numbers are
// little-endian except the byte-order mark. Each shared cursor then has a
// 128-byte line of its own, so that the writer and the readers never share a
// cache line (128 bytes covers the adjacent-line prefetcher of x86 and the
// 128-byte lines of Apple's arm64 cores). The cursors are updated with
// sync/atomic and are in the machine's own byte order, which the byte-order
// mark records; so are the wake-up words and the slot headers below. A file
// made on a machine with the other byte order is refused.
//
// A slot is a slot header followed by ItemSize bytes of item. The header
// has the item's length, unless the buffer's items all have one size
// (SlotsFixed: every item is ItemSize bytes); Broadcast slots also carry a
// sequence number, with which a reader detects that the writer overwrote
// the item while it was reading it. So a fixed-size Queue slot has no
// header at all: an 8-byte item takes 8 bytes. For items of 64 bytes or
// more a slot header takes a whole 64-byte line and slots are a multiple
// of 64 bytes, so that every item starts on a cache line (copying 4 KiB
// items that straddle lines is about a third slower); smaller slots are a
// multiple of 8:
//
//	Queue, SlotsVariable:
//	 0 len  uint32  the item's length, at most ItemSize
//	 4 -    uint32  reserved, zero
//	 8 item [ItemSize]byte      (at 64 when ItemSize >= 64)
//
//	Queue, SlotsFixed:
//	 0 item [ItemSize]byte
//
//	Broadcast, SlotsVariable:
//	 0 seq  uint64  2n+2 once item n is in the slot, 2n+1 while it is written
//	 8 len  uint32  the item's length, at most ItemSize
//	12 -    uint32  reserved, zero
//	16 item [ItemSize]byte      (at 64 when ItemSize >= 64)
//
//	Broadcast, SlotsFixed:
//	 0 seq  uint64  as above
//	 8 item [ItemSize]byte      (at 64 when ItemSize >= 64)
//
// An item is opaque bytes, except that integer items are stored big-endian
// in all ItemSize bytes, zero-padded in front when ItemSize is above 8
// (PutUint and GetUint).
const (
	HeaderSize = OffHolders + MaxHolders*HolderSize // the header page and the holder table; state words or slots start here
	PageSize   = 4096                               // the header page: fixed fields, cursors and words
	LineSize   = 128                                // one cache line pair: cursors never share one

	// Fixed fields (line 0).
	OffMagic     = 0  // [8]byte Magic
	OffVersion   = 8  // uint32 Version
	OffByteOrder = 12 // uint32 ByteOrderMark in the creator's byte order
	OffLength    = 16 // uint64 number of slots
	OffItemSize  = 24 // uint32 largest item in bytes
	OffSlotSize  = 28 // uint32 bytes per slot
	OffStrategy  = 32 // uint8 strategy code (StrategyAtomic, StrategyFlock)
	OffMode      = 33 // uint8 mode code (ModeQueue, ModeBroadcast)
	OffSlotKind  = 34 // uint8 slot layout code (SlotsVariable, SlotsFixed)
	OffSlots     = 40 // uint64 offset of slot 0 (SlotsOffset)
	OffFileSize  = 48 // uint64 total file size
	OffCreated   = 56 // int64 creation time, Unix nanoseconds
	OffID        = 64 // uint64 random, names this buffer's role lock files
	OffChecksum  = 72 // uint32 CRC-32C (Castagnoli) of bytes [0, OffChecksum)
	FixedFields  = 76 // bytes of line 0 that are defined; the rest is zero

	// Shared cursors, each on its own line.
	OffHead = 1 * LineSize // uint64 items ever written: the write cursor
	OffTail = 2 * LineSize // uint64 items ever consumed: the Queue read cursor

	// Wake-up words for blocking calls (package wait has the protocol).
	OffDataSeq     = 3 * LineSize   // uint32 bumped when items arrive and a reader waits
	OffDataWaiters = 3*LineSize + 4 // uint32 readers sleeping on OffDataSeq
	OffRoomSeq     = 4 * LineSize   // uint32 bumped when room frees up and a writer waits
	OffRoomWaiters = 4*LineSize + 4 // uint32 writers sleeping on OffRoomSeq
	OffLockSeq     = 5 * LineSize   // uint32 Flock where files lock: bumped on unlock when a locker waits
	OffLockWaiters = 5*LineSize + 4 // uint32 Flock where files lock: lockers sleeping on OffLockSeq

	// The stream's state and who is attached, rarely written.
	OffEnd     = 6 * LineSize    // uint64 0 while the stream is open; n+1 once it ended after item n-1
	OffWriters = 6*LineSize + 8  // uint32 writers that ever attached (who is attached now is the holder table's)
	OffReaders = 6*LineSize + 12 // uint32 readers that ever attached
	OffRun     = 6*LineSize + 16 // uint32 the stream's run: 0, then one more each time a writer opens an ended stream again

	// Flock's lock words, one line per side: the word is 0 while the side
	// is free, else its holder's token (holder slot + 1); lockers sleep on
	// the side's sequence word.
	OffWriteLock        = 7 * LineSize   // uint32 the writers' lock
	OffWriteLockSeq     = 7*LineSize + 4 // uint32 bumped on unlock when a writer sleeps for the lock
	OffWriteLockWaiters = 7*LineSize + 8 // uint32 writers sleeping on OffWriteLockSeq
	OffReadLock         = 8 * LineSize   // uint32 the Queue readers' lock
	OffReadLockSeq      = 8*LineSize + 4 // uint32 bumped on unlock when a reader sleeps for the lock
	OffReadLockWaiters  = 8*LineSize + 8 // uint32 readers sleeping on OffReadLockSeq

	// Queue mode's take cursor and returns (lease.go): items from the read
	// cursor up to the larger of the two cursors are taken; the take
	// cursor only hints where the first item nobody took is.
	OffTake    = 9 * LineSize   // uint64 the take cursor
	OffReturns = 9*LineSize + 8 // uint32 counts items given back or taken back from dead holders
	HeaderUsed = 11 * LineSize  // everything past this in the header page is zero (line 10: typerecord.go)

	// Slot layouts.
	QueueLen      = 0  // uint32 item length
	QueueData     = 8  // item bytes
	BroadcastSeq  = 0  // uint64 sequence number
	BroadcastLen  = 8  // uint32 item length
	BroadcastData = 16 // item bytes
	FixedSeqData  = 8  // Broadcast, SlotsFixed: item bytes

	// LineAlign is the item size from which items start on a 64-byte
	// line, and that line's size.
	LineAlign = 64

	// Version 6: a buffer made for one Go type records its fingerprint
	// (typerecord.go). Version 5: a buffer whose items all have one size keeps no
	// length in its slots (SlotsFixed). Version 4: a holder table
	// records every attached handle, the header counts the writers and
	// readers that ever attached, and numbers the stream's runs. Version
	// 3: Queue items are taken under state words, with a take cursor and
	// leases; version 2 had neither. Version 2: Flock takes
	// lock words instead of a file lock per operation, which processes of
	// version 1 would not respect.
	Version       = 6
	ByteOrderMark = 0x01020304

	// MaxItemSize keeps a slot's size in a uint32 and any single item
	// addressable on 32-bit platforms.
	MaxItemSize = 1 << 30
)

// The codes the file records for a buffer's strategy and mode. Package scb's
// Strategy and Mode constants have these values.
const (
	StrategyAtomic = 1
	StrategyFlock  = 2
	ModeQueue      = 1
	ModeBroadcast  = 2
	SlotsVariable  = 1 // each slot records its item's length
	SlotsFixed     = 2 // every item is ItemSize bytes: slots record no length
)

// Magic opens every buffer file.
var Magic = [8]byte{'S', 'C', 'B', 'R', 'I', 'N', 'G', 0}

var castagnoli = crc32.MakeTable(crc32.Castagnoli)

// Checksum returns the CRC-32C of b, as the header's checksum covers
// b[:OffChecksum].
func Checksum(b []byte) uint32 { return crc32.Checksum(b, castagnoli) }

// Seal writes the checksum of the fixed fields in b (at least FixedFields
// bytes).
func Seal(b []byte) {
	binary.LittleEndian.PutUint32(b[OffChecksum:], Checksum(b[:OffChecksum]))
}

// Geometry is what the fixed header fields describe.
type Geometry struct {
	Length   uint64
	ItemSize uint32
	SlotSize uint32
	Strategy uint8 // StrategyAtomic or StrategyFlock
	Mode     uint8 // ModeQueue or ModeBroadcast
	Fixed    bool  // SlotsFixed: every item is ItemSize bytes
	FileSize uint64
	Created  int64  // Unix nanoseconds
	ID       uint64 // random per buffer: a recreated name gets new lock files
}

// Broadcast reports whether the geometry is of a Broadcast buffer.
func (g Geometry) Broadcast() bool { return g.Mode == ModeBroadcast }

// ValidStrategy and ValidMode report whether a code is one the format
// defines.
func ValidStrategy(s uint8) bool { return s == StrategyAtomic || s == StrategyFlock }
func ValidMode(m uint8) bool     { return m == ModeQueue || m == ModeBroadcast }

// NewGeometry computes the layout of a buffer of length slots for items
// of up to itemSize bytes (of exactly itemSize bytes if fixed), and
// reports false if its file size overflows. The caller has checked the
// shape: length at least 2, itemSize from 1 to MaxItemSize, valid codes.
func NewGeometry(length uint64, itemSize uint32, strategy, mode uint8, fixed bool) (Geometry, bool) {
	slot := SlotSize(uint64(itemSize), mode == ModeBroadcast, fixed)
	size, ok := FileSize(length, slot, mode == ModeBroadcast)
	if !ok {
		return Geometry{}, false
	}
	return Geometry{
		Length:   length,
		ItemSize: itemSize,
		SlotSize: uint32(slot),
		Strategy: strategy,
		Mode:     mode,
		Fixed:    fixed,
		FileSize: size,
	}, true
}

// DataOffset returns where the item starts in a slot for items of up to
// itemSize bytes (exactly itemSize bytes if fixed).
func DataOffset(itemSize uint64, broadcast, fixed bool) uint64 {
	switch {
	case fixed && !broadcast:
		return 0
	case itemSize >= LineAlign:
		return LineAlign
	case broadcast && fixed:
		return FixedSeqData
	case broadcast:
		return BroadcastData
	}
	return QueueData
}

// LenOffset returns where the item's length is in a slot that records
// one (SlotsVariable).
func LenOffset(broadcast bool) uint64 {
	if broadcast {
		return BroadcastLen
	}
	return QueueLen
}

// SlotSize returns the bytes a slot takes for items of up to itemSize
// bytes (exactly itemSize bytes if fixed).
func SlotSize(itemSize uint64, broadcast, fixed bool) uint64 {
	size := DataOffset(itemSize, broadcast, fixed) + itemSize
	if itemSize >= LineAlign {
		return (size + LineAlign - 1) &^ (LineAlign - 1)
	}
	return (size + 7) &^ 7
}

// StatesSize returns the bytes of the slots' state words: one uint64 per
// slot in Queue mode, rounded up to a multiple of 64 so that the slots
// keep their alignment; none in Broadcast mode. The caller has checked
// that length*8 does not overflow (FileSize does).
func StatesSize(length uint64, broadcast bool) uint64 {
	if broadcast {
		return 0
	}
	return (length*8 + LineAlign - 1) &^ (LineAlign - 1)
}

// SlotsOffset returns where slot 0 starts.
func SlotsOffset(length uint64, broadcast bool) uint64 {
	return HeaderSize + StatesSize(length, broadcast)
}

// SlotsOffset returns where slot 0 of a buffer of geometry g starts.
func (g Geometry) SlotsOffset() uint64 { return SlotsOffset(g.Length, g.Broadcast()) }

// FileSize returns the size of a file of length slots of slot bytes (the
// header, the state words, the slots), and false if that does not fit the
// int64 of a file size and the int of a mapping on this platform.
func FileSize(length, slot uint64, broadcast bool) (uint64, bool) {
	hi, lo := bits.Mul64(length, slot)
	if hi != 0 || slot < 8 {
		return 0, false
	}
	// length*8 <= length*slot, so the state words cannot overflow.
	size, carry := bits.Add64(lo, SlotsOffset(length, broadcast), 0)
	if carry != 0 || size > math.MaxInt64 || size > uint64(math.MaxInt) {
		return 0, false
	}
	return size, true
}

// Encode writes the fixed fields into the first FixedFields bytes of b.
func (g Geometry) Encode(b []byte) {
	le := binary.LittleEndian
	copy(b[OffMagic:], Magic[:])
	le.PutUint32(b[OffVersion:], Version)
	binary.NativeEndian.PutUint32(b[OffByteOrder:], ByteOrderMark)
	le.PutUint64(b[OffLength:], g.Length)
	le.PutUint32(b[OffItemSize:], g.ItemSize)
	le.PutUint32(b[OffSlotSize:], g.SlotSize)
	b[OffStrategy] = g.Strategy
	b[OffMode] = g.Mode
	b[OffSlotKind] = SlotsVariable
	if g.Fixed {
		b[OffSlotKind] = SlotsFixed
	}
	le.PutUint64(b[OffSlots:], g.SlotsOffset())
	le.PutUint64(b[OffFileSize:], g.FileSize)
	le.PutUint64(b[OffCreated:], uint64(g.Created))
	le.PutUint64(b[OffID:], g.ID)
	Seal(b)
}

// Decode validates the fixed fields in b (at least FixedFields bytes, or the
// whole file if it is shorter) against a file of fileSize bytes: magic,
// version, checksum, byte order, then geometry, each with its own message.
// Nothing read is trusted before it is checked. Every error it returns
// means the file is not a valid buffer of this version.
func Decode(b []byte, fileSize int64) (Geometry, error) {
	if len(b) < FixedFields || fileSize < HeaderSize {
		return Geometry{}, fmt.Errorf("file is %d bytes, smaller than the %d-byte header", fileSize, HeaderSize)
	}
	le := binary.LittleEndian
	if [8]byte(b[OffMagic:OffMagic+8]) != Magic {
		return Geometry{}, fmt.Errorf("bad magic %q: not an scb buffer", b[OffMagic:OffMagic+8])
	}
	if v := le.Uint32(b[OffVersion:]); v != Version {
		if v < Version {
			return Geometry{}, fmt.Errorf("format version %d, this package reads version %d: recreate the buffer (Remove, then Create)", v, Version)
		}
		return Geometry{}, fmt.Errorf("format version %d, this package reads version %d", v, Version)
	}
	if sum, want := Checksum(b[:OffChecksum]), le.Uint32(b[OffChecksum:]); sum != want {
		return Geometry{}, fmt.Errorf("header checksum %#08x, computed %#08x", want, sum)
	}
	if binary.NativeEndian.Uint32(b[OffByteOrder:]) != ByteOrderMark {
		return Geometry{}, errors.New("made on a machine with the other byte order")
	}
	g := Geometry{
		Length:   le.Uint64(b[OffLength:]),
		ItemSize: le.Uint32(b[OffItemSize:]),
		SlotSize: le.Uint32(b[OffSlotSize:]),
		Strategy: b[OffStrategy],
		Mode:     b[OffMode],
		Fixed:    b[OffSlotKind] == SlotsFixed,
		FileSize: le.Uint64(b[OffFileSize:]),
		Created:  int64(le.Uint64(b[OffCreated:])),
		ID:       le.Uint64(b[OffID:]),
	}
	switch {
	case g.Length < 2:
		return Geometry{}, fmt.Errorf("length %d", g.Length)
	case g.ItemSize < 1 || g.ItemSize > MaxItemSize:
		return Geometry{}, fmt.Errorf("item size %d", g.ItemSize)
	case !ValidStrategy(g.Strategy):
		return Geometry{}, fmt.Errorf("strategy %d", g.Strategy)
	case !ValidMode(g.Mode):
		return Geometry{}, fmt.Errorf("mode %d", g.Mode)
	case b[OffSlotKind] != SlotsVariable && b[OffSlotKind] != SlotsFixed:
		return Geometry{}, fmt.Errorf("slot layout %d", b[OffSlotKind])
	case uint64(g.SlotSize) != SlotSize(uint64(g.ItemSize), g.Broadcast(), g.Fixed):
		return Geometry{}, fmt.Errorf("slot size %d for item size %d", g.SlotSize, g.ItemSize)
	}
	size, ok := FileSize(g.Length, uint64(g.SlotSize), g.Broadcast())
	if !ok || size != g.FileSize {
		return Geometry{}, fmt.Errorf("geometry %d x %d bytes does not add up to the recorded size %d", g.Length, g.SlotSize, g.FileSize)
	}
	if off := le.Uint64(b[OffSlots:]); off != g.SlotsOffset() {
		return Geometry{}, fmt.Errorf("slots at offset %d, want %d", off, g.SlotsOffset())
	}
	if uint64(fileSize) != g.FileSize {
		return Geometry{}, fmt.Errorf("file is %d bytes, header says %d", fileSize, g.FileSize)
	}
	return g, nil
}
