package scb_test

// Crashes: writers and readers killed with SIGKILL at random points of a
// long stream, over and over, for both strategies and both modes.
//
// Every item is checksummed and carries its position in the stream (the
// write cursor when it was pushed) and the generation of the writer that
// pushed it. A replacement writer starts at the write cursor it finds, so
// in Queue mode the positions read must be exactly 0, 1, 2, ... whatever is
// killed: a published item that went missing would leave a gap, one
// delivered twice a repeat.
//
// Each child also keeps a progress word in a small mapped file of its own,
// stored after every call that returned: the application's own record of
// what it has done, which survives SIGKILL. Comparing it with the cursors
// after the kill says exactly which item was in flight:
//   - writer: the write cursor is the progress, or one more when the kill
//     came after the push published its item and before it returned (the
//     item is delivered; only the dead process does not know it). An item
//     whose push had not published it is never seen by anyone.
//   - Queue reader: the read cursor is the progress, or one more when the
//     kill came after the pop took its item and before the application had
//     it: that one item is consumed and gone. Otherwise the next reader
//     gets the item the dead one was reading.

import (
	"context"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"sync/atomic"
	"testing"
	"time"
	"unsafe"

	"github.com/edsrzf/mmap-go"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

const (
	posBits  = 40
	posMask  = 1<<posBits - 1
	itemSize = 32
)

func init() {
	role("kill-writer", childKillWriter)
	role("kill-reader", childKillReader)
}

// progress is a counter in a mapped file that outlives its process.
type progress struct {
	f    *os.File // open while mapped: mmap-go's Unmap on Windows flushes it
	mem  mmap.MMap
	word *uint64
}

func openProgress(path string) (*progress, error) {
	f, err := os.OpenFile(path, os.O_RDWR|os.O_CREATE, 0o600)
	if err != nil {
		return nil, err
	}
	if err := f.Truncate(4096); err != nil {
		f.Close()
		return nil, err
	}
	mem, err := mmap.MapRegion(f, 4096, mmap.RDWR, 0, 0)
	if err != nil {
		f.Close()
		return nil, err
	}
	return &progress{f: f, mem: mem, word: (*uint64)(unsafe.Pointer(&mem[0]))}, nil
}

// close unmaps the file and closes it.
func (p *progress) close() error {
	err := p.mem.Unmap()
	if cerr := p.f.Close(); err == nil {
		err = cerr
	}
	return err
}

// watchProgress maps a child's progress file in the parent, until the
// test ends: the file must be unmapped before t.TempDir's cleanup, or
// Windows refuses to delete it.
func watchProgress(t *testing.T, path string) *progress {
	t.Helper()
	p, err := openProgress(path)
	require.NoError(t, err)
	t.Cleanup(func() {
		if err := p.close(); err != nil {
			t.Errorf("unmap and close %s: %v", path, err)
		}
	})
	return p
}

func (p *progress) store(v uint64) { atomic.StoreUint64(p.word, v) }
func (p *progress) load() uint64   { return atomic.LoadUint64(p.word) }

// childKillWriter pushes items of generation GEN from the position the
// write cursor is at, until it is killed, storing the position after each
// push that returned in the progress file.
func childKillWriter(ctx context.Context, name string, o *scb.Options) error {
	w, err := scb.OpenWriter(name, o)
	if err != nil {
		return fmt.Errorf("the writer role was not free at once: %w", err)
	}
	info, err := scb.Stat(name, o)
	if err != nil {
		return err
	}
	p, err := openProgress(param("PROGRESS"))
	if err != nil {
		return err
	}
	gen := paramInt("GEN")
	pos := info.Written
	p.store(pos)
	fmt.Println("ready", pos)
	buf := make([]byte, itemSize)
	for ; ; pos++ {
		putItem(buf, gen<<posBits|pos)
		if err := w.PushBytesWait(ctx, buf); err != nil {
			return err
		}
		p.store(pos + 1)
		if info.Mode == scb.Broadcast && pos%64 == 0 {
			// A Broadcast writer never waits; let the reader keep up now
			// and then, so that it reads items as well as losing them.
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		}
	}
}

// childKillReader pops until it is killed. In Queue mode it checks that the
// items are exactly those from the read cursor it found on; in Broadcast
// mode that each is the next or, after an overrun, the next after the ones
// reported lost. It stores the position after each item it got in the
// progress file.
func childKillReader(ctx context.Context, name string, o *scb.Options) error {
	r, err := scb.OpenReader(name, o)
	if err != nil {
		return fmt.Errorf("the reader role was not free at once: %w", err)
	}
	info, err := scb.Stat(name, o)
	if err != nil {
		return err
	}
	p, err := openProgress(param("PROGRESS"))
	if err != nil {
		return err
	}
	broadcast := info.Mode == scb.Broadcast
	next, known := info.Consumed, !broadcast
	if broadcast {
		next = info.Written // roughly where it starts
	}
	p.store(next)
	fmt.Println("ready", next)
	buf := make([]byte, itemSize)
	for {
		n, err := r.PopBytesWait(ctx, buf)
		var over *scb.OverrunError
		if broadcast && errors.As(err, &over) {
			next += over.Lost
			continue
		}
		if err != nil {
			return err
		}
		seq, err := checkItem(buf[:n])
		if err != nil {
			return err
		}
		pos := seq & posMask
		if !known {
			next, known = pos, true
		}
		if pos != next {
			return fmt.Errorf("item at position %d, want %d", pos, next)
		}
		next++
		p.store(next)
	}
}

// stream is the parent's side of a kill loop: one goroutine that owns a
// reader handle and checks everything it reads.
type stream struct {
	r         *scb.Reader
	broadcast bool
	target    atomic.Uint64 // once non-zero, read up to position target-1 and stop
	done      chan error

	// Owned by the goroutine until done.
	next, read, lost uint64
	first, last      map[uint64]uint64 // generation: first and last position read
}

// startStream reads from r, expecting position from first.
func startStream(r *scb.Reader, broadcast bool, from uint64) *stream {
	s := &stream{r: r, broadcast: broadcast, done: make(chan error, 1), next: from,
		first: map[uint64]uint64{}, last: map[uint64]uint64{}}
	go func() { s.done <- s.run() }()
	return s
}

func (s *stream) run() error {
	defer s.r.Close()
	buf := make([]byte, itemSize)
	var drainBy time.Time
	gen := uint64(0)
	for {
		if t := s.target.Load(); t != 0 {
			if s.next >= t-1 {
				return nil
			}
			if drainBy.IsZero() {
				drainBy = time.Now().Add(waitBound)
			} else if time.Now().After(drainBy) {
				return fmt.Errorf("drain stuck at position %d of %d", s.next, t)
			}
		}
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		n, err := s.r.PopBytesWait(ctx, buf)
		cancel()
		var over *scb.OverrunError
		switch {
		case errors.Is(err, context.DeadlineExceeded):
			continue
		case s.broadcast && errors.As(err, &over):
			s.next += over.Lost
			s.lost += over.Lost
			continue
		case err != nil:
			return err
		}
		seq, err := checkItem(buf[:n])
		if err != nil {
			return err
		}
		g, pos := seq>>posBits, seq&posMask
		if pos != s.next {
			return fmt.Errorf("item at position %d (generation %d), want position %d", pos, g, s.next)
		}
		if g < gen {
			return fmt.Errorf("item of generation %d after one of generation %d", g, gen)
		}
		if _, ok := s.first[g]; !ok {
			s.first[g] = pos
		}
		s.last[g] = pos
		gen = g
		s.next++
		s.read++
	}
}

// finish reads up to position target and waits for the goroutine.
func (s *stream) finish(t testing.TB, target uint64) {
	t.Helper()
	s.target.Store(target + 1)
	select {
	case err := <-s.done:
		require.NoError(t, err)
	case <-timeAfter(2 * waitBound):
		t.Fatal("the reader did not finish")
	}
}

// pusher is the parent's writer goroutine for the reader kill loops: it
// pushes generation 0 items from position 0 until stopped.
type pusher struct {
	w    *scb.Writer
	stop atomic.Bool
	done chan error
	next uint64
}

func startPusher(w *scb.Writer) *pusher {
	p := &pusher{w: w, done: make(chan error, 1)}
	go func() { p.done <- p.run() }()
	return p
}

func (p *pusher) run() error {
	defer p.w.Close()
	buf := make([]byte, itemSize)
	stalled := time.Now()
	for !p.stop.Load() {
		putItem(buf, p.next)
		ctx, cancel := context.WithTimeout(context.Background(), 50*time.Millisecond)
		err := p.w.PushBytesWait(ctx, buf)
		cancel()
		if errors.Is(err, context.DeadlineExceeded) {
			// A Queue with no live reader is full; one comes soon.
			if time.Since(stalled) > waitBound {
				return errors.New("the writer made no progress")
			}
			continue
		}
		if err != nil {
			return err
		}
		stalled = time.Now()
		p.next++
		if p.next%64 == 0 {
			// Leave the other side some of the two cores.
			time.Sleep(time.Duration(rand.IntN(200)) * time.Microsecond)
		}
	}
	return nil
}

func (p *pusher) finish(t testing.TB) uint64 {
	t.Helper()
	p.stop.Store(true)
	select {
	case err := <-p.done:
		require.NoError(t, err)
	case <-timeAfter(waitBound):
		t.Fatal("the writer did not stop")
	}
	return p.next
}

// killRounds is how many children each kill loop kills: SCB_KILL_ROUNDS,
// or 50 (10 under -short).
func killRounds() int {
	if n, err := strconv.Atoi(os.Getenv("SCB_KILL_ROUNDS")); err == nil && n > 0 {
		return n
	}
	return sized(50, 10)
}

// killAt waits until the child's progress reaches a random number of items
// (up to 300 past where it started), then a random further 0 to 1000
// microseconds, and kills it. It fails the test if the child reported an
// error, and returns the child's progress.
func killAt(t *testing.T, c *scbtest.Proc, p *progress, start uint64) uint64 {
	t.Helper()
	want := start + uint64(rand.IntN(300))
	deadline := time.Now().Add(waitBound)
	for p.load() < want {
		if time.Now().After(deadline) {
			t.Fatalf("the child made no progress past %d (want %d): something hangs", p.load(), want)
		}
		time.Sleep(20 * time.Microsecond) // polling a condition
	}
	time.Sleep(time.Duration(rand.IntN(1000)) * time.Microsecond)
	killCheck(t, c)
	return p.load()
}

// killCheck kills the child, waits for it, and fails the test if it had
// reported an error before it died.
func killCheck(t *testing.T, c *scbtest.Proc) {
	t.Helper()
	_ = c.Cmd.Process.Kill() // it may have exited by itself, with an error
	lines, err := c.Result()
	var ee *exec.ExitError
	if err != nil && !errors.As(err, &ee) {
		t.Fatalf("killed child: %v", err)
	}
	for _, l := range lines {
		require.NotContains(t, l, "error", "child said %q; stderr:\n%s", l, c.Stderr())
	}
}

// TestKillWriterLoop kills writer processes at random points, over and
// over, while the parent reads. Each replacement must get the writer role
// at once and start at the write cursor. In Queue mode every item a dead
// writer published is read, exactly once and in order; in Broadcast mode
// every item is read or counted lost. Only an item whose push had not yet
// published it disappears.
func TestKillWriterLoop(t *testing.T) {
	forEachLayout(t, func(t *testing.T, s scb.Strategy, m scb.Mode, fixed bool) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Mode: m, Length: 8, ItemSize: itemSize, FixedSize: fixed}
		w, err := scb.Create("k", o)
		skipUnsupported(t, err)
		require.NoError(t, err)
		require.NoError(t, w.Close())
		r, err := scb.OpenReader("k", at(o))
		require.NoError(t, err)
		st := startStream(r, m == scb.Broadcast, 0)

		var starts, written []uint64
		inFlight := 0
		for gen := range uint64(killRounds()) {
			pf := filepath.Join(o.Dir, "progress"+strconv.FormatUint(gen, 10))
			c := startChild(t, "kill-writer", map[string]string{"DIR": o.Dir, "NAME": "k",
				"GEN": strconv.FormatUint(gen+1, 10), "PROGRESS": pf})
			start, err := strconv.ParseUint(c.Expect("ready"), 10, 64)
			require.NoError(t, err)
			if gen > 0 {
				require.Equal(t, written[gen-1], start, "the replacement starts at the write cursor")
			}
			p := watchProgress(t, pf)
			done := killAt(t, c, p, start)
			info, err := scb.Stat("k", at(o))
			require.NoError(t, err)
			switch info.Written {
			case done:
			case done + 1:
				inFlight++ // published, but the push had not returned
			default:
				t.Fatalf("generation %d: write cursor %d, but %d pushes returned", gen+1, info.Written, done)
			}
			starts = append(starts, start)
			written = append(written, info.Written)
		}
		final := written[len(written)-1]
		st.finish(t, final)
		if final == 0 {
			return
		}
		_, err = scb.Stat("k", at(o))
		require.NoError(t, err)

		if m == scb.Queue {
			assert.Equal(t, final, st.read, "every published item was read once")
			for gen := range starts {
				g := uint64(gen + 1)
				if written[gen] == starts[gen] {
					continue // killed before it published anything
				}
				assert.Equal(t, starts[gen], st.first[g], "generation %d: first item", g)
				assert.Equal(t, written[gen]-1, st.last[g], "generation %d: every published item, nothing more", g)
			}
		} else {
			assert.Equal(t, final, st.read+st.lost, "every item read or counted lost")
		}
		t.Logf("%d writers killed, %d items, %d read, %d lost to overruns; %d kills between publish and return",
			len(starts), final, st.read, st.lost, inFlight)
	})
}

// TestKillReaderLoop kills reader processes at random points while the
// parent writes. Each replacement must get the reader role at once. In
// Queue mode the read cursor after a kill is the dead reader's progress or
// one more (the item it had taken and not yet used: the only item a dead
// reader loses), the replacement starts exactly there, and the parent drains
// the rest; in Broadcast mode a persistent reader in the parent is not
// disturbed by the deaths.
func TestKillReaderLoop(t *testing.T) {
	forEachLayout(t, func(t *testing.T, s scb.Strategy, m scb.Mode, fixed bool) {
		o := &scb.Options{Dir: t.TempDir(), Strategy: s, Mode: m, Length: 8, ItemSize: itemSize, FixedSize: fixed}
		w, err := scb.Create("k", o)
		skipUnsupported(t, err)
		require.NoError(t, err)
		var watcher *stream
		if m == scb.Broadcast {
			r, err := scb.OpenReader("k", at(o))
			require.NoError(t, err)
			watcher = startStream(r, true, 0)
		}
		pu := startPusher(w)

		consumed := uint64(0)
		inHand := 0
		for gen := range killRounds() {
			pf := filepath.Join(o.Dir, "progress"+strconv.Itoa(gen))
			c := startChild(t, "kill-reader", map[string]string{"DIR": o.Dir, "NAME": "k", "PROGRESS": pf})
			start, err := strconv.ParseUint(c.Expect("ready"), 10, 64)
			require.NoError(t, err)
			p := watchProgress(t, pf)
			if m == scb.Queue {
				require.Equal(t, consumed, start, "the replacement starts at the read cursor")
			}
			done := killAt(t, c, p, start)
			if m == scb.Broadcast {
				continue
			}
			info, err := scb.Stat("k", at(o))
			require.NoError(t, err)
			switch info.Consumed {
			case done:
			case done + 1:
				inHand++ // taken, not yet used: lost with the reader
			default:
				t.Fatalf("reader %d: read cursor %d, but it had %d items", gen, info.Consumed, done)
			}
			consumed = info.Consumed
		}
		total := pu.finish(t)
		if m == scb.Broadcast {
			watcher.finish(t, total)
			assert.Equal(t, total, watcher.read+watcher.lost)
			t.Logf("%d readers killed; %d items, the parent's reader read %d and lost %d to overruns",
				killRounds(), total, watcher.read, watcher.lost)
			return
		}
		r, err := scb.OpenReader("k", at(o))
		require.NoError(t, err, "the reader role is free at once")
		rest := startStream(r, false, consumed)
		rest.finish(t, total)
		t.Logf("%d readers killed; %d items, %d left for the last reader; %d kills took an item with them",
			killRounds(), total, rest.read, inHand)
	})
}
