package scb

// The process's mapped buffers, by address: a wake-up primitive that only
// gets a header word's address can find which buffer, and where in its
// header, the word is. Windows needs it (wake_windows.go names its events
// after the buffer's id and the word's offset); elsewhere it is kept but
// not read.

import (
	"sync"
	"unsafe"
)

// mapping is one mapped buffer file: its first byte, its size and its
// header's id.
type mapping struct {
	base, size uintptr
	id         uint64
}

var mappings struct {
	sync.Mutex
	all []mapping // few: one per open Writer or Reader
}

// addMapping records that mem maps the buffer with header id.
func addMapping(mem []byte, id uint64) {
	mappings.Lock()
	defer mappings.Unlock()
	mappings.all = append(mappings.all, mapping{uintptr(unsafe.Pointer(&mem[0])), uintptr(len(mem)), id})
}

// removeMapping forgets mem, before it is unmapped.
func removeMapping(mem []byte) {
	if len(mem) == 0 {
		return
	}
	base := uintptr(unsafe.Pointer(&mem[0]))
	mappings.Lock()
	defer mappings.Unlock()
	for i, m := range mappings.all {
		if m.base == base {
			mappings.all = append(mappings.all[:i], mappings.all[i+1:]...)
			return
		}
	}
}

// mappingOf returns the id of the buffer whose mapping holds p and p's
// offset in it, or false if p is in no mapped buffer.
func mappingOf(p unsafe.Pointer) (id uint64, off uintptr, ok bool) {
	a := uintptr(p)
	mappings.Lock()
	defer mappings.Unlock()
	for _, m := range mappings.all {
		if a-m.base < m.size { // a >= m.base, unsigned
			return m.id, a - m.base, true
		}
	}
	return 0, 0, false
}
