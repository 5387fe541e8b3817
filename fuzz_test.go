package scb_test

// Fuzz targets. FuzzOpen feeds arbitrary header and slot bytes to the
// openers: they must refuse the file with ErrCorrupt or give a buffer that
// works (never a panic, a fault or a hang). FuzzOps runs random sequences
// of operations against a simple in-memory model of both modes, with both
// strategies, and compares every result.
//
// Their seed corpora are real files and programs: f.Add seeds made at run
// time from buffers built by this version of the package, and a fixed set
// in testdata/fuzz (regenerate it with SCB_WRITE_CORPUS=1 go test -run
// TestWriteFuzzCorpus).

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"testing"
	"time"

	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
)

// maxFuzzFile bounds the files FuzzOpen writes.
const maxFuzzFile = 1 << 20

// fuzzOpenSeed is a real buffer file split the way FuzzOpen takes it: the
// header's used lines, and the slots.
type fuzzOpenSeed struct {
	header, body []byte
	delta        int16
}

// realFiles builds buffers of several shapes and histories and returns
// their files.
func realFiles(tb testing.TB, dir string) [][]byte {
	tb.Helper()
	var files [][]byte
	shapes := []struct {
		length, itemSize, pushes, pops int
		fixed                          bool
	}{
		{2, 1, 0, 0, false},
		{2, 1, 5, 4, false},
		{4, 16, 3, 1, false},
		{5, 9, 12, 9, false}, // not a power of two, wrapped
		{8, 8, 8, 0, false},  // full
		{3, 40, 7, 7, false},
		{4, 8, 6, 3, true}, // fixed-size items: slots without lengths
		{3, 64, 5, 1, true},
	}
	for i, sh := range shapes {
		for _, s := range strategies {
			for _, m := range modes {
				name := fmt.Sprintf("f%d%v%v", i, s, m)
				o := &scb.Options{Dir: dir, Length: sh.length, ItemSize: sh.itemSize, Strategy: s, Mode: m, FixedSize: sh.fixed}
				w, err := scb.Create(name, o)
				skipUnsupported(tb, err)
				require.NoError(tb, err)
				r, err := scb.OpenReader(name, at(o))
				require.NoError(tb, err)
				for k := range sh.pushes {
					p := bytes.Repeat([]byte{byte(k + 1)}, 1+k%sh.itemSize)
					if sh.fixed {
						p = bytes.Repeat([]byte{byte(k + 1)}, sh.itemSize)
					}
					if err := w.PushBytes(p); err != nil {
						require.ErrorIs(tb, err, scb.ErrFull)
					}
				}
				for range sh.pops {
					_, _ = r.PopBytes(make([]byte, sh.itemSize))
				}
				require.NoError(tb, r.Close())
				require.NoError(tb, w.Close())
				data, err := os.ReadFile(filepath.Join(dir, name+".scb"))
				require.NoError(tb, err)
				files = append(files, data)
			}
		}
	}
	// A buffer made by CreateTyped, whose header has a type record
	// (format version 6).
	type record struct {
		ID uint32
		V  float64
	}
	tw, err := scb.CreateTyped[record]("ftyped", &scb.Options{Dir: dir, Strategy: scb.Flock, Length: 4})
	require.NoError(tb, err)
	require.NoError(tb, tw.Push(record{ID: 1, V: 2}))
	require.NoError(tb, tw.Close())
	data, err := os.ReadFile(filepath.Join(dir, "ftyped.scb"))
	require.NoError(tb, err)
	return append(files, data)
}

func openSeeds(tb testing.TB, dir string) []fuzzOpenSeed {
	var seeds []fuzzOpenSeed
	for _, data := range realFiles(tb, dir) {
		hdr, body := data[:layout.HeaderUsed], data[layout.HeaderSize:]
		seeds = append(seeds, fuzzOpenSeed{hdr, body, 0})
	}
	good := seeds[2]
	seeds = append(seeds,
		fuzzOpenSeed{nil, nil, 0},
		fuzzOpenSeed{good.header[:40], good.body, 0},
		fuzzOpenSeed{good.header, good.body, -1},
		fuzzOpenSeed{good.header, good.body, 4096},
		fuzzOpenSeed{damage(good.header, false, func(b []byte) []byte { b[layout.OffChecksum] ^= 0xff; return b }), good.body, 0},
		fuzzOpenSeed{damage(good.header, true, func(b []byte) []byte { b[layout.OffVersion] = 2; return b }), good.body, 0},
		fuzzOpenSeed{damage(good.header, false, func(b []byte) []byte {
			binary.NativeEndian.PutUint64(b[layout.OffTail:], 1<<40)
			return b
		}), good.body, 0},
		fuzzOpenSeed{good.header, bytes.Repeat([]byte{0xff}, len(good.body)), 0},
	)
	return seeds
}

func btoi(b bool) int {
	if b {
		return 1
	}
	return 0
}

// fuzzFile lays out the file FuzzOpen opens: header over the start of a
// zeroed header page, then body repeated over the holder table and the
// slots, in a file of the size the header records (when small enough) plus
// delta.
func fuzzFile(header, body []byte, delta int16) []byte {
	size := int64(len(header)) + int64(len(body))
	if len(header) >= layout.OffFileSize+8 {
		if claimed := binary.LittleEndian.Uint64(header[layout.OffFileSize:]); claimed <= maxFuzzFile {
			size = int64(claimed)
		}
	}
	size = min(max(size+int64(delta), 0), maxFuzzFile+4096)
	data := make([]byte, size)
	copy(data, header)
	if len(body) > 0 && size > layout.PageSize {
		for off := layout.PageSize; off < len(data); off += len(body) {
			copy(data[off:], body)
		}
	}
	return data
}

// allowed fails the test unless err is nil or one of the errors the call
// may legitimately return.
func allowed(t *testing.T, what string, err error, ok ...error) {
	t.Helper()
	if err == nil {
		return
	}
	for _, e := range ok {
		if errors.Is(err, e) {
			return
		}
	}
	t.Fatalf("%s: unexpected error %v", what, err)
}

func FuzzOpen(f *testing.F) {
	for _, s := range openSeeds(f, f.TempDir()) {
		f.Add(s.header, s.body, s.delta)
	}
	f.Fuzz(func(t *testing.T, header, body []byte, delta int16) {
		dir := t.TempDir()
		o := &scb.Options{Dir: dir}
		require.NoError(t, os.WriteFile(filepath.Join(dir, "fz.scb"), fuzzFile(header, body, delta), 0o600))

		_, serr := scb.Stat("fz", o)
		allowed(t, "Stat", serr, scb.ErrCorrupt, scb.ErrUnsupported)
		if items, err := scb.Look("fz", 4, o); err == nil {
			for _, it := range items {
				if len(it.Data) > layout.MaxItemSize {
					t.Fatalf("Look: item %d of %d bytes", it.Pos, len(it.Data))
				}
			}
		} else {
			allowed(t, "Look", err, scb.ErrCorrupt, scb.ErrUnsupported)
		}
		r, rerr := scb.OpenReader("fz", o)
		allowed(t, "OpenReader", rerr, scb.ErrCorrupt, scb.ErrUnsupported)
		w, werr := scb.OpenWriter("fz", o)
		allowed(t, "OpenWriter", werr, scb.ErrCorrupt, scb.ErrUnsupported)
		if (rerr == nil) != (werr == nil) && !errors.Is(rerr, scb.ErrUnsupported) {
			// Both validate the same header the same way.
			t.Fatalf("OpenReader said %v but OpenWriter %v", rerr, werr)
		}
		if info, err := scb.Stat("fz", o); err == nil {
			// The holder lines are what the body made them, but for the
			// handles just attached: only those are proved.
			attached := 0
			for _, h := range info.Holders {
				if h.Token < 1 || h.Token > layout.MaxHolders || h.Lag > info.Written {
					t.Fatalf("holder %+v of %+v", h, info)
				}
				attached++
			}
			if want := btoi(r != nil) + btoi(w != nil); scb.LockWords && attached != want {
				t.Fatalf("Stat lists %d holders, %d handles are attached: %+v", attached, want, info.Holders)
			}
		}
		popErrs := []error{scb.ErrEmpty, scb.ErrCorrupt, scb.ErrOverrun, scb.ErrRange, io.ErrShortBuffer, context.DeadlineExceeded}
		pop := func() {
			if r == nil {
				return
			}
			buf := make([]byte, r.ItemSize())
			_, err := r.Pop()
			allowed(t, "Pop", err, popErrs...)
			_, err = r.PopBytes(buf)
			allowed(t, "PopBytes", err, popErrs...)
			got, err := r.PopMany(3)
			allowed(t, "PopMany", err, popErrs...)
			if len(got) > 3 {
				t.Fatalf("PopMany(3) returned %d items", len(got))
			}
			ctx, cancel := context.WithTimeout(context.Background(), time.Millisecond)
			_, err = r.PopBytesWait(ctx, buf)
			cancel()
			allowed(t, "PopBytesWait", err, popErrs...)
			// Leases read the state words past the header, as found.
			_, l, err := r.Take()
			allowed(t, "Take", err, append(popErrs, scb.ErrUnsupported)...)
			if err == nil {
				allowed(t, "Ack", l.Ack(), scb.ErrCorrupt)
			}
			_, l, err = r.Take()
			allowed(t, "Take", err, append(popErrs, scb.ErrUnsupported)...)
			if err == nil {
				allowed(t, "GiveBack", l.GiveBack(), scb.ErrCorrupt)
			}
			if n := r.Len(); n < 0 || n > r.Cap() {
				t.Fatalf("reader Len %d, Cap %d", n, r.Cap())
			}
		}
		pop()
		if w != nil {
			pushErrs := []error{scb.ErrFull, scb.ErrCorrupt, scb.ErrRange, scb.ErrTooLarge}
			for i := range w.Cap() + 1 {
				allowed(t, "Push", w.Push(uint64(i)), pushErrs...)
				allowed(t, "PushBytes", w.PushBytes([]byte{byte(i)}), pushErrs...)
			}
			if n := w.Len(); n < 0 || n > w.Cap() {
				t.Fatalf("writer Len %d, Cap %d", n, w.Cap())
			}
		}
		pop()
		if r != nil {
			require.NoError(t, r.Close())
		}
		if w != nil {
			require.NoError(t, w.Close())
		}
	})
}

// --- FuzzOps ----------------------------------------------------------------

// opsState is one FuzzOps run: the handles, and the model they are checked
// against.
type opsState struct {
	t        *testing.T
	o        *scb.Options
	length   uint64
	itemSize int
	queue    bool
	fixed    bool // Options.FixedSize: byte items of another size are refused

	writers []*scb.Writer
	readers []*scb.Reader

	// The model. items holds every item ever written, by position; head is
	// len(items).
	items [][]byte
	tail  uint64         // Queue: the shared read cursor
	pos   []uint64       // Broadcast: each reader's cursor
	taken map[uint64]int // Queue: how many times each position was taken under a lease
}

func (s *opsState) head() uint64 { return uint64(len(s.items)) }

// fuzzOp is one kind of operation. arg is a byte of the program that the
// operation may use to choose a handle and its arguments. To add an
// operation (PushMany, PopInto, ...), add an entry to fuzzOps; programs in
// the corpus keep their meaning for the existing ones only if new entries
// are appended.
type fuzzOp struct {
	name string
	run  func(s *opsState, arg byte)
}

var fuzzOps = []fuzzOp{
	{"Push", opPush},
	{"PushBytes", opPushBytes},
	{"Pop", opPop},
	{"PopBytes", opPopBytes},
	{"PopMany", opPopMany},
	{"Writer.Len", opWriterLen},
	{"Reader.Len", opReaderLen},
	{"reopen writer", opReopenWriter},
	{"reopen reader", opReopenReader},
	{"PushMany", opPushMany},
	{"PopInto", opPopInto},
	{"PushBytesMany", opPushBytesMany},
	{"PopBytesInto", opPopBytesInto},
	{"Claim", opClaim},
	{"Peek", opPeek},
	{"Take+Ack", opTakeAck},
}

// batchValue is the j-th value of a batch chosen by arg: of every size in
// bytes, so that some are out of range for small items.
func batchValue(arg byte, j int) uint64 {
	return (uint64(arg) + uint64(j)*37) * 0x0101010101010101 >> (8 * (7 - (uint(arg)+uint(j))%9%8))
}

func opPushMany(s *opsState, arg byte) {
	w := s.writers[int(arg)%len(s.writers)]
	vs := make([]uint64, int(arg>>3)%6)
	for j := range vs {
		vs[j] = batchValue(arg, j)
	}
	n, err := w.PushMany(vs)
	var want error
	wantN := 0
	for _, v := range vs {
		if s.itemSize < 8 && v>>(8*uint(s.itemSize)) != 0 {
			want = scb.ErrRange
			break
		}
		if want = s.pushWant(modelUint(s.itemSize, v)); want != nil {
			break
		}
		wantN++
	}
	s.check("PushMany", err, want)
	require.Equal(s.t, wantN, n, "PushMany count")
}

// popBatch is the model of a batch read of up to k items by reader i: the
// items it returns (decoded with decode, which says whether an item can be
// returned), and the error: ErrEmpty if none is ready and k > 0, an overrun
// or decode's error only if it comes first.
func (s *opsState) popBatch(i, k int, fits func(item []byte) error) ([][]byte, error) {
	var got [][]byte
	for len(got) < k {
		item, e := s.next(i)
		if e == scb.ErrEmpty {
			if len(got) == 0 {
				return nil, scb.ErrEmpty
			}
			break
		}
		if e != nil {
			return nil, e // only possible before the first item
		}
		if err := fits(item); err != nil {
			if len(got) == 0 {
				return nil, err
			}
			break
		}
		got = append(got, item)
		s.advance(i)
	}
	return got, nil
}

func opPopInto(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	dst := make([]uint64, int(arg>>2)%6)
	n, err := s.readers[i].PopInto(dst)
	want, wantErr := s.popBatch(i, len(dst), func(item []byte) error {
		if _, ok := modelDecode(item); !ok {
			return scb.ErrRange
		}
		return nil
	})
	s.check("PopInto", err, wantErr)
	require.Equal(s.t, len(want), n, "PopInto count")
	for k, item := range want {
		v, _ := modelDecode(item)
		require.Equal(s.t, v, dst[k], "PopInto item %d", k)
	}
}

func opPushBytesMany(s *opsState, arg byte) {
	w := s.writers[int(arg)%len(s.writers)]
	items := make([][]byte, int(arg>>3)%5)
	for j := range items {
		items[j] = make([]byte, (int(arg)+j*3)%(s.itemSize+2))
		for k := range items[j] {
			items[j][k] = byte(int(arg) + j + k + len(s.items))
		}
	}
	n, err := w.PushBytesMany(items)
	var want error
	wantN := 0
	for _, it := range items {
		if want = s.sizeWant(len(it)); want != nil {
			break
		}
		if want = s.pushWant(slices.Clone(it)); want != nil {
			break
		}
		wantN++
	}
	s.check("PushBytesMany", err, want)
	require.Equal(s.t, wantN, n, "PushBytesMany count")
}

func opPopBytesInto(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	bufs := make([][]byte, int(arg>>2)%5)
	for j := range bufs {
		bufs[j] = make([]byte, 0, (int(arg)+5*j)%(s.itemSize+2))
	}
	caps := make([]int, len(bufs))
	for j := range bufs {
		caps[j] = cap(bufs[j])
	}
	n, err := s.readers[i].PopBytesInto(bufs)
	k := 0
	want, wantErr := s.popBatch(i, len(bufs), func(item []byte) error {
		if len(item) > caps[k] {
			return io.ErrShortBuffer
		}
		k++
		return nil
	})
	s.check("PopBytesInto", err, wantErr)
	require.Equal(s.t, len(want), n, "PopBytesInto count")
	for j, item := range want {
		require.Equal(s.t, item, bufs[j], "PopBytesInto item %d", j)
	}
}

// opClaim claims a slot, fills it in place, and commits part of it (or,
// for odd args, aborts): zero-copy writes, for Queue buffers only.
func opClaim(s *opsState, arg byte) {
	w := s.writers[int(arg)%len(s.writers)]
	p, err := w.Claim()
	switch {
	case !s.queue:
		require.ErrorIs(s.t, err, scb.ErrUnsupported, "Claim on Broadcast")
		return
	case s.head()-s.tail == s.length:
		s.check("Claim", err, scb.ErrFull)
		return
	}
	require.NoError(s.t, err, "Claim")
	require.Len(s.t, p, s.itemSize)
	for k := range p {
		p[k] = byte(int(arg) * (k + 1))
	}
	require.ErrorIs(s.t, w.Push(1), scb.ErrBusy, "other writes wait for the claim")
	if arg&1 == 1 {
		require.NoError(s.t, w.Abort())
		return
	}
	n := int(arg>>1) % (s.itemSize + 1)
	if s.fixed && n < s.itemSize {
		require.ErrorIs(s.t, w.Commit(n), scb.ErrRange, "Commit of %d bytes, fixed size %d", n, s.itemSize)
		if arg&2 == 0 {
			require.NoError(s.t, w.Abort(), "the claim stayed open")
			return
		}
		n = s.itemSize
	}
	item := slices.Clone(p[:n])
	require.NoError(s.t, w.Commit(n))
	require.NoError(s.t, s.pushWant(item))
}

// opPeek looks at the next item in place and releases it: zero-copy reads,
// for Queue buffers only.
func opPeek(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	r := s.readers[i]
	p, err := r.Peek()
	if !s.queue {
		require.ErrorIs(s.t, err, scb.ErrUnsupported, "Peek on Broadcast")
		return
	}
	item, want := s.next(i)
	s.check("Peek", err, want)
	if want != nil {
		return
	}
	require.Equal(s.t, item, p, "Peek")
	_, err = r.Pop()
	require.ErrorIs(s.t, err, scb.ErrBusy, "other reads wait for the release")
	require.NoError(s.t, r.Release())
	s.advance(i)
}

// modelUint is what Push(v) stores: v big-endian in ItemSize bytes.
func modelUint(size int, v uint64) []byte {
	b := make([]byte, max(size, 8))
	binary.BigEndian.PutUint64(b[len(b)-8:], v)
	return b[len(b)-size:]
}

// modelDecode is what Pop makes of an item: a big-endian integer, or false
// for an item longer than 8 bytes with a non-zero byte before the last 8.
func modelDecode(item []byte) (uint64, bool) {
	var v uint64
	for i, c := range item {
		if len(item)-i > 8 && c != 0 {
			return 0, false
		}
		v = v<<8 | uint64(c)
	}
	return v, true
}

// check compares an error with the model's expectation: nil, a sentinel
// (ErrFull and ErrEmpty unwrapped), or an overrun of lost items.
func (s *opsState) check(op string, got, want error) {
	s.t.Helper()
	var wantOver *scb.OverrunError
	switch {
	case want == nil:
		require.NoError(s.t, got, op)
	case want == scb.ErrFull || want == scb.ErrEmpty:
		require.Same(s.t, want, got, op)
	case errors.As(want, &wantOver):
		var over *scb.OverrunError
		require.ErrorAs(s.t, got, &over, op)
		require.Equal(s.t, wantOver.Lost, over.Lost, "%s: items lost", op)
	default:
		require.ErrorIs(s.t, got, want, op)
	}
}

// sizeWant is the model's answer to writing an item of n bytes, before
// the room: ErrTooLarge above ItemSize, ErrRange below it with fixed-size
// items, else nil.
func (s *opsState) sizeWant(n int) error {
	switch {
	case n > s.itemSize:
		return scb.ErrTooLarge
	case n < s.itemSize && s.fixed:
		return scb.ErrRange
	}
	return nil
}

// pushWant is the model's answer to pushing item: nil (and the item is
// added) or ErrFull.
func (s *opsState) pushWant(item []byte) error {
	if s.queue && s.head()-s.tail == s.length {
		return scb.ErrFull
	}
	s.items = append(s.items, item)
	return nil
}

func opPush(s *opsState, arg byte) {
	w := s.writers[int(arg)%len(s.writers)]
	v := uint64(arg) * 0x0101010101010101 >> (8 * (7 - uint(arg)%9%8))
	var want error
	if s.itemSize < 8 && v>>(8*uint(s.itemSize)) != 0 {
		want = scb.ErrRange
	} else {
		want = s.pushWant(modelUint(s.itemSize, v))
	}
	s.check("Push", w.Push(v), want)
}

func opPushBytes(s *opsState, arg byte) {
	w := s.writers[int(arg)%len(s.writers)]
	p := make([]byte, int(arg)%(s.itemSize+2))
	for i := range p {
		if arg&0x80 == 0 || i >= len(p)-8 {
			p[i] = byte(int(arg) + i + len(s.items))
		}
	}
	want := s.sizeWant(len(p))
	if want == nil {
		want = s.pushWant(slices.Clone(p))
	}
	s.check("PushBytes", w.PushBytes(p), want)
}

// next is the model's view of reader i's next item: the item, or the error
// a read gets first (ErrEmpty, or an overrun, after which the cursor has
// moved to the oldest item held).
func (s *opsState) next(i int) ([]byte, error) {
	h := s.head()
	if s.queue {
		if s.tail == h {
			return nil, scb.ErrEmpty
		}
		return s.items[s.tail], nil
	}
	p := s.pos[i]
	if p >= h {
		return nil, scb.ErrEmpty
	}
	if h > s.length && p < h-s.length {
		s.pos[i] = h - s.length
		return nil, &scb.OverrunError{Lost: h - s.length - p}
	}
	return s.items[p], nil
}

func (s *opsState) advance(i int) {
	if s.queue {
		s.tail++
	} else {
		s.pos[i]++
	}
}

func opPop(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	v, err := s.readers[i].Pop()
	item, want := s.next(i)
	if want == nil {
		wv, ok := modelDecode(item)
		if !ok {
			want = scb.ErrRange
		} else {
			s.advance(i)
			require.Equal(s.t, wv, v, "Pop")
		}
	}
	s.check("Pop", err, want)
}

func opPopBytes(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	dst := make([]byte, int(arg>>2)%(s.itemSize+2))
	n, err := s.readers[i].PopBytes(dst)
	item, want := s.next(i)
	if want == nil {
		if len(item) > len(dst) {
			want = io.ErrShortBuffer
		} else {
			s.advance(i)
			require.Equal(s.t, item, dst[:n], "PopBytes")
		}
	}
	s.check("PopBytes", err, want)
}

func opPopMany(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	n := int(arg>>2)%7 - 1
	got, err := s.readers[i].PopMany(n)
	require.NotNil(s.t, got, "PopMany returns a slice, even empty")
	var want []uint64
	var wantErr error
	for len(want) < n {
		item, e := s.next(i)
		if e == scb.ErrEmpty {
			if len(want) == 0 {
				wantErr = e // nothing ready: as Pop says
			}
			break
		}
		if e != nil {
			wantErr = e // an overrun is only reported if nothing was read
			break
		}
		v, ok := modelDecode(item)
		if !ok {
			if len(want) == 0 {
				wantErr = scb.ErrRange
			}
			break
		}
		want = append(want, v)
		s.advance(i)
	}
	s.check("PopMany", err, wantErr)
	require.Equal(s.t, len(want), len(got), "PopMany(%d): %v, want %v", n, got, want)
	for k := range want {
		require.Equal(s.t, want[k], got[k], "PopMany item %d", k)
	}
}

func opWriterLen(s *opsState, arg byte) {
	w := s.writers[int(arg)%len(s.writers)]
	want := min(s.head(), s.length)
	if s.queue {
		want = s.head() - s.tail
	}
	require.EqualValues(s.t, want, w.Len(), "Writer.Len")
}

func opReaderLen(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	var want uint64
	switch h := s.head(); {
	case s.queue:
		want = h - s.tail
	case h > s.pos[i]:
		want = min(h-s.pos[i], s.length)
	}
	require.EqualValues(s.t, want, s.readers[i].Len(), "Reader.Len")
}

func opReopenWriter(s *opsState, arg byte) {
	i := int(arg) % len(s.writers)
	w := s.writers[i]
	require.NoError(s.t, w.Close())
	require.ErrorIs(s.t, w.Push(1), scb.ErrClosed)
	require.NoError(s.t, w.Close(), "Close twice")
	w, err := scb.OpenWriter("ops", at(s.o))
	require.NoError(s.t, err, "the writer role is free after Close")
	s.writers[i] = w
}

func opReopenReader(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	r := s.readers[i]
	require.NoError(s.t, r.Close())
	_, err := r.Pop()
	require.ErrorIs(s.t, err, scb.ErrClosed)
	skip := arg&0x80 != 0
	r, err = scb.OpenReader("ops", &scb.Options{Dir: s.o.Dir, SkipBacklog: skip})
	require.NoError(s.t, err, "the reader role is free after Close")
	s.readers[i] = r
	if !s.queue {
		h := s.head()
		switch {
		case skip:
			s.pos[i] = h
		case h > s.length:
			s.pos[i] = h - s.length
		default:
			s.pos[i] = 0
		}
	}
}

// runOps runs prog (pairs of operation and argument bytes) on a buffer of
// the configuration cfg selects: bit 0 the strategy, bit 1 the mode, bit
// 2 fixed-size items.
func runOps(t *testing.T, cfg, length, itemSize byte, prog []byte) {
	s := &opsState{t: t, length: 2 + uint64(length%7), itemSize: 1 + int(itemSize%20)}
	if os.Getenv("SCB_FUZZ_DUMP") != "" {
		t.Logf("DUMP %d %d %d %q", cfg, length, itemSize, prog)
	}
	st, m := scb.Atomic, scb.Queue
	if cfg&1 != 0 {
		st = scb.Flock
	}
	if cfg&2 != 0 {
		m = scb.Broadcast
	}
	s.queue, s.fixed = m == scb.Queue, cfg&4 != 0
	s.o = &scb.Options{Dir: t.TempDir(), Strategy: st, Mode: m, Length: int(s.length), ItemSize: s.itemSize, FixedSize: s.fixed}
	w, err := scb.Create("ops", s.o)
	if errors.Is(err, scb.ErrUnsupported) {
		t.Skip(err)
	}
	require.NoError(t, err)
	s.writers = append(s.writers, w)
	nw, nr := 1, 2 // an Atomic buffer has one writer, and one Queue reader
	if st == scb.Flock {
		nw = 2
	} else if s.queue {
		nr = 1
	}
	for len(s.writers) < nw {
		w, err := scb.OpenWriter("ops", at(s.o))
		require.NoError(t, err)
		s.writers = append(s.writers, w)
	}
	for range nr {
		r, err := scb.OpenReader("ops", at(s.o))
		require.NoError(t, err)
		s.readers = append(s.readers, r)
		s.pos = append(s.pos, 0)
	}
	defer func() {
		for _, w := range s.writers {
			w.Close()
		}
		for _, r := range s.readers {
			r.Close()
		}
	}()
	for k := 0; k+1 < len(prog) && k < 2000; k += 2 {
		if os.Getenv("SCB_FUZZ_DEBUG") != "" {
			t.Logf("op %s arg %d", fuzzOps[int(prog[k])%len(fuzzOps)].name, prog[k+1])
		}
		fuzzOps[int(prog[k])%len(fuzzOps)].run(s, prog[k+1])
	}
}

// randomProgram returns n random operations.
func randomProgram(rng *rand.Rand, n int) []byte {
	p := make([]byte, 2*n)
	for i := range p {
		p[i] = byte(rng.UintN(256))
	}
	return p
}

func FuzzOps(f *testing.F) {
	rng := rand.New(rand.NewPCG(1, 2))
	for cfg := range byte(8) {
		for k := range 8 {
			f.Add(cfg, byte(k), byte(rng.UintN(256)), randomProgram(rng, 100+50*k))
		}
		// Fill, overrun and drain: Length 2, ItemSize 8.
		f.Add(cfg, byte(0), byte(7), []byte{0, 1, 0, 2, 0, 3, 0, 4, 0, 5, 2, 0, 4, 20, 6, 0, 3, 40, 2, 1})
	}
	f.Fuzz(runOps)
}

// TestWriteFuzzCorpus writes the seeds above to testdata/fuzz, where they
// stay fixed when the format or the operations change (so that old inputs
// keep being tried). It only runs with SCB_WRITE_CORPUS=1.
func TestWriteFuzzCorpus(t *testing.T) {
	if os.Getenv("SCB_WRITE_CORPUS") != "1" {
		t.Skip("set SCB_WRITE_CORPUS=1 to rewrite testdata/fuzz")
	}
	write := func(target string, i int, lines ...string) {
		dir := filepath.Join("testdata", "fuzz", target)
		require.NoError(t, os.MkdirAll(dir, 0o755))
		text := "go test fuzz v1\n"
		for _, l := range lines {
			text += l + "\n"
		}
		require.NoError(t, os.WriteFile(filepath.Join(dir, fmt.Sprintf("seed%02d", i)), []byte(text), 0o644))
	}
	for i, s := range openSeeds(t, t.TempDir()) {
		write("FuzzOpen", i, fmt.Sprintf("[]byte(%q)", s.header), fmt.Sprintf("[]byte(%q)", s.body), fmt.Sprintf("int16(%d)", s.delta))
	}
	rng := rand.New(rand.NewPCG(3, 4))
	for i := range 24 {
		cfg, length, size := byte(i%4), byte(rng.UintN(7)), byte(rng.UintN(20))
		if i >= 16 {
			cfg = byte(i % 8) // fixed-size items, bit 2
		}
		write("FuzzOps", i, fmt.Sprintf("byte(%q)", cfg), fmt.Sprintf("byte(%q)", length), fmt.Sprintf("byte(%q)", size),
			fmt.Sprintf("[]byte(%q)", randomProgram(rng, 200)))
	}
}

// opTakeAck takes the next item under a lease and acknowledges it, or,
// when arg's top bit is set, gives it back (it stays next, and counts one
// more delivery when taken again).
func opTakeAck(s *opsState, arg byte) {
	i := int(arg) % len(s.readers)
	v, l, err := s.readers[i].Take()
	if !s.queue {
		require.ErrorIs(s.t, err, scb.ErrUnsupported, "Take on Broadcast")
		return
	}
	item, want := s.next(i)
	if want == nil {
		if _, ok := modelDecode(item); !ok {
			want = scb.ErrRange
		}
	}
	s.check("Take", err, want)
	if want != nil {
		return
	}
	wv, _ := modelDecode(item)
	require.Equal(s.t, wv, v, "Take")
	if s.taken == nil {
		s.taken = map[uint64]int{}
	}
	s.taken[s.tail]++
	require.Equal(s.t, s.tail, l.Pos(), "Take: position")
	require.Equal(s.t, s.taken[s.tail], l.Deliveries(), "Take: deliveries of position %d", s.tail)
	if arg&0x80 != 0 {
		require.NoError(s.t, l.GiveBack())
		return
	}
	require.NoError(s.t, l.Ack())
	s.advance(i)
}
