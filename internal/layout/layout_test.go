package layout

// Tests of the on-disk layout itself.

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
	assert.LessOrEqual(t, FixedFields, LineSize, "fixed fields fit line 0")
	assert.Equal(t, OffChecksum+4, FixedFields)
	lines := map[string]int{
		"head": OffHead, "tail": OffTail, "data wake": OffDataSeq, "room wake": OffRoomSeq, "lock wake": OffLockSeq, "state": OffEnd,
		"write lock": OffWriteLock, "read lock": OffReadLock,
	}
	seen := map[int]string{}
	for name, off := range lines {
		line := off / LineSize
		assert.NotZero(t, line, "%s is not on the fixed line", name)
		require.Empty(t, seen[line], "%s shares line %d with %s", name, line, seen[line])
		seen[line] = name
		assert.Less(t, off, HeaderUsed)
	}
	assert.LessOrEqual(t, HeaderUsed, HeaderSize)
	assert.Equal(t, OffDataSeq/LineSize, OffDataWaiters/LineSize, "a wake word and its waiter count share a line")
	assert.Equal(t, OffRoomSeq/LineSize, OffRoomWaiters/LineSize)
	assert.Equal(t, OffLockSeq/LineSize, OffLockWaiters/LineSize)
	for _, side := range [][3]int{{OffWriteLock, OffWriteLockSeq, OffWriteLockWaiters}, {OffReadLock, OffReadLockSeq, OffReadLockWaiters}} {
		assert.Equal(t, side[0]/LineSize, side[1]/LineSize, "a lock word and its wake words share a line")
		assert.Equal(t, side[0]/LineSize, side[2]/LineSize)
	}
}

// TestSlotLayout checks the slot geometry for both modes and both slot
// layouts over a range of item sizes: items fit, words are aligned for
// atomics, and items of 64 bytes or more start on a 64-byte line in every
// slot.
func TestSlotLayout(t *testing.T) {
	for _, broadcast := range []bool{false, true} {
		for _, fixed := range []bool{false, true} {
			for _, item := range []uint64{1, 7, 8, 9, 63, 64, 65, 100, 4096, 4097, 1 << 20} {
				t.Run(fmt.Sprintf("broadcast=%v/fixed=%v/%d", broadcast, fixed, item), func(t *testing.T) {
					slot, data := SlotSize(item, broadcast, fixed), DataOffset(item, broadcast, fixed)
					assert.GreaterOrEqual(t, slot, data+item, "the item fits")
					assert.Zero(t, slot%8, "slots keep 8-byte alignment")
					if broadcast {
						assert.LessOrEqual(t, uint64(BroadcastSeq)+8, data, "the sequence word comes before the item")
					}
					if !fixed {
						assert.LessOrEqual(t, LenOffset(broadcast)+4, data, "the length comes before the item")
					}
					if item >= LineAlign {
						for i := range uint64(5) {
							assert.Zero(t, (HeaderSize+i*slot+data)%LineAlign, "slot %d's item starts a line", i)
						}
					} else {
						assert.Less(t, slot, data+item+8, "small slots are not padded beyond 8-byte alignment")
					}
				})
			}
		}
	}
	for _, c := range []struct {
		item             uint64
		broadcast, fixed bool
		want             uint64
	}{
		{8, false, false, 16}, // a uint64 item with its length
		{8, true, false, 24},
		{8, false, true, 8}, // fixed: the item alone
		{8, true, true, 16}, // and the sequence word
		{12, false, true, 16},
		{4096, false, false, 4160},
		{4096, false, true, 4096},
		{4096, true, true, 4160},
	} {
		assert.Equal(t, c.want, SlotSize(c.item, c.broadcast, c.fixed), "item %d broadcast %v fixed %v", c.item, c.broadcast, c.fixed)
	}
}

// TestHeaderRoundTrip encodes a geometry and decodes it back.
func TestHeaderRoundTrip(t *testing.T) {
	for _, fixed := range []bool{false, true} {
		g, ok := NewGeometry(100, 4096, StrategyFlock, ModeBroadcast, fixed)
		require.True(t, ok)
		g.Created, g.ID = 1234567890, 0xfeedface
		b := make([]byte, HeaderSize)
		g.Encode(b)
		got, err := Decode(b, int64(g.FileSize))
		require.NoError(t, err)
		assert.Equal(t, g, got)
	}
}

// TestDecodeSlotKind refuses a slot layout code the format does not
// define, and reads both that it does.
func TestDecodeSlotKind(t *testing.T) {
	g, ok := NewGeometry(16, 8, StrategyAtomic, ModeQueue, true)
	require.True(t, ok)
	for code, want := range map[byte]string{0: "slot layout 0", SlotsVariable: "slot size", SlotsFixed: "", 3: "slot layout 3"} {
		b := make([]byte, HeaderSize)
		g.Encode(b)
		b[OffSlotKind] = code
		Seal(b)
		_, err := Decode(b, int64(g.FileSize))
		if want == "" {
			assert.NoError(t, err)
		} else {
			assert.ErrorContains(t, err, want, "code %d", code)
		}
	}
}
