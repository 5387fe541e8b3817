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
