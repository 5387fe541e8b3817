package scb_test

import (
	"context"
	"fmt"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func init() {
	role("consumer", childConsumer)
}

// childConsumer says "ready", attaches a reader with OpenReaderWait (a
// standby waits there while another consumer holds the role), says
// "reader", then reads N integers, saying "got v" for each, and says
// "done" and holds the role until it is killed.
func childConsumer(ctx context.Context, name string, o *scb.Options) error {
	fmt.Println("ready")
	r, err := scb.OpenReaderWait(ctx, name, o)
	if err != nil {
		return err
	}
	defer r.Close()
	fmt.Println("reader")
	for range paramInt("N") {
		v, err := r.PopWait(ctx)
		if err != nil {
			return err
		}
		fmt.Println("got", v)
	}
	fmt.Println("done")
	<-ctx.Done()
	return nil
}

func TestOpenWaitsForTheBuffer(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()
		go func() {
			time.Sleep(30 * time.Millisecond)
			w, err := scb.Create("later", o)
			if err == nil {
				w.Push(5)
				w.Close()
			}
		}()
		r, err := scb.OpenReaderWait(ctx, "later", at(o))
		require.NoError(t, err)
		defer r.Close()
		v, err := r.PopWait(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(5), v)

		w, err := scb.OpenWriterWait(ctx, "later", at(o))
		require.NoError(t, err)
		require.NoError(t, w.Close())
	})
}

func TestOpenWaitGivesUpWithTheContext(t *testing.T) {
	o := newOpts(t, scb.Atomic, scb.Queue)
	ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err := scb.OpenReaderWait(ctx, "never", at(o))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, scb.ErrNotExist, "the error says what it waited for")

	create(t, "taken", o)
	openReader(t, "taken", at(o))
	ctx, cancel = context.WithTimeout(context.Background(), 50*time.Millisecond)
	defer cancel()
	_, err = scb.OpenReaderWait(ctx, "taken", at(o))
	assert.ErrorIs(t, err, context.DeadlineExceeded)
	assert.ErrorIs(t, err, scb.ErrBusy)

	// Errors that waiting cannot cure come back at once.
	_, err = scb.OpenReaderWait(context.Background(), "taken", &scb.Options{Dir: o.Dir, Length: 3})
	assert.ErrorIs(t, err, scb.ErrMismatch)
	_, err = scb.OpenReaderWait(context.Background(), "../x", at(o))
	assert.ErrorIs(t, err, scb.ErrInvalidName)
}

func TestStandbyConsumerTakesOverAfterKill(t *testing.T) {
	needAtomic(t, "consumer")
	o := newOpts(t, scb.Atomic, scb.Queue)
	w := create(t, "jobs", o)
	params := map[string]string{"DIR": o.Dir, "NAME": "jobs", "N": "5"}
	active := startChild(t, "consumer", params)
	active.Expect("ready")
	active.Expect("reader")
	standby := startChild(t, "consumer", params)
	standby.Expect("ready") // and now waits in OpenReaderWait: the role is taken
	for i := range uint64(5) {
		require.NoError(t, w.Push(i))
	}
	for i := range 5 {
		assert.Equal(t, strconv.Itoa(i), active.Expect("got"))
	}
	active.Expect("done")
	active.Kill()
	standby.Expect("reader")
	for i := range uint64(5) {
		require.NoError(t, w.Push(5+i))
	}
	for i := range 5 {
		assert.Equal(t, strconv.Itoa(5+i), standby.Expect("got"), "the standby continues where the dead consumer stopped")
	}
	standby.Expect("done")
	standby.Kill() // it holds the reader's role until it dies
}

func TestCreateOrOpen(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Queue)
		o.Length = 16
		w, err := scb.CreateOrOpen("either", o)
		require.NoError(t, err)
		defer w.Close()
		info, err := scb.Stat("either", at(o))
		require.NoError(t, err)
		assert.Equal(t, 16, info.Length)

		w2, err := scb.CreateOrOpen("either", o)
		if s == scb.Atomic {
			assert.ErrorIs(t, err, scb.ErrBusy, "one Atomic writer at a time")
		} else {
			require.NoError(t, err)
			w2.Close()
		}
		_, err = scb.CreateOrOpen("either", &scb.Options{Dir: o.Dir, Strategy: s, Length: 32})
		assert.ErrorIs(t, err, scb.ErrMismatch)
	})
}

// TestCreateOrOpenWhereAtomicIsNotOffered: on an architecture without the
// Atomic strategy (arm), CreateOrOpen with default options opens an
// existing Flock buffer rather than fail because it could not create an
// Atomic one; with no buffer it says why it cannot create.
func TestCreateOrOpenWhereAtomicIsNotOffered(t *testing.T) {
	dir := t.TempDir()
	if w, err := scb.Create("probe", &scb.Options{Dir: dir}); err == nil {
		w.Close()
		t.Skip("the Atomic strategy is offered here: nothing to fall back from")
	}
	_, err := scb.CreateOrOpen("q", &scb.Options{Dir: dir})
	require.ErrorIs(t, err, scb.ErrUnsupported)
	w, err := scb.Create("q", &scb.Options{Dir: dir, Strategy: scb.Flock})
	require.NoError(t, err)
	require.NoError(t, w.Close())
	w, err = scb.CreateOrOpen("q", &scb.Options{Dir: dir})
	require.NoError(t, err, "the Flock buffer exists: open it")
	require.NoError(t, w.Close())
}
