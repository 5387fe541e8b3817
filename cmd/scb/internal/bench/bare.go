package bench

import (
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"sync/atomic"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
)

// The bare loop is scb's design with nothing around it: a ring of slots and
// two 64-bit counters, each on its own 128-byte line, in a file both
// processes map. The writer caches the read counter and the reader the
// write counter, re-reading them only when the cache says full or empty,
// and both spin. Its figures are the ceiling for what scb can reach.
//
// The mapping holds two such rings, A and B, for round trips.
const (
	bareHeadA  = 128
	bareTailA  = 256
	bareHeadB  = 384
	bareTailB  = 512
	bareSlotsA = 4096
)

type bareMap struct {
	f    *os.File
	m    mmap.MMap
	l    uint64 // slots per ring, a power of two
	size int    // bytes per slot
}

func (b *bareMap) u64(off int) *uint64 { return (*uint64)(unsafe.Pointer(&b.m[off])) }

// slot returns ring r's slot i (r is 0 for A, 1 for B).
func (b *bareMap) slot(r int, i uint64) []byte {
	off := bareSlotsA + r*int(b.l)*b.size + int(i&(b.l-1))*b.size
	return b.m[off : off+b.size]
}

func openBare(path string, size int, create bool) (*bareMap, error) {
	l := uint64(ringLength(size))
	total := int64(bareSlotsA + 2*int(l)*size)
	flag := os.O_RDWR
	if create {
		flag |= os.O_CREATE | os.O_EXCL
	}
	f, err := os.OpenFile(path, flag, 0o600)
	if err != nil {
		return nil, err
	}
	if create {
		if err := f.Truncate(total); err != nil {
			f.Close()
			return nil, err
		}
	}
	m, err := mmap.MapRegion(f, int(total), mmap.RDWR, 0, 0)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &bareMap{f: f, m: m, l: l, size: size}, nil
}

func (b *bareMap) close() {
	b.m.Unmap()
	b.f.Close()
}

func bareThroughput(s Shape, n int, dir string) (time.Duration, error) {
	d, cleanup, err := tempDir(dir)
	if err != nil {
		return 0, err
	}
	defer cleanup()
	path := filepath.Join(d, "bare")
	b, err := openBare(path, s.Size, true)
	if err != nil {
		return 0, err
	}
	defer b.close()
	wn := warmUp(n)
	p, err := start(job{Role: "consume", Via: string(Bare), File: path, N: n, Warm: wn, Shape: s})
	if err != nil {
		return 0, err
	}
	headP, tailP := b.u64(bareHeadA), b.u64(bareTailA)
	batch := uint64(max(s.Batch, 1))
	src := make([]byte, s.Size)
	var t0 instant
	var head, tailCache uint64
	last := uint64(wn+n) - 1
	for i := range uint64(wn + n) {
		if i == uint64(wn) {
			atomic.StoreUint64(headP, head) // the warm-up's last part batch
			if err := p.expect("warm"); err != nil {
				p.kill()
				return 0, err
			}
			t0 = now()
		}
		if head-tailCache >= b.l {
			atomic.StoreUint64(headP, head) // publish a part batch before waiting
			for head-tailCache >= b.l {
				tailCache = atomic.LoadUint64(tailP)
			}
		}
		slot := b.slot(0, head)
		if s.Size == 8 {
			*(*uint64)(unsafe.Pointer(&slot[0])) = i
		} else {
			copy(slot, src)
			binary.LittleEndian.PutUint64(slot, i)
		}
		head++
		if head%batch == 0 || i == last {
			atomic.StoreUint64(headP, head)
		}
	}
	if err := p.finish(); err != nil {
		return 0, err
	}
	return since(t0), nil
}

func bareRoundTrip(n int, dir string) ([]time.Duration, error) {
	d, cleanup, err := tempDir(dir)
	if err != nil {
		return nil, err
	}
	defer cleanup()
	path := filepath.Join(d, "bare")
	b, err := openBare(path, 8, true)
	if err != nil {
		return nil, err
	}
	defer b.close()
	wn := warmUp(n)
	p, err := start(job{Role: "echo", Via: string(Bare), File: path, N: n, Warm: wn})
	if err != nil {
		return nil, err
	}
	headA, headB := b.u64(bareHeadA), b.u64(bareHeadB)
	rtts := make([]time.Duration, wn+n)
	for i := range uint64(wn + n) {
		t0 := now()
		*(*uint64)(unsafe.Pointer(&b.slot(0, i)[0])) = i
		atomic.StoreUint64(headA, i+1)
		for atomic.LoadUint64(headB) <= i {
		}
		v := *(*uint64)(unsafe.Pointer(&b.slot(1, i)[0]))
		rtts[i] = since(t0)
		if v != i {
			p.kill()
			return nil, fmt.Errorf("round trip %d came back as %d", i, v)
		}
	}
	return rtts[wn:], p.finish()
}

// bareChild is the far end of a bare-loop measurement.
func bareChild(j job) error {
	size := j.Shape.Size
	if j.Role == "echo" {
		size = 8
	}
	b, err := openBare(j.File, size, false)
	if err != nil {
		return err
	}
	defer b.close()
	if j.Role == "echo" {
		headA, headB := b.u64(bareHeadA), b.u64(bareHeadB)
		ready()
		for i := range uint64(j.Warm + j.N) {
			for atomic.LoadUint64(headA) <= i {
			}
			v := *(*uint64)(unsafe.Pointer(&b.slot(0, i)[0]))
			*(*uint64)(unsafe.Pointer(&b.slot(1, i)[0])) = v
			atomic.StoreUint64(headB, i+1)
		}
		done()
		return nil
	}
	headP, tailP := b.u64(bareHeadA), b.u64(bareTailA)
	batch := uint64(max(j.Shape.Batch, 1))
	dst := make([]byte, size)
	ready()
	var pos, headCache uint64
	for i := range uint64(j.Warm + j.N) {
		if i == uint64(j.Warm) {
			atomic.StoreUint64(tailP, pos)
			warm()
		}
		if pos == headCache {
			atomic.StoreUint64(tailP, pos) // free a part batch before waiting
			for pos == headCache {
				headCache = atomic.LoadUint64(headP)
			}
		}
		slot := b.slot(0, pos)
		var v uint64
		if size == 8 {
			v = *(*uint64)(unsafe.Pointer(&slot[0]))
		} else {
			copy(dst, slot)
			v = binary.LittleEndian.Uint64(dst)
		}
		if v != i {
			return fmt.Errorf("item %d has number %d", i, v)
		}
		pos++
		if pos%batch == 0 {
			atomic.StoreUint64(tailP, pos)
		}
	}
	done()
	return nil
}
