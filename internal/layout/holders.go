package layout

import "unsafe"

// The holder table (version 4): after the header page, one 64-byte line per
// holder slot, MaxHolders of them. A handle that attaches, of any role,
// strategy and mode, claims a slot by taking the byte lock of the slot
// (package platform's holder locks, which the kernel drops when the handle
// closes its file or its process dies) and fills in the slot's line; it
// clears the line before it lets the byte go. So a line tells who holds
// the slot only while the slot's byte lock is held: a line whose lock is
// free is what a holder that died left behind, and is not believed. The
// holder's token (its slot + 1) is what a Flock handle's Queue reads mark
// items with and what a Flock lock word holds (the Atomic strategy's one
// reader marks items with 1).
//
// Each line is its holder's alone: the holder writes it, everyone else
// only reads it, so that its updates (a Broadcast reader's position, a
// call going to sleep) move no line another process writes.
//
//	 0 role   uint32  HolderWriter or HolderReader; 0 for none
//	 4 asleep uint32  the holder's calls asleep in the kernel right now
//	 8 pid    uint32  the holder's process id
//	12 -      uint32  reserved, zero
//	16 start  uint64  the holder process's start time, in the platform's
//	                  units (Linux: clock ticks since boot), 0 if unknown
//	24 since  int64   when the holder attached, Unix nanoseconds
//	32 pos    uint64  a Broadcast reader: the next item it reads
//	40 lost   uint64  a Broadcast reader: items overwritten before it read them
//	48 -      [16]byte reserved, zero
const (
	OffHolders = PageSize // the holder table
	HolderSize = 64       // bytes per holder slot: a line of its own
	MaxHolders = 512      // holder slots: handles attached to one buffer at once

	HolderRole   = 0
	HolderAsleep = 4
	HolderPid    = 8
	HolderStart  = 16
	HolderSince  = 24
	HolderPos    = 32
	HolderLost   = 40

	// The roles a holder line records.
	HolderWriter = 1
	HolderReader = 2
)

// Holder returns the line of holder slot slot (below MaxHolders) in the
// mapping at base.
func Holder(base unsafe.Pointer, slot uint32) unsafe.Pointer {
	return unsafe.Add(base, OffHolders+uintptr(slot)*HolderSize)
}
