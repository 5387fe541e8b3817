package scb_test

import (
	"context"
	"encoding/binary"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/internal/layout"
)

// reading is the sensor reading of the user's program: 26 bytes encoded,
// 32 in memory.
type reading struct {
	Sensor uint16
	Time   int64
	Value  float64
	Flags  uint64
}

// typedPair makes a TypedWriter and a TypedReader of T over w and r.
func typedPair[T any](t testing.TB, w *scb.Writer, r *scb.Reader) (*scb.TypedWriter[T], *scb.TypedReader[T]) {
	t.Helper()
	tw, err := scb.NewTypedWriter[T](w)
	require.NoError(t, err)
	tr, err := scb.NewTypedReader[T](r)
	require.NoError(t, err)
	return tw, tr
}

// TestTypedRoundTrip pushes and pops readings with every form, in every
// strategy and mode.
func TestTypedRoundTrip(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.ItemSize = 26
		w := create(t, "t", o)
		r := openReader(t, "t", at(o))
		tw, tr := typedPair[reading](t, w, r)
		assert.Equal(t, 26, tw.Size())
		assert.Equal(t, 26, tr.Size())
		assert.Same(t, w, tw.Writer())
		assert.Same(t, r, tr.Reader())

		in := []reading{
			{Sensor: 7, Time: -1, Value: math.Pi, Flags: 1 << 63},
			{Sensor: math.MaxUint16, Time: math.MinInt64, Value: math.Inf(-1)},
			{},
		}
		ctx := context.Background()
		require.NoError(t, tw.Push(in[0]))
		require.NoError(t, tw.PushWait(ctx, in[1]))
		//lint:ignore SA1012 a nil context means no limit, which is what is tested
		require.NoError(t, tw.PushWait(nil, in[2]))

		got, err := tr.Pop()
		require.NoError(t, err)
		assert.Equal(t, in[0], got)
		got, err = tr.PopWait(ctx)
		require.NoError(t, err)
		assert.Equal(t, in[1], got)
		var rest []reading
		for v, err := range tr.Values(done()) {
			if err != nil {
				require.ErrorIs(t, err, context.Canceled)
				assert.Zero(t, v)
				continue
			}
			rest = append(rest, v)
		}
		assert.Equal(t, in[2:], rest)
		_, err = tr.Pop()
		assert.Same(t, scb.ErrEmpty, err)
	})
}

type blanks struct {
	A byte
	_ [3]byte
	B int32
	_ uint16
}

type nested struct {
	Flag  bool
	Pairs [2]struct {
		X int8
		Y float32
	}
	C64   complex64
	C128  complex128
	Small [3]int16
	Bytes [5]byte
	Bools [2]bool
}

type private struct {
	a uint32
	b [2]uint64
}

// encodingCase checks, for one value, that a TypedWriter writes exactly
// what binary.Append with LittleEndian makes of it, and that a TypedReader
// reads binary.Append's bytes back as the value.
func encodingCase[T any](v T) func(t *testing.T) {
	return func(t *testing.T) {
		o := newOpts(t, scb.Atomic, scb.Queue)
		o.ItemSize = binary.Size(v)
		w := create(t, "e", o)
		r := openReader(t, "e", at(o))
		tw, tr := typedPair[T](t, w, r)
		want, err := binary.Append(nil, binary.LittleEndian, v)
		require.NoError(t, err)
		assert.Equal(t, len(want), tw.Size())

		require.NoError(t, tw.Push(v))
		buf := make([]byte, 128)
		n, err := r.PopBytes(buf)
		require.NoError(t, err)
		assert.Equal(t, want, buf[:n], "encoded as encoding/binary does, little-endian")

		require.NoError(t, w.PushBytes(want))
		got, err := tr.Pop()
		require.NoError(t, err)
		assert.Equal(t, v, got)
	}
}

// TestTypedEncoding: the bytes in the buffer are encoding/binary's, on
// every architecture, for every kind of fixed-size type.
func TestTypedEncoding(t *testing.T) {
	tests := []struct {
		name string
		run  func(t *testing.T)
	}{
		{"reading", encodingCase(reading{Sensor: 0x0102, Time: -2, Value: 1.5, Flags: 0x0a0b0c0d})},
		{"uint8", encodingCase(uint8(200))},
		{"int16", encodingCase(int16(-300))},
		{"float32", encodingCase(float32(-0.25))},
		{"bool", encodingCase(true)},
		{"array", encodingCase([3]int32{-1, 2, math.MaxInt32})},
		{"complex128", encodingCase(complex(1.5, -2))},
		{"blank fields", encodingCase(blanks{A: 9, B: -7})},
		{"nested", encodingCase(nested{
			Flag: true,
			Pairs: [2]struct {
				X int8
				Y float32
			}{{-3, 0.5}, {4, math.MaxFloat32}},
			C64: complex(1, 2), C128: complex(-3, 4),
			Small: [3]int16{-1, 0, 1}, Bytes: [5]byte{1, 2, 3, 4, 5}, Bools: [2]bool{false, true},
		})},
		{"unexported fields", func(t *testing.T) {
			// encoding/binary cannot decode into unexported fields; the
			// bytes are still its encoding.
			o := newOpts(t, scb.Flock, scb.Broadcast)
			o.ItemSize = 20
			w := create(t, "p", o)
			r := openReader(t, "p", at(o))
			tw, tr := typedPair[private](t, w, r)
			v := private{a: 1, b: [2]uint64{2, 3}}
			require.NoError(t, tw.Push(v))
			got, err := tr.Pop()
			require.NoError(t, err)
			assert.Equal(t, v, got)
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, tt.run)
	}
}

// TestTypedBoolDecoding: any byte but 0 decodes as true, as in
// encoding/binary.
func TestTypedBoolDecoding(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Queue)
	o.ItemSize = 3
	w := create(t, "b", o)
	r := openReader(t, "b", at(o))
	tr, err := scb.NewTypedReader[[3]bool](r)
	require.NoError(t, err)
	require.NoError(t, w.PushBytes([]byte{0, 1, 0xff}))
	got, err := tr.Pop()
	require.NoError(t, err)
	assert.Equal(t, [3]bool{false, true, true}, got)
}

// TestTypedRefusesTypes: a T that is not fixed-size, or that does not fit
// in an item, is refused by the constructors with an error, never a panic.
func TestTypedRefusesTypes(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Queue) // ItemSize 8
	w := create(t, "r", o)
	r := openReader(t, "r", at(o))
	type withInt struct{ A int }
	type withSlice struct{ A []byte }
	tests := []struct {
		name     string
		writer   func() error
		reader   func() error
		tooLarge bool
	}{
		{"int", typedErrs[int](w, r), nil, false},
		{"string", typedErrs[string](w, r), nil, false},
		{"slice", typedErrs[[]byte](w, r), nil, false},
		{"pointer", typedErrs[*reading](w, r), nil, false},
		{"interface", typedErrs[any](w, r), nil, false},
		{"map", typedErrs[map[int8]int8](w, r), nil, false},
		{"struct with int", typedErrs[withInt](w, r), nil, false},
		{"struct with slice", typedErrs[withSlice](w, r), nil, false},
		{"empty struct", typedErrs[struct{}](w, r), nil, false},
		{"empty array", typedErrs[[0]uint64](w, r), nil, false},
		{"too large", typedErrs[reading](w, r), nil, true},
		{"nil handles", func() error {
			_, err := scb.NewTypedWriter[uint64](nil)
			return err
		}, func() error {
			_, err := scb.NewTypedReader[uint64](nil)
			return err
		}, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			for _, f := range []func() error{tt.writer, tt.reader} {
				if f == nil {
					continue
				}
				err := f()
				require.ErrorIs(t, err, scb.ErrInvalidOptions)
				assert.Equal(t, tt.tooLarge, errorsIs(err, scb.ErrTooLarge), err.Error())
			}
		})
	}
	_, err := scb.NewTypedWriter[[8]byte](w)
	assert.NoError(t, err, "a T of exactly ItemSize fits")
}

// typedErrs returns a function that makes a TypedWriter and a TypedReader
// for T and returns the first error (or, if the two disagree, a failure).
func typedErrs[T any](w *scb.Writer, r *scb.Reader) func() error {
	return func() error {
		_, werr := scb.NewTypedWriter[T](w)
		_, rerr := scb.NewTypedReader[T](r)
		if (werr == nil) != (rerr == nil) {
			return nil
		}
		return werr
	}
}

// TestTypedWrongLength: an item that is not binary.Size(T) bytes long is
// consumed and reported with ErrRange; the next value reads normally, and
// the iterator ends at it.
func TestTypedWrongLength(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.ItemSize = 26
		w := create(t, "l", o)
		r := openReader(t, "l", at(o))
		tw, tr := typedPair[reading](t, w, r)
		require.NoError(t, w.PushBytes([]byte("short")))
		require.NoError(t, w.PushBytes(make([]byte, 25)))
		require.NoError(t, tw.Push(reading{Sensor: 1}))
		_, err := tr.Pop()
		require.ErrorIs(t, err, scb.ErrRange)
		assert.Contains(t, err.Error(), "item of 5 bytes is not a scb_test.reading of 26")
		n := 0
		for v, err := range tr.Values(done()) {
			n++
			require.ErrorIs(t, err, scb.ErrRange, "the loop ends at the wrong item")
			assert.Zero(t, v)
		}
		assert.Equal(t, 1, n)
		v, err := tr.Pop()
		require.NoError(t, err)
		assert.Equal(t, reading{Sensor: 1}, v)
	})
}

// TestTypedOverrun: typed reads report Broadcast overruns as Pop does.
func TestTypedOverrun(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Broadcast)
	o.Length, o.ItemSize = 2, 26
	w := create(t, "o", o)
	r := openReader(t, "o", at(o))
	tw, tr := typedPair[reading](t, w, r)
	for i := range 5 {
		require.NoError(t, tw.Push(reading{Sensor: uint16(i)}))
	}
	_, err := tr.Pop()
	require.ErrorIs(t, err, scb.ErrOverrun)
	var got []uint16
	for v, err := range tr.Values(done()) {
		if err == nil {
			got = append(got, v.Sensor)
		}
	}
	assert.Equal(t, []uint16{3, 4}, got)
}

// big is larger than what typed calls encode on their stack.
type big struct {
	ID   uint64
	Data [300]byte
}

// TestTypedNoAllocations: typed pushes and pops allocate nothing, small
// values and large ones alike.
func TestTypedNoAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("the race detector allocates")
	}
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 256
		tw, err := scb.CreateTyped[reading]("a", o)
		require.NoError(t, err)
		defer tw.Close()
		bw, err := scb.CreateTyped[big]("b", o)
		require.NoError(t, err)
		defer bw.Close()
		r, br0 := openReader(t, "a", at(o)), openReader(t, "b", at(o))
		tr, err := scb.NewTypedReader[reading](r)
		require.NoError(t, err)
		br, err := scb.NewTypedReader[big](br0)
		require.NoError(t, err)
		ctx := context.Background()
		rd, bg := reading{Sensor: 1, Value: 2}, big{ID: 3}
		rds, got := make([]reading, 64), make([]reading, 64)
		calls := map[string]func(){
			"Push/Pop":                 func() { tw.Push(rd); tr.Pop() },
			"PushWait/PopWait":         func() { tw.PushWait(ctx, rd); tr.PopWait(ctx) },
			"big Push/Pop":             func() { bw.Push(bg); br.Pop() },
			"big Wait":                 func() { bw.PushWait(ctx, bg); br.PopWait(ctx) },
			"empty":                    func() { tr.Pop() },
			"PushMany/PopInto":         func() { tw.PushMany(rds); tr.PopInto(got) },
			"PushManyWait/PopIntoWait": func() { tw.PushManyWait(ctx, rds); tr.PopIntoWait(ctx, got) },
		}
		for name, f := range calls {
			f() // warm up
			assert.Zero(t, testing.AllocsPerRun(100, f), name)
		}
		require.Zero(t, r.Len())
	})
}

// BenchmarkTyped compares a 26-byte reading pushed and popped through
// TypedWriter and TypedReader with the same reading marshalled by hand
// into PushBytes and out of PopBytes, and with encoding/binary's
// reflection (binary.Encode and binary.Decode), one goroutine, as
// BenchmarkOps measures.
func BenchmarkTyped(b *testing.B) {
	ctx := context.Background()
	for _, s := range []scb.Strategy{scb.Atomic, scb.Flock} {
		b.Run(s.String(), func(b *testing.B) {
			dir := b.TempDir()
			w, err := scb.Create("typed", &scb.Options{Dir: dir, Strategy: s, Length: 256, ItemSize: 26})
			if err != nil {
				b.Fatal(err)
			}
			defer w.Close()
			r, err := scb.OpenReader("typed", &scb.Options{Dir: dir})
			if err != nil {
				b.Fatal(err)
			}
			defer r.Close()
			in := reading{Sensor: 7, Time: 1, Value: 2.5, Flags: 3}
			b.Run("typed", func(b *testing.B) {
				tw, _ := scb.NewTypedWriter[reading](w)
				tr, _ := scb.NewTypedReader[reading](r)
				b.ReportAllocs()
				for i := range b.N {
					in.Time = int64(i)
					if err := tw.PushWait(ctx, in); err != nil {
						b.Fatal(err)
					}
					out, err := tr.PopWait(ctx)
					if err != nil || out != in {
						b.Fatal(err, out)
					}
				}
			})
			b.Run("hand", func(b *testing.B) {
				var p, q [26]byte
				le := binary.LittleEndian
				b.ReportAllocs()
				for i := range b.N {
					in.Time = int64(i)
					le.PutUint16(p[0:], in.Sensor)
					le.PutUint64(p[2:], uint64(in.Time))
					le.PutUint64(p[10:], math.Float64bits(in.Value))
					le.PutUint64(p[18:], in.Flags)
					if err := w.PushBytesWait(ctx, p[:]); err != nil {
						b.Fatal(err)
					}
					n, err := r.PopBytesWait(ctx, q[:])
					if err != nil || n != 26 {
						b.Fatal(err, n)
					}
					out := reading{
						Sensor: le.Uint16(q[0:]),
						Time:   int64(le.Uint64(q[2:])),
						Value:  math.Float64frombits(le.Uint64(q[10:])),
						Flags:  le.Uint64(q[18:]),
					}
					if out != in {
						b.Fatal(out)
					}
				}
			})
			b.Run("binary.Encode", func(b *testing.B) {
				p, q := make([]byte, 26), make([]byte, 26)
				var out reading
				b.ReportAllocs()
				for i := range b.N {
					in.Time = int64(i)
					if _, err := binary.Encode(p, binary.LittleEndian, &in); err != nil {
						b.Fatal(err)
					}
					if err := w.PushBytesWait(ctx, p); err != nil {
						b.Fatal(err)
					}
					if _, err := r.PopBytesWait(ctx, q); err != nil {
						b.Fatal(err)
					}
					if _, err := binary.Decode(q, binary.LittleEndian, &out); err != nil || out != in {
						b.Fatal(err, out)
					}
				}
			})
		})
	}
}

// TestTypedHugeTypes: a type far larger than an item is refused at once,
// without walking all of it, and one that is not fixed-size even so.
func TestTypedHugeTypes(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "h", o)
	type pair struct {
		A uint8
		B uint16
	}
	start := time.Now()
	_, err := scb.NewTypedWriter[[1 << 24]pair](w)
	require.ErrorIs(t, err, scb.ErrTooLarge)
	_, err = scb.NewTypedWriter[[1 << 24]uint64](w)
	require.ErrorIs(t, err, scb.ErrTooLarge)
	_, err = scb.NewTypedWriter[[1 << 24]struct{ A int }](w)
	require.ErrorIs(t, err, scb.ErrInvalidOptions)
	assert.Less(t, time.Since(start), 5*time.Second)
}

// TestTypedTake: typed items under leases, given back and acknowledged,
// without allocating.
func TestTypedTake(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		o.ItemSize = 26
		w := create(t, "t", o)
		r := openReader(t, "t", at(o))
		tw, tr := typedPair[reading](t, w, r)
		in := reading{Sensor: 7, Time: 42, Value: math.E}
		require.NoError(t, tw.Push(in))
		got, l, err := tr.Take()
		require.NoError(t, err)
		assert.Equal(t, in, got)
		require.NoError(t, l.GiveBack())
		ctx := context.Background()
		got, l, err = tr.TakeWait(ctx)
		require.NoError(t, err)
		assert.Equal(t, in, got)
		assert.Equal(t, 2, l.Deliveries())
		assert.Equal(t, uint64(0), l.Pos())
		require.NoError(t, l.Ack())
		_, _, err = tr.Take()
		assert.Same(t, scb.ErrEmpty, err)

		require.NoError(t, w.PushBytes([]byte("short")))
		_, _, err = tr.Take()
		require.ErrorIs(t, err, scb.ErrRange, "an item of another size")
		assert.Zero(t, r.Len(), "and it is consumed, as Pop consumes it")

		if !raceEnabled {
			allocs := testing.AllocsPerRun(100, func() {
				tw.Push(in)
				_, l, _ := tr.Take()
				l.Ack()
			})
			assert.Zero(t, allocs)
		}
	})
}

// TestCreateTyped: a typed buffer is made without computing its size:
// ItemSize is T's, and the items are fixed-size; an ItemSize that is not
// T's, or a T that is not fixed-size, is refused before anything is made.
func TestCreateTyped(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		tw, err := scb.CreateTyped[reading]("r", o)
		require.NoError(t, err)
		defer tw.Close()
		info, err := scb.Stat("r", at(o))
		require.NoError(t, err)
		assert.Equal(t, 26, info.ItemSize)
		assert.True(t, info.FixedSize)
		assert.Equal(t, 26, tw.Size())
		assert.Zero(t, o.ItemSize, "the caller's Options are not written")

		o.ItemSize = 32
		_, err = scb.CreateTyped[reading]("other", o)
		require.ErrorIs(t, err, scb.ErrInvalidOptions)
		assert.ErrorContains(t, err, "ItemSize 32, but scb_test.reading is 26 bytes")
		o.ItemSize = 0
		_, err = scb.CreateTyped[struct{ A int }]("other", o)
		require.ErrorIs(t, err, scb.ErrInvalidOptions)
		_, err = scb.Stat("other", at(o))
		require.ErrorIs(t, err, scb.ErrNotExist, "nothing was made")
	})
}

// TestTypedSizeMismatchAtOpen: a typed handle whose type is not the
// buffer's item size is refused when it is made, with both sizes exactly,
// and no item is consumed.
func TestTypedSizeMismatchAtOpen(t *testing.T) {
	type small struct{ A, B, C uint32 } // 12 bytes
	type big32 [4]uint64                // exactly 32 bytes
	o := newOpts(t, scb.Flock, scb.Queue)
	o.ItemSize = 20
	w := create(t, "m", o)
	r := openReader(t, "m", at(o))
	require.NoError(t, w.PushBytes(make([]byte, 20)))

	_, err := scb.NewTypedReader[small](r)
	require.ErrorIs(t, err, scb.ErrInvalidOptions)
	require.ErrorIs(t, err, scb.ErrRange)
	assert.ErrorContains(t, err, "scb_test.small is 12 bytes, the buffer's items are 20 bytes (ItemSize)")
	_, err = scb.NewTypedWriter[small](w)
	require.ErrorIs(t, err, scb.ErrInvalidOptions)

	_, err = scb.NewTypedReader[big32](r)
	require.ErrorIs(t, err, scb.ErrTooLarge)
	assert.ErrorContains(t, err, "scb_test.big32 is 32 bytes, the buffer's items are 20 bytes", "the exact size, not '32 bytes or more'")
	assert.Equal(t, 1, r.Len(), "no item was consumed")
}

// TestTypedEndToEnd: every writer and reader call has its typed form:
// batches across chunks and the ring's end, the end of stream, Close.
func TestTypedEndToEnd(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 200
		tw, err := scb.CreateTyped[reading]("e", o)
		require.NoError(t, err)
		r := openReader(t, "e", at(o))
		tr, err := scb.NewTypedReader[reading](r)
		require.NoError(t, err)

		in := make([]reading, 150) // three chunks of a batch call
		for i := range in {
			in[i] = reading{Sensor: uint16(i), Time: int64(-i), Value: float64(i) / 4}
		}
		n, err := tw.PushMany(in)
		require.NoError(t, err)
		require.Equal(t, 150, n)
		got := make([]reading, 100)
		k, err := tr.PopInto(got)
		require.NoError(t, err)
		require.Equal(t, 64, k, "one chunk per call")
		var all []reading
		all = append(all, got[:k]...)
		for len(all) < 150 {
			k, err := tr.PopIntoWait(context.Background(), got)
			require.NoError(t, err)
			all = append(all, got[:k]...)
		}
		assert.Equal(t, in, all)
		_, err = tr.PopInto(got)
		require.ErrorIs(t, err, scb.ErrEmpty)

		// Across the ring's end (200 slots), then the end of stream.
		n, err = tw.PushManyWait(context.Background(), in[:100])
		require.NoError(t, err)
		require.Equal(t, 100, n)
		require.NoError(t, tw.CloseWrite())
		var rest []reading
		for v, err := range tr.Values(context.Background()) {
			require.NoError(t, err)
			rest = append(rest, v)
		}
		assert.Equal(t, in[:100], rest)
		_, err = tr.PopInto(got)
		require.ErrorIs(t, err, io.EOF)
		require.NoError(t, tr.Close())
		_, err = tr.Pop()
		require.ErrorIs(t, err, scb.ErrClosed)
	})
}

// TestTypedPopIntoSkipsWrongItems: items of another length, which only an
// untyped writer of a buffer without FixedSize can make, are consumed and
// skipped by a batch read, which says so with ErrRange.
func TestTypedPopIntoSkipsWrongItems(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	o.ItemSize = 26
	w := create(t, "s", o)
	r := openReader(t, "s", at(o))
	tw, tr := typedPair[reading](t, w, r)
	require.NoError(t, tw.Push(reading{Sensor: 1}))
	require.NoError(t, w.PushBytes([]byte("short")))
	require.NoError(t, tw.Push(reading{Sensor: 2}))
	got := make([]reading, 8)
	n, err := tr.PopInto(got)
	require.ErrorIs(t, err, scb.ErrRange)
	assert.ErrorContains(t, err, "1 of 3 items were not a scb_test.reading of 26 bytes")
	assert.Equal(t, []reading{{Sensor: 1}, {Sensor: 2}}, got[:n])
	assert.Zero(t, r.Len())
}

// sameAsReading is reading declared again, as another program would: the
// same name (scb_test.reading is what both print as, from a function of
// their own) and layout.
func sameAsReading() func(t *testing.T, r *scb.Reader) error {
	type reading struct {
		Sensor uint16
		Time   int64
		Value  float64
		Flags  uint64
	}
	return func(t *testing.T, r *scb.Reader) error {
		tr, err := scb.NewTypedReader[reading](r)
		if err == nil {
			var v reading
			v, err = tr.Pop()
			assert.Equal(t, reading{Sensor: 1, Time: 2, Value: 3, Flags: 4}, v)
		}
		return err
	}
}

// TestTypedFingerprint: a buffer made by CreateTyped records its type, and
// a typed handle of another type of the same size is refused when it is
// made, naming both types; one of the same name and layout, declared
// elsewhere, and untyped handles are not.
func TestTypedFingerprint(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		tw, err := scb.CreateTyped[reading]("r", o)
		require.NoError(t, err)
		defer tw.Close()
		r := openReader(t, "r", at(o))
		require.NoError(t, tw.Push(reading{Sensor: 1, Time: 2, Value: 3, Flags: 4}))
		info, err := scb.Stat("r", at(o))
		require.NoError(t, err)
		assert.Equal(t, "scb_test.reading", info.Type)

		type other struct { // 26 bytes too
			A uint16
			B [3]uint64
		}
		type swapped struct { // reading's fields, two in another order
			Sensor uint16
			Value  float64
			Time   int64
			Flags  uint64
		}
		type renamed struct { // reading's layout under another name
			Sensor uint16
			Time   int64
			Value  float64
			Flags  uint64
		}
		for _, tc := range []struct {
			name string
			open func() error
			want string
		}{
			{"other reader", func() error { _, err := scb.NewTypedReader[other](r); return err }, "made for values of type scb_test.reading, not scb_test.other"},
			{"swapped reader", func() error { _, err := scb.NewTypedReader[swapped](r); return err }, "not scb_test.swapped"},
			{"renamed reader", func() error { _, err := scb.NewTypedReader[renamed](r); return err }, "not scb_test.renamed"},
			{"bytes reader", func() error { _, err := scb.NewTypedReader[[26]byte](r); return err }, "not [26]uint8"},
			{"other writer", func() error { _, err := scb.NewTypedWriter[other](tw.Writer()); return err }, "not scb_test.other"},
		} {
			t.Run(tc.name, func(t *testing.T) {
				err := tc.open()
				require.ErrorIs(t, err, scb.ErrMismatch)
				assert.ErrorContains(t, err, tc.want)
				assert.True(t, strings.HasPrefix(err.Error(), "scb: "), err.Error())
			})
		}
		assert.Equal(t, 1, r.Len(), "nothing was consumed")
		require.NoError(t, sameAsReading()(t, r), "the same type declared again")
	})
}

// TestTypedUntypedBuffer: a buffer made by Create records no type, and
// typed handles of any type of its item size open it, as before.
func TestTypedUntypedBuffer(t *testing.T) {
	o := newOpts(t, scb.Flock, scb.Queue)
	o.ItemSize, o.FixedSize = 26, true
	w := create(t, "u", o)
	r := openReader(t, "u", at(o))
	info, err := scb.Stat("u", at(o))
	require.NoError(t, err)
	assert.Empty(t, info.Type)
	tw, err := scb.NewTypedWriter[reading](w)
	require.NoError(t, err)
	require.NoError(t, tw.Push(reading{Sensor: 1, Time: 2, Value: 3, Flags: 4}))
	_, err = scb.NewTypedReader[[26]byte](r)
	require.NoError(t, err)
	require.NoError(t, sameAsReading()(t, r))
}

// TestTypedDamagedRecord: a type record that no CreateTyped wrote is
// ErrCorrupt for typed handles and Stat, never a panic or a type
// believed; untyped handles do not read it.
func TestTypedDamagedRecord(t *testing.T) {
	for _, tc := range []struct {
		name string
		put  func(line []byte)
	}{
		{"name too long", func(line []byte) { line[layout.OffTypeLen-layout.OffTypeSum] = 200 }},
		{"name without fingerprint", func(line []byte) { clear(line[:8]) }},
		{"bytes past the name", func(line []byte) { line[layout.LineSize-1] = 1 }},
		{"not UTF-8", func(line []byte) { line[layout.OffTypeName-layout.OffTypeSum] = 0xff }},
	} {
		t.Run(tc.name, func(t *testing.T) {
			o := newOpts(t, scb.Flock, scb.Queue)
			tw, err := scb.CreateTyped[reading]("d", o)
			require.NoError(t, err)
			require.NoError(t, tw.Close())
			path := filepath.Join(o.Dir, "d.scb")
			f, err := os.OpenFile(path, os.O_RDWR, 0)
			require.NoError(t, err)
			line := make([]byte, layout.LineSize)
			_, err = f.ReadAt(line, layout.OffTypeSum)
			require.NoError(t, err)
			tc.put(line)
			_, err = f.WriteAt(line, layout.OffTypeSum)
			require.NoError(t, err)
			require.NoError(t, f.Close())

			r := openReader(t, "d", at(o))
			_, err = scb.NewTypedReader[reading](r)
			require.ErrorIs(t, err, scb.ErrCorrupt)
			_, err = scb.Stat("d", at(o))
			require.ErrorIs(t, err, scb.ErrCorrupt)
		})
	}
}
