package examples_test

// An example of testing a multiprocess pipeline with package scbtest:
// sensor readings, recorded once into testdata/readings.scbrec, are
// replayed into the buffer "in"; a worker process converts each reading
// from Celsius to Fahrenheit into the buffer "out", and is killed in the
// middle of the stream; a second worker takes over, the reading the first
// one held is delivered again, and the sink process, which counts each
// position once, prints the same summary as if nobody had died.

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
	"github.com/sharedcbuff/scb/scbtest"
)

var update = flag.Bool("update", false, "write testdata/readings.scbrec again")

const fixture = "testdata/readings.scbrec"

func TestMain(m *testing.M) {
	scbtest.Register("convert", convert)
	scbtest.Register("sink", sink)
	scbtest.Main(m)
}

// Fahrenheit is a converted reading, with the position of the reading it
// came from, so that the sink can count a reading delivered twice once.
type Fahrenheit struct {
	Pos       uint64
	Hundredth int64 // hundredths of a degree
}

// convert is the worker: it takes each reading of "in" (hundredths of a
// degree Celsius) under a lease, writes it to "out" in Fahrenheit, then
// acknowledges it, and ends "out" when "in" ends. The buffers are in
// SCB_DIR, which scbtest sets to the test's Dir.
func convert(args []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	in, err := scb.OpenReaderWait(ctx, "in", nil) // one reader at a time: a standby waits here
	if err != nil {
		return err
	}
	defer in.Close()
	w, err := scb.OpenWriterWait(ctx, "out", nil)
	if err != nil {
		return err
	}
	out, err := scb.NewTypedWriter[Fahrenheit](w)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Println("ready")
	for {
		c, lease, err := in.TakeWait(ctx)
		if errors.Is(err, io.EOF) {
			return out.CloseWrite()
		}
		if err != nil {
			return err
		}
		f := Fahrenheit{Pos: lease.Pos(), Hundredth: int64(c)*9/5 + 3200}
		if err := out.PushWait(ctx, f); err != nil {
			return err
		}
		if err := lease.Ack(); err != nil {
			return err
		}
		fmt.Println("converted", lease.Pos(), "delivery", lease.Deliveries())
		time.Sleep(time.Millisecond) // the work a real stage would do
	}
}

// sink reads "out" to its end and prints how many readings it got, each
// position counted once, and their mean.
func sink(args []string) error {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	r, err := scb.OpenReaderWait(ctx, "out", nil)
	if err != nil {
		return err
	}
	out, err := scb.NewTypedReader[Fahrenheit](r)
	if err != nil {
		return err
	}
	defer out.Close()
	fmt.Println("ready")
	seen := map[uint64]bool{}
	var sum int64
	for f, err := range out.Values(ctx) {
		if err != nil {
			return err
		}
		if !seen[f.Pos] {
			seen[f.Pos] = true
			sum += f.Hundredth
		}
	}
	fmt.Printf("summary: %d readings, mean %.2f°F\n", len(seen), float64(sum)/float64(len(seen))/100)
	return nil
}

func TestPipelineSurvivesAKilledWorker(t *testing.T) {
	if *update {
		writeFixture(t)
	}
	dir := scbtest.Dir(t)
	// Room for the whole fixture: scbtest.Replay returns once every
	// reading is in, before any converter runs.
	in, err := scb.Create("in", &scb.Options{Dir: dir, Length: 1024, FixedSize: true})
	if err != nil {
		t.Fatal(err)
	}
	out, err := scb.CreateTyped[Fahrenheit]("out", &scb.Options{Dir: dir, Length: 64})
	if err != nil {
		t.Fatal(err)
	}
	out.Close()

	// The input: the recorded readings. The stream stays open until the
	// second worker runs: a reader that comes to a stream that ended, with
	// nothing left and no writer, waits for the next writer's stream.
	n := scbtest.Replay(t, fixture, in)

	sinkProc := scbtest.Start(t, "sink")
	sinkProc.Expect("ready")
	first := scbtest.Start(t, "convert")
	first.Expect("ready")
	for range n / 3 {
		first.Expect("converted")
	}
	first.Kill() // in the middle of the stream, maybe holding a reading
	second := scbtest.Start(t, "convert")
	second.Expect("ready")
	if err := in.CloseWrite(); err != nil { // the end of the input
		t.Fatal(err)
	}
	code, lines := second.Exit()
	if code != 0 {
		t.Fatalf("second worker: exit status %d; stderr:\n%s", code, second.Stderr())
	}
	again := 0
	for _, l := range lines {
		if strings.HasSuffix(l, "delivery 2") {
			again++
		}
	}
	t.Logf("the second worker converted %d readings, %d of them delivered again", len(lines), again)

	want := fmt.Sprintf("%d readings, mean %.2f°F", n, expectedMean(t))
	if got := sinkProc.Expect("summary:"); got != want {
		t.Errorf("sink printed %q, want %q", got, want)
	}
	sinkProc.Wait()
}

// expectedMean computes the mean of the fixture's readings in Fahrenheit.
func expectedMean(t *testing.T) float64 {
	f, err := os.Open(fixture)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rd, err := record.NewReader(f)
	if err != nil {
		t.Fatal(err)
	}
	var sum, n int64
	for {
		it, err := rd.Next()
		if err == io.EOF {
			break
		}
		if err != nil {
			t.Fatal(err)
		}
		var c int64
		for _, b := range it.Data {
			c = c<<8 | int64(b)
		}
		sum += c*9/5 + 3200
		n++
	}
	return float64(sum) / float64(n) / 100
}

// writeFixture records 1000 readings, a millisecond apart, into the
// fixture (go test -run Pipeline -update).
func writeFixture(t *testing.T) {
	dir := t.TempDir()
	w, err := scb.Create("sensor", &scb.Options{Dir: dir, Mode: scb.Broadcast, Length: 2048, FixedSize: true})
	if err != nil {
		t.Fatal(err)
	}
	r, err := scb.OpenReader("sensor", &scb.Options{Dir: dir})
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	go func() {
		for i := range 1000 {
			w.Push(uint64(1800 + i*37%1500)) // 18.00 to 32.99 °C
			time.Sleep(time.Millisecond)
		}
		w.CloseWrite()
		w.Close()
	}()
	f, err := os.Create(filepath.FromSlash(fixture))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	rw, err := record.NewWriter(f, record.Header{Mode: scb.Broadcast, ItemSize: 8, Name: "sensor"})
	if err != nil {
		t.Fatal(err)
	}
	if err := record.Record(context.Background(), r, rw); err != nil {
		t.Fatal(err)
	}
	if err := rw.Close(); err != nil {
		t.Fatal(err)
	}
}
