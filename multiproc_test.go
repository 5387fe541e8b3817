package scb_test

// Cross-process tests. The test binary re-executes itself in a role
// registered with role (package child; TestMain dispatches to it), the way
// the standard library's os/exec and lockedfile tests do. Children take
// their parameters from the environment, say "ready" on stdout once
// attached, and report on stdout; every wait on a child is bounded.

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

// Items for torn-read checks: the sequence number, bytes derived from it,
// and a CRC-32 of all that.

func putItem(b []byte, seq uint64) {
	binary.BigEndian.PutUint64(b, seq)
	for i := 8; i < len(b)-4; i++ {
		b[i] = byte(seq>>(8*(i%8))) ^ byte(i)
	}
	binary.BigEndian.PutUint32(b[len(b)-4:], crc32.ChecksumIEEE(b[:len(b)-4]))
}

func checkItem(b []byte) (uint64, error) {
	if len(b) < 12 {
		return 0, fmt.Errorf("item of %d bytes", len(b))
	}
	if crc32.ChecksumIEEE(b[:len(b)-4]) != binary.BigEndian.Uint32(b[len(b)-4:]) {
		return 0, fmt.Errorf("torn item: checksum mismatch (%x)", b)
	}
	return binary.BigEndian.Uint64(b), nil
}

// --- children ---------------------------------------------------------------

func init() {
	role("reader-seq", childReaderSeq)
	role("writer-ids", childWriterIDs)
	role("reader-collect", childReaderCollect)
	role("reader-broadcast", childReaderBroadcast)
	role("writer-stream", childWriterStream)
}

// childReaderSeq pops N integers and checks they are 0..N-1 in order.
func childReaderSeq(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	n := paramInt("N")
	for i := range n {
		v, err := r.PopWait(ctx)
		if err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
		if v != i {
			return fmt.Errorf("item %d is %d", i, v)
		}
	}
	fmt.Println("ok", n)
	return nil
}

// childWriterIDs pushes ID<<32 | i for i in 0..N-1.
func childWriterIDs(ctx context.Context, name string, o *scb.Options) error {
	w, err := ready(name, o, scb.OpenWriter)
	if err != nil {
		return err
	}
	defer w.Close()
	id, n := paramInt("ID"), paramInt("N")
	for i := range n {
		if err := w.PushWait(ctx, id<<32|i); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	fmt.Println("ok", n)
	return nil
}

// stopValue tells a collecting reader to stop.
const stopValue = ^uint64(0)

// childReaderCollect pops until stopValue and writes what it got, as
// little-endian uint64s, to the file OUT. Each writer's items must come in
// increasing order.
func childReaderCollect(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	var c collector
	for {
		v, err := r.PopWait(ctx)
		if err != nil {
			return err
		}
		if v == stopValue {
			break
		}
		if err := c.add(v); err != nil {
			return err
		}
	}
	return c.report()
}

// collector keeps what a collecting reader got, checking that each
// writer's items (ID<<32 | sequence) arrive in increasing order.
type collector struct {
	got  []byte
	last map[uint64]uint64
}

func (c *collector) add(v uint64) error {
	if c.last == nil {
		c.last = map[uint64]uint64{}
	}
	id, seq := v>>32, v&0xffffffff
	if prev, ok := c.last[id]; ok && seq <= prev {
		return fmt.Errorf("writer %d: item %d after %d", id, seq, prev)
	}
	c.last[id] = seq
	c.got = binary.LittleEndian.AppendUint64(c.got, v)
	return nil
}

// report writes the items, as little-endian uint64s, to the file OUT and
// says how many there were.
func (c *collector) report() error {
	if err := os.WriteFile(param("OUT"), c.got, 0o600); err != nil {
		return err
	}
	fmt.Println("ok", len(c.got)/8)
	return nil
}

// childReaderBroadcast reads checksummed items 0..N-1 from a Broadcast
// buffer, sleeping SLOW microseconds after every tenth, until every item is
// accounted for as read or lost. Every item read must be intact and the one
// expected after the losses reported so far.
func childReaderBroadcast(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	n, slow := paramInt("N"), time.Duration(paramInt("SLOW"))*time.Microsecond
	buf := make([]byte, r.ItemSize())
	var next, got, lost uint64
	for got+lost < n {
		k, err := r.PopBytesWait(ctx, buf)
		var over *scb.OverrunError
		if errors.As(err, &over) {
			lost += over.Lost
			next += over.Lost
			continue
		}
		if err != nil {
			return fmt.Errorf("after %d items and %d lost: %w", got, lost, err)
		}
		seq, err := checkItem(buf[:k])
		if err != nil {
			return err
		}
		if seq != next {
			return fmt.Errorf("got item %d, want %d", seq, next)
		}
		next++
		got++
		if slow > 0 && got%10 == 0 {
			time.Sleep(slow)
		}
	}
	if r.Lost() != lost {
		return fmt.Errorf("Lost() = %d, overrun errors said %d", r.Lost(), lost)
	}
	fmt.Println("ok", got, lost, next)
	return nil
}

// childWriterStream pushes checksummed items START, START+1, ... until it is
// killed.
func childWriterStream(ctx context.Context, name string, o *scb.Options) error {
	w, err := ready(name, o, scb.OpenWriter)
	if err != nil {
		return err
	}
	buf := make([]byte, w.ItemSize())
	for seq := paramInt("START"); ; seq++ {
		putItem(buf, seq)
		if err := w.PushBytesWait(ctx, buf); err != nil {
			return err
		}
	}
}

// --- tests ----------------------------------------------------------------

func TestCrossProcessAtomicQueue(t *testing.T) {
	needAtomic(t, "reader-seq")
	n := sized(1_000_000, 100_000)
	o := &scb.Options{Dir: t.TempDir()}
	w := create(t, "stream", o)
	c := startChild(t, "reader-seq", map[string]string{"DIR": o.Dir, "NAME": "stream", "N": strconv.Itoa(n)})
	c.Expect("ready")
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	for i := range uint64(n) {
		require.NoError(t, w.PushWait(ctx, i))
	}
	assert.Equal(t, strconv.Itoa(n), c.Expect("ok"))
	c.Wait()
}

func TestCrossProcessFlockQueue(t *testing.T) {
	const writers, readers = 3, 3
	short := 20_000
	if runtime.GOOS == "windows" {
		// Each item takes a LockFileEx and an UnlockFileEx, which under
		// Wine are wineserver round trips: 20k a writer did not finish within
		// childTimeout on a busy 2-core machine. 5k still interleaves the
		// six processes thousands of times.
		short = 5_000
	}
	per := sized(100_000, short)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock}
	w := create(t, "mpmc", o)

	var rs []*scbtest.Proc
	for i := range readers {
		c := startChild(t, "reader-collect", map[string]string{"DIR": o.Dir, "NAME": "mpmc",
			"OUT": filepath.Join(o.Dir, fmt.Sprintf("reader%d", i))})
		c.Expect("ready")
		rs = append(rs, c)
	}
	var ws []*scbtest.Proc
	for id := range writers {
		ws = append(ws, startChild(t, "writer-ids", map[string]string{"DIR": o.Dir, "NAME": "mpmc",
			"ID": strconv.Itoa(id), "N": strconv.Itoa(per)}))
	}
	for _, c := range ws {
		c.Expect("ready")
		c.Expect("ok")
		c.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	for range readers {
		require.NoError(t, w.PushWait(ctx, stopValue))
	}

	seen := make([][]bool, writers)
	for i := range seen {
		seen[i] = make([]bool, per)
	}
	total := 0
	for i, c := range rs {
		c.Expect("ok")
		c.Wait()
		data, err := os.ReadFile(filepath.Join(o.Dir, fmt.Sprintf("reader%d", i)))
		require.NoError(t, err)
		for len(data) >= 8 {
			v := binary.LittleEndian.Uint64(data)
			data = data[8:]
			id, seq := v>>32, v&0xffffffff
			require.Less(t, id, uint64(writers))
			require.Less(t, seq, uint64(per))
			require.False(t, seen[id][seq], "item %d of writer %d received twice", seq, id)
			seen[id][seq] = true
			total++
		}
	}
	assert.Equal(t, writers*per, total, "every item received exactly once")
}

func TestCrossProcessBroadcast(t *testing.T) {
	tests := []struct {
		name    string
		length  int
		n       int
		readers int
		slow    int // microseconds of sleep every ten items
	}{
		{name: "large buffer", length: 1 << 17, n: sized(100_000, 20_000), readers: 3},
		{name: "tiny buffer slow reader", length: 4, n: sized(200_000, 40_000), readers: 1, slow: 200},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			needAtomic(t, "reader-broadcast")
			o := &scb.Options{Dir: t.TempDir(), Mode: scb.Broadcast, Length: tt.length, ItemSize: 40}
			w := create(t, "news", o)
			var cs []*scbtest.Proc
			for range tt.readers {
				c := startChild(t, "reader-broadcast", map[string]string{"DIR": o.Dir, "NAME": "news",
					"N": strconv.Itoa(tt.n), "SLOW": strconv.Itoa(tt.slow)})
				c.Expect("ready")
				cs = append(cs, c)
			}
			buf := make([]byte, 40)
			for i := range uint64(tt.n) {
				putItem(buf, i)
				require.NoError(t, w.PushBytes(buf), "a Broadcast writer never waits")
				if tt.slow > 0 && i%1000 == 999 {
					// Keep writing while the reader reads, so that
					// overwrites race with reads of the same slot.
					time.Sleep(time.Millisecond)
				}
			}
			for _, c := range cs {
				var got, lost, next int
				_, err := fmt.Sscan(c.Expect("ok"), &got, &lost, &next)
				require.NoError(t, err)
				c.Wait()
				assert.Equal(t, tt.n, got+lost, "items read plus Lost() equals items written")
				assert.Equal(t, tt.n, next, "the last item read is the last written")
				if tt.slow == 0 {
					assert.Equal(t, tt.n, got, "with room for everything, every item is read")
				} else {
					t.Logf("slow reader: %d read, %d lost", got, lost)
				}
			}
		})
	}
}

// TestCrossProcessWriterKilled kills a writer process in the middle of a
// stream, three times: each time a new writer opens at once, the reader
// carries on, and it never reads a torn, duplicated or reordered item.
func TestCrossProcessWriterKilled(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: 64, ItemSize: 128}
		w, err := scb.Create("stream", o)
		skipUnsupported(t, err)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		r := openReader(t, "stream", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
		defer cancel()

		buf := make([]byte, 128)
		var prev uint64
		read := 0
		pop := func() {
			t.Helper()
			n, err := r.PopBytesWait(ctx, buf)
			require.NoError(t, err)
			seq, err := checkItem(buf[:n])
			require.NoError(t, err)
			if read > 0 {
				// Consecutive, or the first item of a later writer.
				require.True(t, seq == prev+1 || seq&(1<<40-1) == 0 && seq > prev,
					"item %#x after %#x", seq, prev)
			}
			prev = seq
			read++
		}
		const rounds = 3
		for round := range uint64(rounds) {
			c := startChild(t, "writer-stream", map[string]string{"DIR": o.Dir, "NAME": "stream",
				"START": strconv.FormatUint((round+1)<<40, 10)})
			c.Expect("ready") // the writer role was free at once
			for range 2000 + 1000*round {
				pop()
			}
			c.Kill()
		}
		// Drain what the last writer published before it died.
		for r.Len() > 0 {
			pop()
		}
		assert.Equal(t, uint64(rounds)<<40, prev&^(1<<40-1), "items of the last writer were read")
		_, err = r.Pop()
		assert.ErrorIs(t, err, scb.ErrEmpty)
	})
}
