package scb

// Look: the next items of a buffer, read without attaching, as Stat reads
// its header.

import (
	"fmt"
	"sync/atomic"
	"unsafe"

	"github.com/edsrzf/mmap-go"

	"github.com/sharedcbuff/scb/internal/layout"
)

// Item is an item as Look found it: its position (its number since the
// buffer was created, as Reader.Pos says) and a copy of its bytes.
type Item struct {
	Pos  uint64
	Data []byte
}

// Look returns up to n of the items a reader would read next from the
// buffer called name, without attaching to it and without consuming
// anything: in Queue mode the unread items from the read cursor on (those
// taken under a lease and not acknowledged included: they are unread), in
// Broadcast mode the oldest items the ring holds, where a new reader
// starts. It takes no role and no lock, so it stops nobody: an item that
// is consumed, or overwritten, while Look copies it is left out, and the
// items returned are those that were still unread (held) when Look
// finished. With nothing to show it returns an empty slice and nil. It is
// for looking, from a script (scb peek) or a test, at what a buffer holds;
// a program that acts on items reads them.
func Look(name string, n int, opts *Options) ([]Item, error) {
	if err := checkName(name); err != nil {
		return nil, opError("look", name, err)
	}
	items, err := lookFile(name, n, opts.config())
	if err != nil {
		return nil, opError("look", name, err)
	}
	return items, nil
}

// lookFile maps the buffer read-only and copies its next items.
func lookFile(name string, n int, c config) ([]Item, error) {
	f, g, _, err := openChecked(name, c, false)
	if err != nil {
		return nil, err
	}
	defer f.Close()
	mem, err := mmap.MapRegion(f, int(g.FileSize), mmap.RDONLY, 0, 0)
	if err != nil {
		return nil, fmt.Errorf("map %s: %w", f.Name(), err)
	}
	defer mem.Unmap()
	ring := layout.NewRing(unsafe.Pointer(&mem[0]), g)
	if n <= 0 {
		return []Item{}, nil
	}
	if g.Broadcast() {
		return lookBroadcast(&ring, n)
	}
	return lookQueue(&ring, n)
}

// lookQueue copies the unread items from the read cursor on. The writer
// reuses item p's slot only for item p+Length, once the read cursor has
// passed p: an item at or past the read cursor loaded after the copy was
// intact while it was copied.
func lookQueue(ring *layout.Ring, n int) ([]Item, error) {
	tail, head, err := queueCursors(ring.RCur, ring.WCur, ring.Length)
	if err != nil {
		return nil, err
	}
	items := make([]Item, 0, min(uint64(n), head-tail))
	for p := tail; p < head && len(items) < n; p++ {
		s := ring.Slot(p)
		l := ring.ItemLen(s)
		if l > uint32(ring.ItemSize) {
			if atomic.LoadUint64(ring.RCur) > p {
				continue // consumed and reused meanwhile: the length is the next item's
			}
			return nil, corruptf("item %d has length %d, item size is %d", p, l, ring.ItemSize)
		}
		items = append(items, Item{Pos: p, Data: append([]byte(nil), ring.Item(s, int(l))...)})
	}
	var fence uint32
	loadFence(&fence) // the copies before the read cursor's load
	after := atomic.LoadUint64(ring.RCur)
	for len(items) > 0 && items[0].Pos < after {
		items = items[1:]
	}
	return items, nil
}

// lookBroadcast copies the oldest items the ring holds, each checked by
// its slot's sequence word before and after the copy, as a reader does.
func lookBroadcast(ring *layout.Ring, n int) ([]Item, error) {
	head := atomic.LoadUint64(ring.WCur)
	start := uint64(0)
	if head > ring.Length {
		start = head - ring.Length
	}
	var items []Item
	var fence uint32
	for p := start; p < head && len(items) < n; p++ {
		s := ring.Slot(p)
		seq := layout.Seq(s)
		if atomic.LoadUint64(seq) != 2*p+2 {
			continue // being overwritten, or overwritten
		}
		l := ring.ItemLen(s)
		if l > uint32(ring.ItemSize) {
			continue // a torn length: the slot is being written
		}
		data := append([]byte(nil), ring.Item(s, int(l))...)
		loadFence(&fence)
		if atomic.LoadUint64(seq) != 2*p+2 {
			continue
		}
		items = append(items, Item{Pos: p, Data: data})
	}
	if items == nil {
		items = []Item{}
	}
	return items, nil
}
