package scb_test

import (
	"context"
	"fmt"
	"io"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

// Runs of a stream: a stream that ended and a new one on the same name are
// told apart.

func init() {
	role("run-producer", childRunProducer)
	role("run-consumer", childRunConsumer)
}

// childRunProducer is a log shipper's producer: CreateOrOpen (of a
// STRATEGY buffer), items FROM to FROM+N-1, CloseWrite.
func childRunProducer(ctx context.Context, name string, o *scb.Options) error {
	o.Length = 16
	o.Strategy = scb.Strategy(paramInt("STRATEGY"))
	w, err := scb.CreateOrOpen(name, o)
	if err != nil {
		return err
	}
	from := paramInt("FROM")
	for i := range paramInt("N") {
		if err := w.PushWait(ctx, from+i); err != nil {
			return err
		}
	}
	return w.CloseWrite()
}

// childRunConsumer is its consumer: OpenReaderWait, then Values to the end
// of the stream; it says "ready" once attached and prints how many items
// it read, their first and their sum.
func childRunConsumer(ctx context.Context, name string, o *scb.Options) error {
	r, err := scb.OpenReaderWait(ctx, name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("ready")
	n, first, sum := 0, uint64(0), uint64(0)
	for v, err := range r.Values(ctx) {
		if err != nil {
			return err
		}
		if n == 0 {
			first = v
		}
		n++
		sum += v
	}
	fmt.Println("read", n, first, sum)
	return nil
}

// TestSecondRunConsumerFirst is the log shipper run twice on one name with
// the calls of a single run: producer CreateOrOpen, items, CloseWrite;
// consumer OpenReaderWait, Values. The second run's consumer, started
// before its producer, attaches to the first run's ended buffer: it must
// read the second run's items (more than the ring holds, so that a
// consumer that left would block the producer), not end at once with the
// first run's end; and it waits past the grace for the new producer.
func TestSecondRunConsumerFirst(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		dir := t.TempDir()
		env := func(from, n int) map[string]string {
			return map[string]string{"DIR": dir, "NAME": "logs", "FROM": strconv.Itoa(from), "N": strconv.Itoa(n), "STRATEGY": strconv.Itoa(int(s))}
		}
		for run, from := range []int{1000, 5000} {
			consumer := startChild(t, "run-consumer", env(0, 0))
			if run == 1 {
				consumer.Expect("ready")
				time.Sleep(700 * time.Millisecond) // past the default grace
			}
			producer := startChild(t, "run-producer", env(from, 100))
			if run == 0 {
				consumer.Expect("ready")
			}
			producer.Wait()
			sum := 100*from + 99*100/2
			assert.Equal(t, fmt.Sprintf("100 %d %d", from, sum), consumer.Expect("read"), "run %d", run)
			consumer.Wait()
			info, err := scb.Stat("logs", &scb.Options{Dir: dir})
			require.NoError(t, err)
			assert.True(t, info.Ended)
			assert.Equal(t, run, info.Generation)
		}
	})
}

// TestLateReaderOfEndedRun: a reader that attaches to an ended stream it
// has nothing left of belongs to the ended run (io.EOF) while a writer of
// that run is still attached, and to the next run (it waits) once none is;
// a reader with items left of the ended run reads them, then io.EOF.
func TestLateReaderOfEndedRun(t *testing.T) {
	needLockWords(t)
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "runs", o)
	keep, err := scb.OpenWriter("runs", at(o))
	require.NoError(t, err)
	require.NoError(t, w.Push(1))
	require.NoError(t, w.CloseWrite())

	// Items left: the reader reads them, then the end.
	r := openReader(t, "runs", at(o))
	v, err := r.PopWait(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 1, v)
	_, err = r.PopWait(context.Background())
	require.ErrorIs(t, err, io.EOF)

	// Nothing left, a writer of the run attached: the end is this one's.
	late := openReader(t, "runs", at(o))
	_, err = late.PopWait(context.Background())
	require.ErrorIs(t, err, io.EOF)

	// Nothing left, nobody attached: the next run's.
	require.NoError(t, keep.Close())
	next := openReader(t, "runs", at(o))
	_, err = next.Pop()
	require.ErrorIs(t, err, scb.ErrEmpty, "not the end: the next run has not started")
	ctx, cancel := context.WithTimeout(context.Background(), 800*time.Millisecond)
	defer cancel()
	_, err = next.PopWait(ctx)
	require.ErrorIs(t, err, context.DeadlineExceeded, "waits for the next run, past the grace")

	w, err = scb.OpenWriter("runs", at(o))
	require.NoError(t, err)
	info, err := scb.Stat("runs", at(o))
	require.NoError(t, err)
	assert.False(t, info.Ended)
	assert.Equal(t, 1, info.Generation)
	require.NoError(t, w.Push(2))
	v, err = next.PopWait(context.Background())
	require.NoError(t, err)
	assert.EqualValues(t, 2, v)
	require.NoError(t, w.CloseWrite())
	_, err = next.PopWait(context.Background())
	require.ErrorIs(t, err, io.EOF, "the run it joined ended")
	// The readers of the first run read on into the second, as before.
	v, err = late.PopWait(context.Background())
	require.ErrorIs(t, err, io.EOF, "item 2 went to next; late sees the second run's end (got %d)", v)
}
