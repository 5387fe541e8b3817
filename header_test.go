package scb

// White-box tests of the on-disk layout itself.

import (
	"fmt"
	"testing"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
)

// TestLayoutLines checks that the fixed fields fit their line and that
// every shared word the two sides write sits on a 128-byte line of its
// own, inside the header page.
func TestLayoutLines(t *testing.T) {
	assert.LessOrEqual(t, fixedSize, lineSize, "fixed fields fit line 0")
	assert.Equal(t, offChecksum+4, fixedSize)
	lines := map[string]int{
		"head": offHead, "tail": offTail, "data wake": offDataSeq, "room wake": offRoomSeq, "lock wake": offLockSeq, "state": offEnd,
		"write lock": offWriteLock, "read lock": offReadLock,
	}
	seen := map[int]string{}
	for name, off := range lines {
		line := off / lineSize
		assert.NotZero(t, line, "%s is not on the fixed line", name)
		require.Empty(t, seen[line], "%s shares line %d with %s", name, line, seen[line])
		seen[line] = name
		assert.Less(t, off, headerUsed)
	}
	assert.LessOrEqual(t, headerUsed, headerSize)
	assert.Equal(t, offDataSeq/lineSize, offDataWaiters/lineSize, "a wake word and its waiter count share a line")
	assert.Equal(t, offRoomSeq/lineSize, offRoomWaiters/lineSize)
	assert.Equal(t, offLockSeq/lineSize, offLockWaiters/lineSize)
	for _, side := range [][3]int{{offWriteLock, offWriteLockSeq, offWriteLockWaiters}, {offReadLock, offReadLockSeq, offReadLockWaiters}} {
		assert.Equal(t, side[0]/lineSize, side[1]/lineSize, "a lock word and its wake words share a line")
		assert.Equal(t, side[0]/lineSize, side[2]/lineSize)
	}
}

// TestSlotLayout checks the slot geometry for both modes over a range of
// item sizes: items fit, words are aligned for atomics, and items of 64
// bytes or more start on a 64-byte line in every slot.
func TestSlotLayout(t *testing.T) {
	for _, m := range []Mode{Queue, Broadcast} {
		for _, item := range []uint64{1, 7, 8, 9, 63, 64, 65, 100, 4096, 4097, 1 << 20} {
			t.Run(fmt.Sprintf("%v/%d", m, item), func(t *testing.T) {
				slot, data := slotSizeFor(item, m), dataOffset(item, m)
				assert.GreaterOrEqual(t, slot, data+item, "the item fits")
				assert.Zero(t, slot%8, "slots keep 8-byte alignment")
				lenOff := uint64(queueLen)
				if m == Broadcast {
					lenOff = broadcastLen
					assert.Less(t, uint64(broadcastSeq)+8, data+1, "the sequence word comes before the item")
				}
				assert.LessOrEqual(t, lenOff+4, data, "the length comes before the item")
				if item >= lineAlign {
					for i := range uint64(5) {
						assert.Zero(t, (headerSize+i*slot+data)%lineAlign, "slot %d's item starts a line", i)
					}
				} else {
					assert.Less(t, slot, data+item+8, "small slots are not padded beyond 8-byte alignment")
				}
			})
		}
	}
	assert.Equal(t, uint64(16), slotSizeFor(8, Queue), "a uint64 item takes 16 bytes in a Queue")
	assert.Equal(t, uint64(24), slotSizeFor(8, Broadcast))
	assert.Equal(t, uint64(4160), slotSizeFor(4096, Queue))
}

// TestHeaderRoundTrip encodes a geometry and decodes it back.
func TestHeaderRoundTrip(t *testing.T) {
	g, err := newGeometry(100, 4096, Flock, Broadcast)
	require.NoError(t, err)
	g.created, g.id = 1234567890, 0xfeedface
	b := make([]byte, headerSize)
	g.encode(b)
	got, err := decodeHeader(b, int64(g.fileSize))
	require.NoError(t, err)
	assert.Equal(t, g, got)
}
