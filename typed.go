package scb

import (
	"context"
	"encoding/binary"
	"fmt"
	"hash/fnv"
	"iter"
	"math"
	"reflect"
	"strings"
	"sync"
	"unsafe"

	"github.com/sharedcbuff/scb/internal/layout"
)

// TypedWriter writes values of a fixed-size type T as items: each value is
// one item of exactly binary.Size(T) bytes, encoded as encoding/binary
// encodes it with binary.LittleEndian (fields in order, packed, no
// padding; blank fields written as zeros; bool as one byte 0 or 1), on
// every architecture. Get one from NewTypedWriter; it is a thin layer over
// its Writer, which keeps its own rules: a TypedWriter over an Atomic
// Writer is for one goroutine at a time, one over a Flock Writer is safe
// for concurrent use. Push allocates nothing.
type TypedWriter[T any] struct {
	w *Writer
	c *codec
}

// TypedReader reads values of a fixed-size type T written by a
// TypedWriter[T] (or by anything that writes binary.Size(T) bytes in
// encoding/binary's little-endian form). Get one from NewTypedReader. Like
// TypedWriter it keeps its Reader's concurrency rules, and Pop allocates
// nothing.
type TypedReader[T any] struct {
	r *Reader
	c *codec
}

// CreateTyped makes a new buffer called name for values of type T, as
// Create does, and returns a TypedWriter attached to it: ItemSize is
// binary.Size(T), computed here, and FixedSize is set, so slots hold the
// values and nothing else. opts may leave ItemSize zero; any other value
// than T's size is ErrInvalidOptions. Readers open the buffer as any
// other (OpenReader, OpenReaderWait) and read with NewTypedReader[T];
// the conditions on T are NewTypedWriter's.
func CreateTyped[T any](name string, opts *Options) (*TypedWriter[T], error) {
	t := reflect.TypeFor[T]()
	size, ok := encodedSize(t)
	switch {
	case !ok || size <= 0:
		return nil, opError("create", name, optionsf("%s is not a fixed-size type of at least one byte, as encoding/binary defines them", t))
	case size > layout.MaxItemSize:
		return nil, opError("create", name, optionsf("%s is %d bytes, above the largest item, %d bytes", t, size, layout.MaxItemSize))
	}
	var o Options
	if opts != nil {
		o = *opts
	}
	if o.ItemSize != 0 && o.ItemSize != size {
		return nil, opError("create", name, optionsf("ItemSize %d, but %s is %d bytes (leave ItemSize zero)", o.ItemSize, t, size))
	}
	o.ItemSize, o.FixedSize = size, true
	c, err := codecFor[T](name, size)
	if err != nil {
		return nil, err
	}
	w, err := create(name, &o, layout.NewTypeRecord(c.sum, t.String()))
	if err != nil {
		return nil, opError("create", name, err)
	}
	tw, err := NewTypedWriter[T](w)
	if err != nil {
		w.Close()
		return nil, err
	}
	return tw, nil
}

// NewTypedWriter returns a TypedWriter for values of type T over w. T must
// be a fixed-size type in the sense of encoding/binary (binary.Size of a T
// is above 0): a bool, a sized integer, float or complex type, or an array
// or struct of such, with no int, uint, uintptr, pointer, string, slice,
// map, interface, channel or function anywhere inside. Any other T, a T
// of another size than w's ItemSize, or a nil w, is an error matching
// ErrInvalidOptions (and ErrTooLarge for a T that does not fit, ErrRange
// for one smaller), checked here once: it never panics. A buffer made for
// T by CreateTyped has T's size, and records T: a typed handle of another
// type (another name, size or field layout; see Info.Type) is an error
// matching ErrMismatch, which names both types. A buffer made by Create
// records no type, and a T of its item size is enough.
func NewTypedWriter[T any](w *Writer) (*TypedWriter[T], error) {
	if w == nil {
		return nil, optionsf("NewTypedWriter: nil Writer")
	}
	c, err := codecFor[T](w.name, w.lay.ItemSize)
	if err == nil {
		err = c.fits(w.name, &w.lay)
	}
	if err == nil {
		err = c.matches(w.name, &w.lay)
	}
	if err != nil {
		return nil, err
	}
	return &TypedWriter[T]{w: w, c: c}, nil
}

// NewTypedReader returns a TypedReader for values of type T over r, with
// the same conditions on T as NewTypedWriter.
func NewTypedReader[T any](r *Reader) (*TypedReader[T], error) {
	if r == nil {
		return nil, optionsf("NewTypedReader: nil Reader")
	}
	c, err := codecFor[T](r.name, r.lay.ItemSize)
	if err == nil {
		err = c.fits(r.name, &r.lay)
	}
	if err == nil {
		err = c.matches(r.name, &r.lay)
	}
	if err != nil {
		return nil, err
	}
	return &TypedReader[T]{r: r, c: c}, nil
}

// Push writes v as one item. It behaves as Writer.PushBytes: it never
// waits for room, and returns ErrFull (unwrapped) when a Queue buffer is
// full.
func (t *TypedWriter[T]) Push(v T) error {
	return t.push(noWait, &v)
}

// PushWait is Push that waits for room while a Queue buffer is full, until
// ctx is done (it then returns ctx's error, wrapped). With ctx already done
// it still writes v if there is room now.
func (t *TypedWriter[T]) PushWait(ctx context.Context, v T) error {
	return t.push(orBackground(ctx), &v)
}

func (t *TypedWriter[T]) push(ctx context.Context, v *T) error {
	if stackItems && t.c.size <= stackItem {
		var a [stackItem]byte
		b := a[:t.c.size]
		t.c.encode(b, unsafe.Pointer(v))
		return t.w.pushBytes(ctx, b)
	}
	bp := t.c.get()
	b := (*bp)[:t.c.size]
	t.c.encode(b, unsafe.Pointer(v))
	err := t.w.pushBytes(ctx, b)
	t.c.put(bp)
	return err
}

// pushBytes is PushBytes with noWait, PushBytesWait otherwise.
func (w *Writer) pushBytes(ctx context.Context, p []byte) error {
	if ctx == noWait {
		return w.PushBytes(p)
	}
	return w.PushBytesWait(ctx, p)
}

// PushMany writes as many values of vs as there is room for, in order,
// and returns how many it wrote; fewer than len(vs) with ErrFull
// (unwrapped) when a Queue buffer filled up. Values go in chunks of up to
// 64 (fewer for values over 1 KiB), each made visible to readers at once,
// as Writer.PushBytesMany does. It allocates nothing.
func (t *TypedWriter[T]) PushMany(vs []T) (int, error) {
	return t.pushMany(noWait, vs)
}

// PushManyWait is PushMany that waits for room until all of vs is written
// or ctx is done. With ctx already done it still writes what there is
// room for now.
func (t *TypedWriter[T]) PushManyWait(ctx context.Context, vs []T) (int, error) {
	return t.pushMany(orBackground(ctx), vs)
}

func (t *TypedWriter[T]) pushMany(ctx context.Context, vs []T) (int, error) {
	bb := t.c.getBatch()
	defer t.c.batch.Put(bb)
	buf, views, k := bb.buf, &bb.views, t.c.batchLen()
	done := 0
	for done < len(vs) {
		n := min(len(vs)-done, k)
		for i := range n {
			b := buf[i*t.c.size : (i+1)*t.c.size]
			t.c.encode(b, unsafe.Pointer(&vs[done+i]))
			views[i] = b
		}
		var wrote int
		var err error
		if ctx == noWait {
			wrote, err = t.w.PushBytesMany(views[:n])
		} else {
			wrote, err = t.w.PushBytesManyWait(ctx, views[:n])
		}
		done += wrote
		if err != nil {
			return done, err
		}
	}
	return done, nil
}

// Close closes t's Writer (Writer.Close).
func (t *TypedWriter[T]) Close() error { return t.w.Close() }

// CloseWrite ends the stream and closes t's Writer (Writer.CloseWrite):
// readers get io.EOF once they have read every value.
func (t *TypedWriter[T]) CloseWrite() error { return t.w.CloseWrite() }

// Writer returns the Writer that t writes with.
func (t *TypedWriter[T]) Writer() *Writer { return t.w }

// Pop reads one item and decodes it as a T. It behaves as Reader.PopBytes:
// it never waits for an item, returns ErrEmpty (unwrapped) when there is
// none, and in Broadcast mode reports an overrun with an error matching
// ErrOverrun, after which the next Pop returns the oldest item still held.
// An item whose length is not binary.Size(T) is consumed and reported with
// an error matching ErrRange. On any error the value is T's zero value.
func (t *TypedReader[T]) Pop() (T, error) {
	return t.pop(noWait)
}

// PopWait is Pop that waits for an item while the buffer is empty, until
// ctx is done (it then returns ctx's error, wrapped). With ctx already done
// it still returns an item that is ready.
func (t *TypedReader[T]) PopWait(ctx context.Context) (T, error) {
	return t.pop(orBackground(ctx))
}

// Take takes the next item under a lease and decodes it as a T: Pop's
// decoding and Reader.Take's lease (the item is consumed only when the
// lease is acknowledged). An item whose length is not binary.Size(T) is
// acknowledged (it can never be read as a T) and reported with an error
// matching ErrRange.
func (t *TypedReader[T]) Take() (T, Lease, error) {
	return t.take(noWait)
}

// TakeWait is Take that waits for an item while there is none to take,
// until ctx is done.
func (t *TypedReader[T]) TakeWait(ctx context.Context) (T, Lease, error) {
	return t.take(orBackground(ctx))
}

func (t *TypedReader[T]) take(ctx context.Context) (T, Lease, error) {
	var v T
	var l Lease
	var err error
	if stackItems && t.r.lay.ItemSize <= stackItem {
		var a [stackItem]byte
		l, err = t.takeInto(ctx, a[:t.r.lay.ItemSize], &v)
		return v, l, err
	}
	bp := t.c.get()
	l, err = t.takeInto(ctx, *bp, &v)
	t.c.put(bp)
	return v, l, err
}

// takeInto takes one item under a lease through buf, of ItemSize bytes,
// and decodes it into *v, which it leaves zero on error.
func (t *TypedReader[T]) takeInto(ctx context.Context, buf []byte, v *T) (Lease, error) {
	var n int
	var l Lease
	var err error
	if ctx == noWait {
		n, l, err = t.r.TakeBytes(buf)
	} else {
		n, l, err = t.r.TakeBytesWait(ctx, buf)
	}
	if err != nil {
		return Lease{}, err
	}
	if n != t.c.size {
		l.Ack()
		return Lease{}, t.r.wrap("take", fmt.Errorf("%w: item of %d bytes is not a %s of %d", ErrRange, n, t.c.name, t.c.size))
	}
	t.c.decode(unsafe.Pointer(v), buf[:n])
	return l, nil
}

func (t *TypedReader[T]) pop(ctx context.Context) (T, error) {
	var v T
	if stackItems && t.r.lay.ItemSize <= stackItem {
		var a [stackItem]byte
		return v, t.popInto(ctx, a[:t.r.lay.ItemSize], &v)
	}
	bp := t.c.get()
	err := t.popInto(ctx, *bp, &v)
	t.c.put(bp)
	return v, err
}

// popInto reads one item through buf, of ItemSize bytes, and decodes it
// into *v, which it leaves zero on error.
func (t *TypedReader[T]) popInto(ctx context.Context, buf []byte, v *T) error {
	var n int
	var err error
	if ctx == noWait {
		n, err = t.r.PopBytes(buf)
	} else {
		n, err = t.r.PopBytesWait(ctx, buf)
	}
	if err != nil {
		return err
	}
	if n != t.c.size {
		return t.r.wrap("pop", fmt.Errorf("%w: item of %d bytes is not a %s of %d", ErrRange, n, t.c.name, t.c.size))
	}
	t.c.decode(unsafe.Pointer(v), buf[:n])
	return nil
}

// Values returns an iterator over the values of the buffer, read one at a
// time with PopWait:
//
//	for v, err := range tr.Values(ctx) { ... }
//
// It ends and reports errors exactly as Reader.Values does: without an
// error at the end of the stream (an error matching io.EOF), with an
// overrun yielded and the loop continued, with any other error (ctx's
// included, and an item of the wrong length) yielded once as the last; a
// loop body that breaks consumes nothing more. The loop allocates one
// buffer of ItemSize bytes when it starts, and nothing per item.
func (t *TypedReader[T]) Values(ctx context.Context) iter.Seq2[T, error] {
	return func(yield func(T, error) bool) {
		ctx := orBackground(ctx)
		buf := make([]byte, t.r.lay.ItemSize)
		var v, zero T
		iterate(
			func() error { v = zero; return t.popInto(ctx, buf, &v) },
			func(err error) bool {
				if err != nil {
					return yield(zero, err)
				}
				return yield(v, nil)
			})
	}
}

// PopInto reads up to len(dst) values into dst (at most 64 per call,
// fewer for values over 1 KiB) and returns how many. Like
// Reader.PopBytesInto it never waits, and returns ErrEmpty (unwrapped)
// when nothing is ready. Items whose length is not binary.Size(T) (only
// untyped writers of a buffer without FixedSize make them) are consumed
// and skipped: dst holds the values of the others, and the error matches
// ErrRange. It allocates nothing.
func (t *TypedReader[T]) PopInto(dst []T) (int, error) {
	return t.popMany(noWait, dst)
}

// PopIntoWait is PopInto that waits while the buffer is empty until at
// least one value is read or ctx is done.
func (t *TypedReader[T]) PopIntoWait(ctx context.Context, dst []T) (int, error) {
	return t.popMany(orBackground(ctx), dst)
}

func (t *TypedReader[T]) popMany(ctx context.Context, dst []T) (int, error) {
	if len(dst) == 0 {
		return 0, nil
	}
	bb := t.c.getBatch()
	defer t.c.batch.Put(bb)
	buf, views, size := bb.buf, &bb.views, t.c.size
	k := min(len(dst), t.c.batchLen())
	for i := range k {
		views[i] = buf[i*size : i*size : (i+1)*size]
	}
	var n int
	var err error
	if ctx == noWait {
		n, err = t.r.PopBytesInto(views[:k])
	} else {
		n, err = t.r.PopBytesIntoWait(ctx, views[:k])
	}
	got, wrong := 0, 0
	for _, b := range views[:n] {
		if len(b) != size {
			wrong++
			continue
		}
		t.c.decode(unsafe.Pointer(&dst[got]), b)
		got++
	}
	if wrong > 0 && err == nil {
		err = t.r.wrap("pop", fmt.Errorf("%w: %d of %d items were not a %s of %d bytes, and were skipped", ErrRange, wrong, n, t.c.name, size))
	}
	return got, err
}

// Close closes t's Reader (Reader.Close).
func (t *TypedReader[T]) Close() error { return t.r.Close() }

// Reader returns the Reader that t reads with.
func (t *TypedReader[T]) Reader() *Reader { return t.r }

// Size returns the size of one value in the buffer: binary.Size(T).
func (t *TypedWriter[T]) Size() int { return t.c.size }

// Size returns the size of one value in the buffer: binary.Size(T).
func (t *TypedReader[T]) Size() int { return t.c.size }

// batchMax is the most values a typed batch call moves per underlying
// call, and batchBytes bounds their bytes (a chunk of large values is
// shorter).
const (
	batchMax   = 64
	batchBytes = 64 << 10
)

// batchLen returns how many values a chunk of a batch call holds.
func (c *codec) batchLen() int { return max(1, min(batchMax, batchBytes/c.size)) }

// batchBuf is what a typed batch call works in: the bytes of batchLen
// values, and the items' slices into them. Both come from the codec's
// pool: on the stack, the slices escape to the heap on 32-bit platforms
// (see stackItems).
type batchBuf struct {
	buf   []byte
	views [batchMax][]byte
}

// getBatch returns a batchBuf from the codec's pool.
func (c *codec) getBatch() *batchBuf { return c.batch.Get().(*batchBuf) }

// stackItems says whether typed calls encode and decode small values in a
// buffer on their own stack: on 64-bit platforms. On 32-bit ones the
// paths of Writer and Reader let the buffer escape to the heap (their
// 64-bit atomics are calls, which the compiler cannot see through), so
// the calls borrow from the codec's pool there, as they do for large
// values.
const stackItems = unsafe.Sizeof(uintptr(0)) == 8

// stackItem is the largest item a typed call encodes or decodes in a
// buffer on its own stack; larger ones borrow a buffer from the codec's
// pool.
const stackItem = 256

// codec encodes and decodes one fixed-size type as encoding/binary does
// with binary.LittleEndian, without reflection per value: codecFor walks
// the type once and records, for every scalar in it, where it lies in
// memory and how wide it is; encode and decode then follow that list with
// loads and stores through unsafe.Pointer. The memory layout is the
// compiler's (field offsets from reflect, which differ between
// architectures, and padding, which the list skips); the encoded layout is
// encoding/binary's, the same everywhere.
type codec struct {
	ops   []codecOp
	size  int    // encoded size: binary.Size(T)
	name  string // T's name, for errors
	sum   uint64 // T's fingerprint (fingerprint), which CreateTyped records
	pool  sync.Pool
	batch sync.Pool // buffers of batchLen values, for the batch calls
}

// codecOp is one run of count scalars of width bytes each, contiguous in
// memory from off.
type codecOp struct {
	off   uintptr
	count int
	width uint8 // 1, 2, 4 or 8
	kind  uint8 // opNum, opBool or opBlank
}

const (
	opNum   uint8 = iota // an integer, a float, or half a complex: its bits
	opBool               // a bool: 1 or 0, and any non-zero byte decodes as true
	opBlank              // a blank (_) field's bytes: zeros when encoding, skipped when decoding
)

var codecs sync.Map // reflect.Type → *codec (without pool use: each wrapper gets its own)

// codecFor returns the codec of T for a buffer named name of items of up
// to itemSize bytes, or an error matching ErrInvalidOptions.
func codecFor[T any](name string, itemSize int) (*codec, error) {
	t := reflect.TypeFor[T]()
	var proto *codec
	if c, ok := codecs.Load(t); ok {
		proto = c.(*codec)
	} else {
		if size, ok := encodedSize(t); ok && size > itemSize {
			// Before walking it: a huge array would take long.
			return nil, tooLarge(name, t, size, itemSize)
		}
		proto = &codec{name: t.String(), sum: fingerprint(t)}
		ok := proto.walk(t, 0, false)
		if ok && t.Size() <= 1<<16 && proto.size != binary.Size(reflect.Zero(t).Interface()) {
			ok = false // cannot happen (the tests compare); never disagree with encoding/binary
		}
		if !ok || proto.size <= 0 {
			return nil, opError("typed", name, optionsf("%s is not a fixed-size type of at least one byte, as encoding/binary defines them", t))
		}
		codecs.Store(t, proto)
	}
	if proto.size > itemSize {
		return nil, tooLarge(name, t, proto.size, itemSize)
	}
	c := &codec{ops: proto.ops, size: proto.size, name: proto.name, sum: proto.sum}
	n := max(itemSize, c.size)
	c.pool.New = func() any { b := make([]byte, n); return &b }
	c.batch.New = func() any { return &batchBuf{buf: make([]byte, c.batchLen()*c.size)} }
	return c, nil
}

// fits refuses a type smaller than the buffer's items (codecFor refused
// one larger): a typed handle reads and writes items of exactly ItemSize
// bytes, so that a mismatch is found when the handle is made, not at the
// first item, which a read would have consumed.
func (c *codec) fits(name string, lay *layout.Ring) error {
	if c.size != lay.ItemSize {
		return opError("typed", name, fmt.Errorf("%w: %w: %s is %d bytes, the buffer's items are %d bytes (ItemSize): a typed handle needs a type of exactly ItemSize bytes",
			ErrInvalidOptions, ErrRange, c.name, c.size, lay.ItemSize))
	}
	return nil
}

// matches refuses a type other than the one the buffer records, if it
// records one (CreateTyped's): same size is not enough, the fingerprint
// of the type's name and field layout must be the same.
func (c *codec) matches(name string, lay *layout.Ring) error {
	rec, err := layout.DecodeType(unsafe.Slice((*byte)(unsafe.Add(lay.Base, layout.OffTypeSum)), layout.LineSize))
	if err != nil {
		return opError("typed", name, corruptf("%v", err))
	}
	if rec.Sum != 0 && rec.Sum != c.sum {
		return opError("typed", name, fmt.Errorf("%w: the buffer was made for values of type %s, not %s: the two differ in name, size or field layout",
			ErrMismatch, rec.Name, c.name))
	}
	return nil
}

// fingerprint returns the fingerprint of t that CreateTyped records and
// typed handles compare: FNV-1a of t's name, its encoded size and its
// shape (shape), never 0. Two programs that declare the same type in packages of
// the same name (main.Reading, say) share it.
func fingerprint(t reflect.Type) uint64 {
	var b strings.Builder
	size, _ := encodedSize(t)
	fmt.Fprintf(&b, "%s %d ", t, size)
	shape(&b, t)
	h := fnv.New64a()
	h.Write([]byte(b.String()))
	return max(h.Sum64(), 1) // 0 records no type
}

// shape writes the layout of t that the fingerprint covers: a scalar by
// its kind (a named integer type is its kind: its bytes are the same), an
// array by its length and element, a struct by its fields' names and
// shapes in order.
func shape(b *strings.Builder, t reflect.Type) {
	switch t.Kind() {
	case reflect.Array:
		fmt.Fprintf(b, "[%d]", t.Len())
		shape(b, t.Elem())
	case reflect.Struct:
		b.WriteString("struct{")
		for i := range t.NumField() {
			if i > 0 {
				b.WriteString("; ")
			}
			f := t.Field(i)
			b.WriteString(f.Name + " ")
			shape(b, f.Type)
		}
		b.WriteString("}")
	default:
		b.WriteString(t.Kind().String())
	}
}

// tooLarge reports a T that does not fit in an item.
func tooLarge(name string, t reflect.Type, size, itemSize int) error {
	return opError("typed", name, fmt.Errorf("%w: %w: %s is %d bytes, the buffer's items are %d bytes (ItemSize): a typed handle needs a type of exactly ItemSize bytes",
		ErrInvalidOptions, ErrTooLarge, t, size, itemSize))
}

// encodedSize returns binary.Size of a value of type t, without making
// one (a large array would have to be allocated), saturating at
// math.MaxInt; false if t is not a fixed-size type.
func encodedSize(t reflect.Type) (int, bool) {
	switch t.Kind() {
	case reflect.Bool, reflect.Int8, reflect.Uint8:
		return 1, true
	case reflect.Int16, reflect.Uint16:
		return 2, true
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		return 4, true
	case reflect.Int64, reflect.Uint64, reflect.Float64, reflect.Complex64:
		return 8, true
	case reflect.Complex128:
		return 16, true
	case reflect.Array:
		e, ok := encodedSize(t.Elem())
		if !ok {
			return 0, false
		}
		if t.Len() > 0 && e > math.MaxInt/t.Len() {
			return math.MaxInt, true
		}
		return e * t.Len(), true
	case reflect.Struct:
		sum := 0
		for i := range t.NumField() {
			f, ok := encodedSize(t.Field(i).Type)
			if !ok {
				return 0, false
			}
			if f > math.MaxInt-sum {
				sum = math.MaxInt
			} else {
				sum += f
			}
		}
		return sum, true
	}
	return 0, false
}

// walk appends the ops of a value of type t at offset off in memory; blank
// marks the bytes of a blank field. It reports false for a type that is
// not fixed-size.
func (c *codec) walk(t reflect.Type, off uintptr, blank bool) bool {
	scalar := func(width uint8, count int, kind uint8) {
		if blank {
			kind = opBlank
		}
		// Join a run that continues the previous one in memory.
		if k := len(c.ops) - 1; k >= 0 {
			p := &c.ops[k]
			if p.kind == kind && p.width == width && p.off+uintptr(p.count)*uintptr(width) == off {
				p.count += count
				c.size += count * int(width)
				return
			}
		}
		c.ops = append(c.ops, codecOp{off: off, count: count, width: width, kind: kind})
		c.size += count * int(width)
	}
	switch t.Kind() {
	case reflect.Bool:
		scalar(1, 1, opBool)
	case reflect.Int8, reflect.Uint8:
		scalar(1, 1, opNum)
	case reflect.Int16, reflect.Uint16:
		scalar(2, 1, opNum)
	case reflect.Int32, reflect.Uint32, reflect.Float32:
		scalar(4, 1, opNum)
	case reflect.Int64, reflect.Uint64, reflect.Float64, reflect.Complex64:
		if t.Kind() == reflect.Complex64 {
			scalar(4, 2, opNum)
		} else {
			scalar(8, 1, opNum)
		}
	case reflect.Complex128:
		scalar(8, 2, opNum)
	case reflect.Array:
		e := t.Elem()
		var one codec
		if !one.walk(e, 0, blank) {
			return false
		}
		if op := one.ops; len(op) == 1 && uintptr(op[0].count)*uintptr(op[0].width) == e.Size() {
			// An array of scalars is one run, however long.
			scalar(op[0].width, op[0].count*t.Len(), op[0].kind)
			break
		}
		for i := range t.Len() {
			if !c.walk(e, off+uintptr(i)*e.Size(), blank) {
				return false
			}
		}
	case reflect.Struct:
		for i := range t.NumField() {
			f := t.Field(i)
			if !c.walk(f.Type, off+f.Offset, blank || f.Name == "_") {
				return false
			}
		}
	default:
		return false
	}
	return true
}

func (c *codec) get() *[]byte  { return c.pool.Get().(*[]byte) }
func (c *codec) put(b *[]byte) { c.pool.Put(b) }

// encode writes the value at p into dst, of exactly c.size bytes.
func (c *codec) encode(dst []byte, p unsafe.Pointer) {
	le := binary.LittleEndian
	i := 0
	for _, op := range c.ops {
		q := unsafe.Add(p, op.off)
		switch {
		case op.kind == opBlank:
			n := op.count * int(op.width)
			clear(dst[i : i+n])
			i += n
		case op.width == 1: // bools are 0 or 1 in memory, as encoded
			i += copy(dst[i:i+op.count], unsafe.Slice((*byte)(q), op.count))
		case op.width == 2:
			for _, x := range unsafe.Slice((*uint16)(q), op.count) {
				le.PutUint16(dst[i:], x)
				i += 2
			}
		case op.width == 4:
			for _, x := range unsafe.Slice((*uint32)(q), op.count) {
				le.PutUint32(dst[i:], x)
				i += 4
			}
		default:
			for _, x := range unsafe.Slice((*uint64)(q), op.count) {
				le.PutUint64(dst[i:], x)
				i += 8
			}
		}
	}
}

// decode reads src, of exactly c.size bytes, into the value at p, which
// is zero: blank fields stay so.
func (c *codec) decode(p unsafe.Pointer, src []byte) {
	le := binary.LittleEndian
	i := 0
	for _, op := range c.ops {
		q := unsafe.Add(p, op.off)
		switch {
		case op.kind == opBlank:
			i += op.count * int(op.width)
		case op.kind == opBool: // any byte but 0 is true, as in encoding/binary
			s := unsafe.Slice((*bool)(q), op.count)
			for j := range s {
				s[j] = src[i+j] != 0
			}
			i += op.count
		case op.width == 1:
			i += copy(unsafe.Slice((*byte)(q), op.count), src[i:i+op.count])
		case op.width == 2:
			s := unsafe.Slice((*uint16)(q), op.count)
			for j := range s {
				s[j] = le.Uint16(src[i:])
				i += 2
			}
		case op.width == 4:
			s := unsafe.Slice((*uint32)(q), op.count)
			for j := range s {
				s[j] = le.Uint32(src[i:])
				i += 4
			}
		default:
			s := unsafe.Slice((*uint64)(q), op.count)
			for j := range s {
				s[j] = le.Uint64(src[i:])
				i += 8
			}
		}
	}
}
