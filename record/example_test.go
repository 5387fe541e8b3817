package record_test

import (
	"bytes"
	"fmt"
	"io"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
)

// A recording written by hand and read back: items with positions and
// times, and two items a Broadcast recorder missed between them.
func ExampleNewWriter() {
	var file bytes.Buffer // an *os.File, usually
	start := time.Now()
	w, err := record.NewWriter(&file, record.Header{Started: start, Mode: scb.Broadcast, ItemSize: 16, Name: "tap"})
	if err != nil {
		panic(err)
	}
	w.Add(0, start, []byte("first"))
	w.AddLost(2, start.Add(time.Millisecond))
	w.Add(3, start.Add(2*time.Millisecond), []byte("fourth"))
	if err := w.Close(); err != nil {
		panic(err)
	}

	rd, err := record.NewReader(&file)
	if err != nil {
		panic(err)
	}
	fmt.Println("recorded from", rd.Header().Name)
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			panic(err)
		}
		fmt.Printf("position %d at %v: %s\n", it.Pos, it.At, it.Data)
	}
	fmt.Println("missed", rd.Lost())
	// Output:
	// recorded from tap
	// position 0 at 0s: first
	// position 3 at 2ms: fourth
	// missed 2
}
