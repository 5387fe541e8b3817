//go:build 386 || amd64 || arm64 || loong64 || mips64 || mips64le || ppc64 || ppc64le || riscv64 || s390x

// The examples use the default strategy, Atomic, and an example cannot
// skip: they are built where Atomic is offered (atomic64_lockfree.go's
// architectures), and not on arm or mips.

package scb_test

import (
	"context"
	"errors"
	"fmt"
	"os"
	"sync"
	"sync/atomic"
	"time"

	"github.com/sharedcbuff/scb"
)

// tempDir stands in for the default directory (/dev/shm on Linux), so that
// the examples leave nothing behind.
func tempDir() (string, func()) {
	dir, err := os.MkdirTemp("", "scb-example")
	if err != nil {
		panic(err)
	}
	return dir, func() { os.RemoveAll(dir) }
}

// The quick start: one process creates a buffer and pushes integers; any
// process on the machine opens it by name and pops them. Here both ends are
// in one program.
func Example() {
	dir, cleanup := tempDir()
	defer cleanup()

	// Producer: a queue of 1024 slots of 8 bytes (the defaults).
	w, err := scb.Create("jobs", &scb.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer w.Close()
	for _, v := range []uint64{1, 2, 3} {
		if err := w.Push(v); err != nil {
			panic(err)
		}
	}

	// Consumer (usually another process): the geometry comes from the file.
	r, err := scb.OpenReader("jobs", &scb.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	defer r.Close()
	for {
		v, err := r.Pop()
		if errors.Is(err, scb.ErrEmpty) {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Println(v)
	}
	// Output:
	// 1
	// 2
	// 3
}

// Blocking calls wait for room or for items, until their context is done.
func ExampleReader_PopWait() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir}
	w, _ := scb.Create("ticks", o)
	w.Close() // the producer, usually another process, attaches later
	r, _ := scb.OpenReader("ticks", o)
	defer r.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		w, _ := scb.OpenWriter("ticks", o)
		defer w.Close()
		time.Sleep(10 * time.Millisecond)
		w.Push(7)
	}()
	defer func() { <-done }()

	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	v, err := r.PopWait(ctx)
	fmt.Println(v, err)

	ctx, cancel = context.WithTimeout(context.Background(), 10*time.Millisecond)
	defer cancel()
	_, err = r.PopWait(ctx)
	fmt.Println(errors.Is(err, context.DeadlineExceeded))
	// Output:
	// 7 <nil>
	// true
}

// PopManyWait takes what is ready in one call, waiting only while nothing
// is; PopMany says ErrEmpty, as Pop does.
func ExampleReader_PopManyWait() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir}
	w, _ := scb.Create("batch", o)
	defer w.Close()
	r, _ := scb.OpenReader("batch", o)
	defer r.Close()

	_, err := r.PopMany(10)
	fmt.Println(err == scb.ErrEmpty)
	w.PushMany([]uint64{1, 2, 3})
	vs, err := r.PopManyWait(context.Background(), 10)
	fmt.Println(vs, err)
	// Output:
	// true
	// [1 2 3] <nil>
}

// Look shows what a buffer holds next, with positions, without attaching
// and without consuming: beside the one reader of an Atomic queue here.
func ExampleLook() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir, ItemSize: 5}
	w, _ := scb.Create("mail", o)
	defer w.Close()
	r, _ := scb.OpenReader("mail", o)
	defer r.Close()
	for _, s := range []string{"hi", "there"} {
		w.PushBytes([]byte(s))
	}

	items, _ := scb.Look("mail", 10, o)
	for _, it := range items {
		fmt.Printf("%d %s\n", it.Pos, it.Data)
	}
	buf := make([]byte, 5)
	n, _ := r.PopBytes(buf)
	fmt.Printf("read %s\n", buf[:n])
	// Output:
	// 0 hi
	// 1 there
	// read hi
}

// Byte items may be shorter than ItemSize; reads go into the caller's
// buffer without allocating.
func ExampleWriter_PushBytes() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, _ := scb.Create("lines", &scb.Options{Dir: dir, ItemSize: 64})
	defer w.Close()
	r, _ := scb.OpenReader("lines", &scb.Options{Dir: dir})
	defer r.Close()

	w.PushBytes([]byte("hello"))
	w.PushBytes([]byte("shared memory"))
	err := w.PushBytes(make([]byte, 65))
	fmt.Println(errors.Is(err, scb.ErrTooLarge))

	buf := make([]byte, r.ItemSize())
	for range 2 {
		n, _ := r.PopBytes(buf)
		fmt.Printf("%q\n", buf[:n])
	}
	// Output:
	// true
	// "hello"
	// "shared memory"
}

// In Broadcast mode every reader sees every item; the writer never waits,
// and a reader that falls more than Length items behind is told how many it
// lost.
func Example_broadcast() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir, Mode: scb.Broadcast, Length: 4}
	w, _ := scb.Create("prices", o)
	defer w.Close()
	a, _ := scb.OpenReader("prices", o)
	defer a.Close()
	b, _ := scb.OpenReader("prices", o)
	defer b.Close()

	for v := uint64(100); v < 104; v++ {
		w.Push(v)
	}
	got, _ := a.PopMany(10) // a keeps up
	fmt.Println("a:", got)

	for v := uint64(104); v < 108; v++ {
		w.Push(v) // overwrites what b has not read yet
	}
	got, _ = a.PopMany(10)
	fmt.Println("a:", got)

	_, err := b.PopMany(10)
	var over *scb.OverrunError
	if errors.As(err, &over) {
		fmt.Println("b lost", over.Lost, "items; Lost() =", b.Lost())
	}
	got, _ = b.PopMany(10)
	fmt.Println("b:", got)
	// Output:
	// a: [100 101 102 103]
	// a: [104 105 106 107]
	// b lost 4 items; Lost() = 4
	// b: [104 105 106 107]
}

// A full Queue refuses a non-blocking push; nothing is ever overwritten.
func ExampleWriter_Push() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, _ := scb.Create("small", &scb.Options{Dir: dir, Length: 2, ItemSize: 1})
	defer w.Close()

	fmt.Println(w.Push(1), w.Push(2))
	fmt.Println(w.Push(3) == scb.ErrFull)
	fmt.Println(w.Len(), w.Cap())

	r, _ := scb.OpenReader("small", &scb.Options{Dir: dir})
	defer r.Close()
	r.Pop()
	err := w.Push(300) // does not fit in one byte
	fmt.Println(errors.Is(err, scb.ErrRange))
	// Output:
	// <nil> <nil>
	// true
	// 2 2
	// true
}

// Stat describes a buffer without attaching to it.
func ExampleStat() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, _ := scb.Create("jobs", &scb.Options{Dir: dir, Length: 8, Strategy: scb.Flock})
	defer w.Close()
	w.Push(1)
	w.Push(2)

	info, err := scb.Stat("jobs", &scb.Options{Dir: dir})
	if err != nil {
		panic(err)
	}
	fmt.Println(info.Name, info.Mode, info.Strategy, info.Length, info.ItemSize, info.Unread)

	_, err = scb.Stat("nope", &scb.Options{Dir: dir})
	fmt.Println(errors.Is(err, scb.ErrNotExist))
	// Output:
	// jobs queue flock 8 8 2
	// true
}

// Values turns a read loop into a range statement: it waits for items,
// and yields an error only when there is one to handle. Here the consumer
// knows how many items to expect; once the writer can end the stream, the
// loop will end by itself.
func ExampleReader_Values() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir}
	w, _ := scb.Create("jobs", o)
	defer w.Close()
	r, _ := scb.OpenReader("jobs", o)
	defer r.Close()

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	pushed := make(chan struct{})
	go func() { // the producer, usually another process
		defer close(pushed)
		for v := uint64(1); v <= 5; v++ {
			w.PushWait(ctx, v)
		}
	}()
	defer func() { <-pushed }() // an Atomic Writer is for one goroutine at a time

	sum, n := uint64(0), 0
	for v, err := range r.Values(ctx) {
		if err != nil {
			fmt.Println(err)
			return
		}
		sum += v
		if n++; n == 5 {
			break // nothing past the fifth item is consumed
		}
	}
	fmt.Println("sum", sum)
	// Output:
	// sum 15
}

// Items reads byte items into one buffer, reused for every item: an item
// is valid until the loop body's iteration ends. In Broadcast mode an
// overrun comes as an error, and the loop goes on.
func ExampleReader_Items() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir, ItemSize: 32, Mode: scb.Broadcast, Length: 4}
	w, _ := scb.Create("log", o)
	defer w.Close()
	r, _ := scb.OpenReader("log", o)
	defer r.Close()

	for _, line := range []string{"one", "two", "three", "four", "five", "six"} {
		w.PushBytes([]byte(line)) // six lines into four slots: two are overwritten
	}

	// A context that is already done: the loop reads what is ready, then
	// yields the context's error and ends.
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	buf := make([]byte, 0, r.ItemSize())
	for item, err := range r.Items(ctx, buf) {
		switch {
		case errors.Is(err, scb.ErrOverrun):
			fmt.Println("overrun:", err)
		case err != nil:
			fmt.Println("stopped:", errors.Is(err, context.Canceled))
		default:
			fmt.Printf("%s\n", item)
		}
	}
	// Output:
	// overrun: scb: pop "log": reader overrun: 2 items lost
	// three
	// four
	// five
	// six
	// stopped: true
}

// Reading is a sensor reading: 26 bytes in the buffer (encoding/binary's
// size of it), little-endian on every architecture.
type Reading struct {
	Sensor uint16
	Time   int64 // Unix nanoseconds
	Value  float64
	Flags  uint64
}

// Fixed-size records go through the buffer as typed values: no
// hand-written marshalling, no allocation per value.
func ExampleTypedWriter() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir, ItemSize: 26, FixedSize: true}
	w, _ := scb.Create("sensors", o)
	defer w.Close()
	r, _ := scb.OpenReader("sensors", o)
	defer r.Close()

	tw, err := scb.NewTypedWriter[Reading](w)
	if err != nil {
		panic(err)
	}
	tw.Push(Reading{Sensor: 3, Time: 1700000000e9, Value: 21.5})
	tw.Push(Reading{Sensor: 4, Time: 1700000001e9, Value: -4.25, Flags: 1})

	tr, err := scb.NewTypedReader[Reading](r)
	if err != nil {
		panic(err)
	}
	first, _ := tr.Pop()
	fmt.Printf("%+v\n", first)

	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	for rd, err := range tr.Values(ctx) {
		if err != nil {
			panic(err)
		}
		fmt.Printf("%+v\n", rd)
		break // the one item left
	}

	_, err = scb.NewTypedWriter[struct{ Name string }](w)
	fmt.Println(errors.Is(err, scb.ErrInvalidOptions))
	// Output:
	// {Sensor:3 Time:1700000000000000000 Value:21.5 Flags:0}
	// {Sensor:4 Time:1700000001000000000 Value:-4.25 Flags:1}
	// true
}

// Integers and records are all one size: with FixedSize the slots keep
// no item length, so an 8-byte item takes 8 bytes instead of 16. A byte
// item of another size is refused.
func ExampleOptions_fixedSize() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, err := scb.Create("ids", &scb.Options{Dir: dir, Length: 4096, FixedSize: true})
	if err != nil {
		panic(err)
	}
	defer w.Close()
	w.PushMany([]uint64{10, 11, 12})
	err = w.PushBytes([]byte("short"))
	fmt.Println(errors.Is(err, scb.ErrRange))

	info, _ := scb.Stat("ids", &scb.Options{Dir: dir})
	fmt.Println(info.FixedSize, info.Unread)
	// Output:
	// true
	// true 3
}

// BatchWake: a reader of batches that a writer of batches wakes once a
// quarter of the ring is ready (or after a nap of about a millisecond),
// not at every batch. Items already there are read at once, as always.
func ExampleOptions_batchWake() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, err := scb.Create("telemetry", &scb.Options{Dir: dir, Length: 4096, FixedSize: true})
	if err != nil {
		panic(err)
	}
	defer w.Close()
	r, err := scb.OpenReader("telemetry", &scb.Options{Dir: dir, BatchWake: true})
	if err != nil {
		panic(err)
	}
	defer r.Close()

	done := make(chan struct{})
	go func() {
		defer close(done)
		for i := uint64(0); i < 1000; i += 10 {
			w.PushManyWait(context.Background(), []uint64{i, i + 1, i + 2, i + 3, i + 4, i + 5, i + 6, i + 7, i + 8, i + 9})
		}
		w.CloseWrite()
	}()
	dst := make([]uint64, 256)
	var n, sum uint64
	for {
		k, err := r.PopIntoWait(context.Background(), dst)
		if err != nil {
			<-done // the writer is done with w before Close
			fmt.Println(n, sum, err)
			break
		}
		for _, v := range dst[:k] {
			n, sum = n+1, sum+v
		}
	}
	// Output:
	// 1000 499500 EOF
}

// Zero-copy: Claim lends the next slot to fill in place, Commit publishes
// it; Peek shows the next item in place, Release consumes it. Nothing is
// copied through a buffer of the caller's.
func ExampleWriter_Claim() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir, ItemSize: 64}
	w, _ := scb.Create("frames", o)
	defer w.Close()
	r, _ := scb.OpenReader("frames", o)
	defer r.Close()

	slot, err := w.Claim()
	if err != nil {
		panic(err)
	}
	n := copy(slot, "frame 1: ")
	n += copy(slot[n:], "built in place")
	if err := w.Commit(n); err != nil {
		panic(err)
	}

	item, err := r.Peek()
	if err != nil {
		panic(err)
	}
	fmt.Printf("%q (%d of %d bytes)\n", item, len(item), r.ItemSize())
	if err := r.Release(); err != nil { // item must not be used after this
		panic(err)
	}
	fmt.Println(r.Len())
	// Output:
	// "frame 1: built in place" (23 of 64 bytes)
	// 0
}

// A worker pool with the Flock strategy: any number of writers and readers
// share a Queue buffer, and each item goes to exactly one reader. Two
// writers and three readers run here as goroutines, each with its own
// handle (in practice they may as well be processes). The readers know how
// many items to expect and stop when all are processed; once the writers
// can end the stream, each reader's loop will end by itself.
func Example_workerPool() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir, Strategy: scb.Flock, Length: 16}
	w, err := scb.Create("work", o)
	if err != nil {
		panic(err)
	}
	w.Close() // the buffer stays; the workers open their own handles

	const perWriter = 50
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	var wg sync.WaitGroup
	for id := range 2 { // writer 0 pushes 1..50, writer 1 pushes 51..100
		wg.Go(func() {
			w, err := scb.OpenWriter("work", o)
			if err != nil {
				panic(err)
			}
			defer w.Close()
			for v := range uint64(perWriter) {
				if err := w.PushWait(ctx, uint64(id*perWriter)+v+1); err != nil {
					panic(err)
				}
			}
		})
	}

	var sum, done atomic.Uint64
	var seen sync.Map
	var readers sync.WaitGroup
	for range 3 {
		readers.Go(func() {
			r, err := scb.OpenReader("work", o)
			if err != nil {
				panic(err)
			}
			defer r.Close()
			for v, err := range r.Values(ctx) {
				if err != nil {
					if !errors.Is(err, context.Canceled) {
						fmt.Println(err)
					}
					return // canceled below: every item is processed
				}
				if _, dup := seen.LoadOrStore(v, true); dup {
					fmt.Println("processed twice:", v)
				}
				sum.Add(v) // the work
				if done.Add(1) == 2*perWriter {
					cancel()
				}
			}
		})
	}
	wg.Wait()
	readers.Wait()
	fmt.Println("items:", done.Load(), "sum:", sum.Load())
	// Output:
	// items: 100 sum: 5050
}

// A producer ends the stream with CloseWrite; the consumer's loop ends by
// itself once it has read everything, with no end marker. A consumer that
// may start first waits for the buffer with OpenReaderWait.
func ExampleWriter_CloseWrite() {
	dir, cleanup := tempDir()
	defer cleanup()
	ctx := context.Background()

	done := make(chan struct{})
	go func() { // the consumer, started before the buffer exists
		defer close(done)
		r, err := scb.OpenReaderWait(ctx, "jobs", &scb.Options{Dir: dir})
		if err != nil {
			fmt.Println(err)
			return
		}
		defer r.Close()
		sum := uint64(0)
		for v, err := range r.Values(ctx) {
			if err != nil {
				fmt.Println(err)
				return
			}
			sum += v
		}
		fmt.Println("end of stream; sum", sum)
	}()

	w, err := scb.Create("jobs", &scb.Options{Dir: dir, Length: 8})
	if err != nil {
		fmt.Println(err)
		return
	}
	for i := range uint64(100) {
		if err := w.PushWait(ctx, i+1); err != nil {
			fmt.Println(err)
			return
		}
	}
	if err := w.CloseWrite(); err != nil {
		fmt.Println(err)
	}
	<-done
	info, _ := scb.Stat("jobs", &scb.Options{Dir: dir})
	fmt.Println("ended:", info.Ended)
	// Output:
	// end of stream; sum 5050
	// ended: true
}

// A leased read: the item is consumed only when the lease is
// acknowledged. An item given back (or left by a reader that died) comes
// to the next reader that takes, first, at the same position, with one
// more delivery.
func ExampleReader_Take() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, _ := scb.Create("jobs", &scb.Options{Dir: dir})
	defer w.Close()
	r, _ := scb.OpenReader("jobs", &scb.Options{Dir: dir})
	defer r.Close()
	w.Push(10)
	w.Push(11)

	v, l, _ := r.Take()
	fmt.Println(v, l.Pos(), l.Deliveries(), w.Len())
	l.GiveBack() // could not process it

	v, l, _ = r.Take()
	fmt.Println(v, l.Pos(), l.Deliveries())
	fmt.Println(l.Ack(), w.Len())
	fmt.Println(errors.Is(l.Ack(), scb.ErrNotClaimed))
	// Output:
	// 10 0 1 2
	// 10 0 2
	// <nil> 1
	// true
}

// Exactly-once effects: a consumer records each effect with its item's
// position and skips a position it applied already, so an item delivered
// again after its first holder died is acknowledged, not applied twice.
func ExampleReader_Leases() {
	dir, cleanup := tempDir()
	defer cleanup()
	w, _ := scb.Create("jobs", &scb.Options{Dir: dir})
	defer w.Close()
	for _, v := range []uint64{7, 8, 9} {
		w.Push(v)
	}
	w.CloseWrite()
	r, _ := scb.OpenReader("jobs", &scb.Options{Dir: dir})
	defer r.Close()

	applied := map[uint64]uint64{1: 8} // position 1 was applied by a worker that died before Ack
	for l, err := range r.Leases(context.Background()) {
		if err != nil {
			fmt.Println(err)
			return
		}
		if _, ok := applied[l.Pos()]; !ok {
			applied[l.Pos()] = l.Value()
			fmt.Println("applied", l.Value(), "at", l.Pos())
		}
		l.Ack()
	}
	fmt.Println(len(applied), "effects")
	// Output:
	// applied 7 at 0
	// applied 9 at 2
	// 3 effects
}

// WaitAny lets one goroutine serve several buffers: here a control buffer
// and a data buffer, of different strategies, read until the control
// buffer says stop.
func ExampleWaitAny() {
	dir, cleanup := tempDir()
	defer cleanup()
	control, _ := scb.Create("control", &scb.Options{Dir: dir, Strategy: scb.Flock})
	defer control.Close()
	data, _ := scb.Create("data", &scb.Options{Dir: dir})
	defer data.Close()
	ctl, _ := scb.OpenReader("control", &scb.Options{Dir: dir})
	defer ctl.Close()
	in, _ := scb.OpenReader("data", &scb.Options{Dir: dir})
	defer in.Close()

	done := make(chan struct{})
	defer func() { <-done }() // before the deferred Closes
	go func() {
		defer close(done)
		data.PushMany([]uint64{10, 20, 30})
		time.Sleep(10 * time.Millisecond)
		control.Push(0) // stop
	}()
	ctx := context.Background()
	batch := make([]uint64, 16)
	for {
		i, err := scb.WaitAny(ctx, ctl, in)
		if err != nil {
			fmt.Println(err)
			return
		}
		switch i {
		case 0:
			ctl.Pop()
			fmt.Println("stop")
			return
		case 1:
			n, err := in.PopInto(batch)
			if err == scb.ErrEmpty {
				continue // taken by another reader first: wait again
			}
			fmt.Println(batch[:n])
		}
	}
	// Output:
	// [10 20 30]
	// stop
}

// A buffer made by CreateTyped records its type: a reader of another type
// of the same size is refused when it is made, not left to read garbage.
func ExampleCreateTyped() {
	dir, cleanup := tempDir()
	defer cleanup()
	o := &scb.Options{Dir: dir}
	tw, err := scb.CreateTyped[Reading]("sensors", o)
	if err != nil {
		panic(err)
	}
	defer tw.Close()
	tw.Push(Reading{Sensor: 3, Value: 21.5})

	r, _ := scb.OpenReader("sensors", o)
	defer r.Close()
	type Imposter struct { // 26 bytes too
		ID    uint16
		Words [3]uint64
	}
	_, err = scb.NewTypedReader[Imposter](r)
	fmt.Println(errors.Is(err, scb.ErrMismatch))
	fmt.Println(err)

	tr, _ := scb.NewTypedReader[Reading](r)
	v, _ := tr.Pop()
	fmt.Printf("%+v\n", v)
	info, _ := scb.Stat("sensors", o)
	fmt.Println(info.Type, info.ItemSize)
	// Output:
	// true
	// scb: typed "sensors": options do not match the buffer: the buffer was made for values of type scb_test.Reading, not scb_test.Imposter: the two differ in name, size or field layout
	// {Sensor:3 Time:0 Value:21.5 Flags:0}
	// scb_test.Reading 26
}
