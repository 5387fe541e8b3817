package scb_test

// Leased reads (Take, Lease.Ack, Lease.GiveBack, Leases) and positions
// (Lease.Pos, Reader.Pos): an item is consumed once acknowledged, comes
// back first when given back, with the same position and one more
// delivery, keeps its slot while leased, and readers of a Flock buffer
// take items at once without a lock, every item exactly once.

import (
	"context"
	"fmt"
	"io"
	"math/rand/v2"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
)

func TestLeaseAckAndGiveBack(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		o.Length = 4
		w := create(t, "lease", o)
		r := openReader(t, "lease", at(o))
		for i := range 3 {
			require.NoError(t, w.Push(uint64(10+i)))
		}

		v, l, err := r.Take()
		require.NoError(t, err)
		assert.Equal(t, uint64(10), v)
		assert.Equal(t, uint64(10), l.Value())
		assert.Equal(t, uint64(0), l.Pos())
		assert.Equal(t, 1, l.Deliveries())
		assert.Equal(t, 3, w.Len(), "a leased item is not consumed")

		require.NoError(t, l.GiveBack())
		v, l2, err := r.Take()
		require.NoError(t, err)
		assert.Equal(t, uint64(10), v, "a given-back item comes first")
		assert.Equal(t, l.Pos(), l2.Pos(), "with its position")
		assert.Equal(t, 2, l2.Deliveries(), "and one more delivery")

		v, l3, err := r.Take()
		require.NoError(t, err)
		assert.Equal(t, uint64(11), v)
		assert.Equal(t, uint64(1), l3.Pos())
		require.NoError(t, l3.Ack(), "acknowledged out of order")
		assert.Equal(t, 3, w.Len(), "item 0 still holds its slot")
		require.NoError(t, l2.Ack())
		assert.Equal(t, 1, w.Len(), "both consumed")

		v, err = r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(12), v, "plain reads carry on after leases")
		assert.Equal(t, uint64(2), r.Pos())
		_, err = r.Pop()
		assert.Same(t, scb.ErrEmpty, err)
		_, _, err = r.Take()
		assert.Same(t, scb.ErrEmpty, err)

		require.ErrorIs(t, l3.Ack(), scb.ErrNotClaimed, "acknowledged twice")
		require.ErrorIs(t, l2.GiveBack(), scb.ErrNotClaimed, "given back after Ack")
		require.ErrorIs(t, scb.Lease{}.Ack(), scb.ErrNotClaimed, "the zero Lease")
	})
}

// TestLeasesKeepTheirSlots: leased items keep their slots, so the writer
// finds the ring full until they are acknowledged.
func TestLeasesKeepTheirSlots(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		o.Length = 2
		w := create(t, "full", o)
		r := openReader(t, "full", at(o))
		require.NoError(t, w.Push(1))
		require.NoError(t, w.Push(2))
		_, l1, err := r.Take()
		require.NoError(t, err)
		_, l2, err := r.Take()
		require.NoError(t, err)
		assert.Same(t, scb.ErrFull, w.Push(3))
		require.NoError(t, l2.Ack())
		assert.Same(t, scb.ErrFull, w.Push(3), "item 1, still leased, holds the read cursor")
		require.NoError(t, l1.Ack())
		require.NoError(t, w.Push(3))
		require.NoError(t, w.Push(4))
	})
}

// TestCloseGivesLeasesBack: a Reader's Close gives back the leases it
// still holds; the next reader gets them first.
func TestCloseGivesLeasesBack(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		w := create(t, "close", o)
		for i := range 3 {
			require.NoError(t, w.Push(uint64(i)))
		}
		r, err := scb.OpenReader("close", at(o))
		require.NoError(t, err)
		_, l, err := r.Take()
		require.NoError(t, err)
		_, _, err = r.Take()
		require.NoError(t, err)
		require.NoError(t, r.Close())
		require.ErrorIs(t, l.Ack(), scb.ErrClosed)

		r2 := openReader(t, "close", at(o))
		var got []uint64
		for {
			v, l, err := r2.Take()
			if err == scb.ErrEmpty {
				break
			}
			require.NoError(t, err)
			got = append(got, v)
			if v < 2 {
				assert.Equal(t, 2, l.Deliveries(), "item %d was delivered before", v)
			}
			require.NoError(t, l.Ack())
		}
		assert.ElementsMatch(t, []uint64{0, 1, 2}, got)
		assert.Equal(t, uint64(2), got[2], "the given-back items first")
	})
}

func TestLeaseForms(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		o.ItemSize = 16
		w := create(t, "forms", o)
		r := openReader(t, "forms", at(o))
		ctx, cancel := context.WithTimeout(context.Background(), waitBound)
		defer cancel()

		require.NoError(t, w.PushBytes([]byte("hello")))
		buf := make([]byte, 16)
		n, l, err := r.TakeBytes(buf)
		require.NoError(t, err)
		assert.Equal(t, "hello", string(buf[:n]))
		require.NoError(t, l.Ack())

		require.NoError(t, w.PushBytes([]byte("a long item")))
		_, _, err = r.TakeBytes(make([]byte, 4))
		require.ErrorIs(t, err, io.ErrShortBuffer, "an item that does not fit is not taken")
		n, l, err = r.TakeBytesWait(ctx, buf)
		require.NoError(t, err)
		assert.Equal(t, "a long item", string(buf[:n]))
		assert.Equal(t, 1, l.Deliveries(), "the failed take does not count")
		require.NoError(t, l.Ack())

		pushed := make(chan error, 1)
		go func() {
			time.Sleep(20 * time.Millisecond)
			pushed <- w.Push(42)
		}()
		v, l, err := r.TakeWait(ctx)
		require.NoError(t, err)
		assert.Equal(t, uint64(42), v)
		require.NoError(t, l.Ack())
		require.NoError(t, <-pushed)

		short, cancelShort := context.WithTimeout(context.Background(), 20*time.Millisecond)
		defer cancelShort()
		_, _, err = r.TakeWait(short)
		require.ErrorIs(t, err, context.DeadlineExceeded)
	})
}

func TestLeasesNeedAQueue(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		o := newOpts(t, s, scb.Broadcast)
		w := create(t, "b", o)
		r := openReader(t, "b", at(o))
		require.NoError(t, w.Push(1))
		_, _, err := r.Take()
		require.ErrorIs(t, err, scb.ErrUnsupported)
		v, err := r.Pop()
		require.NoError(t, err, "the item is still there")
		assert.Equal(t, uint64(1), v)
	})
}

func TestLeasesIterator(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		w := create(t, "iter", o)
		r := openReader(t, "iter", at(o))
		for i := range 5 {
			require.NoError(t, w.Push(uint64(i)))
		}
		require.NoError(t, w.CloseWrite())
		var got []uint64
		gaveBack := false
		for l, err := range r.Leases(context.Background()) {
			require.NoError(t, err)
			if l.Value() == 2 && !gaveBack {
				gaveBack = true
				require.NoError(t, l.GiveBack())
				continue
			}
			got = append(got, l.Value())
			require.NoError(t, l.Ack())
		}
		assert.Equal(t, []uint64{0, 1, 2, 3, 4}, got, "the given-back item comes next")
	})
}

// TestPositions: every kind of read tells the item's position.
func TestPositions(t *testing.T) {
	forEach(t, func(t *testing.T, s scb.Strategy, m scb.Mode) {
		o := newOpts(t, s, m)
		o.Length = 8
		w := create(t, "pos", o)
		r := openReader(t, "pos", at(o))
		for i := range 6 {
			require.NoError(t, w.Push(uint64(100+i)))
		}
		v, err := r.Pop()
		require.NoError(t, err)
		assert.Equal(t, uint64(100), v)
		assert.Equal(t, uint64(0), r.Pos())
		dst := make([]uint64, 3)
		n, err := r.PopInto(dst)
		require.NoError(t, err)
		require.Equal(t, 3, n)
		assert.Equal(t, uint64(1), r.Pos(), "a batch: its first item's")
		if m == scb.Queue {
			p, err := r.Peek()
			require.NoError(t, err)
			assert.Len(t, p, 8)
			assert.Equal(t, uint64(4), r.Pos())
			require.NoError(t, r.Release())
		} else {
			_, err := r.Pop()
			require.NoError(t, err)
			assert.Equal(t, uint64(4), r.Pos())
		}
		for v, err := range r.Values(context.Background()) {
			require.NoError(t, err)
			assert.Equal(t, v-100, r.Pos(), "in an iterator too")
			break
		}
	})
}

// TestReadersTakeAtOnce: readers of a Flock buffer in goroutines take at
// once, by plain reads, batches and leases (some given back), while
// writers push: every item is consumed exactly once, at its own position,
// for rings of a few slots and of many, of every shape of length.
func TestReadersTakeAtOnce(t *testing.T) {
	per := sized(10000, 2000)
	for _, length := range []int{2, 3, 16, 100} {
		for _, mixed := range []bool{false, true} {
			t.Run(fmt.Sprintf("%d/mixed=%v", length, mixed), func(t *testing.T) {
				if mixed {
					needLeases(t, scb.Flock)
				}
				takeAtOnce(t, scb.Flock, length, 3, mixed, per)
			})
		}
	}
	t.Run("atomic", func(t *testing.T) {
		needAtomic(t)
		takeAtOnce(t, scb.Atomic, 16, 1, true, per)
	})
}

func takeAtOnce(t *testing.T, s scb.Strategy, length, readers int, mixed bool, per int) {
	o := &scb.Options{Dir: t.TempDir(), Strategy: s, Length: length}
	w0 := create(t, "s", o)
	writers := 3
	if s == scb.Atomic {
		writers = 1
	}
	ctx, cancel := context.WithTimeout(context.Background(), waitBound)
	defer cancel()
	errs := make(chan error, readers+writers)
	type item struct{ v, pos uint64 }
	got := make([][]item, readers)
	var wg sync.WaitGroup
	for i := range readers {
		r := openReader(t, "s", at(o))
		wg.Add(1)
		go func() {
			defer wg.Done()
			rng := rand.New(rand.NewPCG(uint64(i), 9))
			buf := make([]uint64, 7)
			for {
				var vs []item
				var err error
				switch k := rng.IntN(4); {
				case !mixed || k == 0:
					var v uint64
					v, err = r.PopWait(ctx)
					vs = append(vs, item{v, r.Pos()})
				case k == 1:
					var n int
					n, err = r.PopIntoWait(ctx, buf)
					for j := range n {
						vs = append(vs, item{buf[j], r.Pos() + uint64(j)})
					}
				case k == 2:
					v, l, e := r.TakeWait(ctx)
					if err = e; err == nil {
						if err = l.Ack(); err == nil {
							vs = append(vs, item{v, l.Pos()})
						}
					}
				default:
					_, l, e := r.TakeWait(ctx)
					if err = e; err == nil {
						err = l.GiveBack()
					}
				}
				if err != nil {
					errs <- err
					return
				}
				stop := false
				for _, it := range vs {
					if it.v == stopValue {
						stop = true
						continue
					}
					got[i] = append(got[i], it)
				}
				if stop {
					return
				}
			}
		}()
	}
	var wwg sync.WaitGroup
	for id := range writers {
		w := w0
		if id > 0 {
			var err error
			w, err = scb.OpenWriter("s", at(o))
			require.NoError(t, err)
			defer w.Close()
		}
		wwg.Add(1)
		go func() {
			defer wwg.Done()
			for i := range per {
				if err := w.PushWait(ctx, uint64(id)<<32|uint64(i)); err != nil {
					errs <- err
					return
				}
			}
		}()
	}
	wwg.Wait()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	for stopped := false; !stopped; {
		select {
		case <-done:
			stopped = true
		case <-time.After(time.Millisecond):
			w0.Push(stopValue) // until every reader has read one (a full ring is fine)
		}
	}
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	seen := map[uint64]int{}
	pos := map[uint64]uint64{}
	for _, g := range got {
		for _, it := range g {
			seen[it.v]++
			if p, ok := pos[it.pos]; ok {
				t.Fatalf("position %d read twice: %x and %x", it.pos, p, it.v)
			}
			pos[it.pos] = it.v
		}
	}
	assert.Len(t, seen, writers*per, "every item")
	for v, n := range seen {
		require.Equal(t, 1, n, "item %x", v)
	}
}

// TestStatCountsLeases: Stat counts the items taken and not consumed, those
// given back, and the leases by holder, while readers hold them; a dead
// holder's leases (here a closed reader's, given back by Close) are
// counted as given back until taken again.
func TestStatCountsLeases(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		w := create(t, "st", o)
		r1 := openReader(t, "st", at(o))
		for i := range 6 {
			require.NoError(t, w.Push(uint64(i)))
		}
		info, err := scb.Stat("st", at(o))
		require.NoError(t, err)
		assert.Zero(t, info.Taken)
		assert.Zero(t, info.Returned)
		assert.Empty(t, info.Leases)

		var held []scb.Lease
		for range 3 {
			_, l, err := r1.Take()
			require.NoError(t, err)
			held = append(held, l)
		}
		require.NoError(t, held[0].Ack())
		info, err = scb.Stat("st", at(o))
		require.NoError(t, err)
		assert.Equal(t, 2, info.Taken)
		assert.Equal(t, 5, info.Unread, "leased items are unread until acknowledged")
		require.Len(t, info.Leases, 1)
		for _, n := range info.Leases {
			assert.Equal(t, 2, n)
		}

		if s == scb.Flock {
			r2 := openReader(t, "st", at(o))
			_, _, err = r2.Take()
			require.NoError(t, err)
			info, err = scb.Stat("st", at(o))
			require.NoError(t, err)
			assert.Equal(t, 3, info.Taken)
			assert.Len(t, info.Leases, 2, "one entry per holder")
		}

		require.NoError(t, held[1].GiveBack())
		info, err = scb.Stat("st", at(o))
		require.NoError(t, err)
		assert.Equal(t, 1, info.Returned)
		require.NoError(t, r1.Close())
		info, err = scb.Stat("st", at(o))
		require.NoError(t, err)
		assert.Equal(t, 2, info.Returned, "Close gave its lease back")
		assert.Equal(t, info.Taken-info.Returned, sum(info.Leases))
	})
}

func sum(m map[int]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// TestCloseWakesForLeasesGivenBack: a Flock reader that closes holding
// leases gives them back, and its Close wakes every reader waiting on the
// buffer (wakeAll), which take them at once, not at the end of a sleep's
// bound (here none). (An Atomic reader is the buffer's only one: the next
// takes back what it left when it attaches.)
func TestCloseWakesForLeasesGivenBack(t *testing.T) {
	needLeases(t, scb.Flock)
	defer scb.SetSleepLimits(time.Hour)()
	o := newOpts(t, scb.Flock, scb.Queue)
	w := create(t, "q", o)
	holder, err := scb.OpenReader("q", at(o))
	require.NoError(t, err)
	waiter := openReader(t, "q", &scb.Options{Dir: o.Dir, Spin: -1})
	require.NoError(t, w.Push(7))
	_, l, err := holder.Take()
	require.NoError(t, err)
	got := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		v, l2, err := waiter.TakeWait(ctx)
		if err == nil && (v != 7 || l2.Pos() != l.Pos() || l2.Deliveries() != 2) {
			err = fmt.Errorf("took %d at %d, delivery %d", v, l2.Pos(), l2.Deliveries())
		}
		got <- err
	}()
	time.Sleep(50 * time.Millisecond) // the waiter sleeps, most likely
	require.NoError(t, holder.Close())
	require.NoError(t, <-got)
}

// TestStaleLeaseAtFront: a lease given back and taken again by the same
// Reader sits at the read cursor, where Ack moves the cursor past it
// without marking it: the old Lease must not acknowledge (or give back)
// the new delivery, and an Ack at the front counts once.
func TestStaleLeaseAtFront(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		w := create(t, "stale", o)
		r := openReader(t, "stale", at(o))
		require.NoError(t, w.Push(7))
		_, l1, err := r.Take()
		require.NoError(t, err)
		require.NoError(t, l1.GiveBack())
		require.ErrorIs(t, l1.Ack(), scb.ErrNotClaimed, "given back: Returned at R")
		_, l2, err := r.Take()
		require.NoError(t, err)
		require.Equal(t, 2, l2.Deliveries())
		require.ErrorIs(t, l1.Ack(), scb.ErrNotClaimed, "the old lease, the item at R leased again")
		require.ErrorIs(t, l1.GiveBack(), scb.ErrNotClaimed)
		require.Equal(t, 1, w.Len(), "still leased")
		require.NoError(t, l2.Ack())
		require.ErrorIs(t, l2.Ack(), scb.ErrNotClaimed, "acknowledged at the front already")
		require.Equal(t, 0, w.Len())
	})
}

// TestStatAfterAckAtFront: an Ack at the read cursor leaves the item's
// Leased word behind it; Stat, whose walk may start from a read cursor
// loaded before the Ack, must not count that item as taken or leased.
func TestStatAfterAckAtFront(t *testing.T) {
	forEachStrategy(t, func(t *testing.T, s scb.Strategy) {
		needLeases(t, s)
		o := newOpts(t, s, scb.Queue)
		w := create(t, "stat", o)
		r := openReader(t, "stat", at(o))
		require.NoError(t, w.Push(1))
		require.NoError(t, w.Push(2))
		_, l, err := r.Take()
		require.NoError(t, err)
		taken, returned, leases := scb.StatBetween(r, func() { require.NoError(t, l.Ack()) })
		assert.Zero(t, taken)
		assert.Zero(t, returned)
		assert.Empty(t, leases)
	})
}

// TestFlockPopAtTheReadCursor: a Flock Pop of an 8-byte item that nobody
// took, at the read cursor, reads it in one step (popFront, counted by its
// hook); the first read after opening (which looks for items given back),
// an item taken ahead of the read cursor, an item given back, and items of
// another size go the general way. Every item comes once, in order of
// position.
func TestFlockPopAtTheReadCursor(t *testing.T) {
	needLeases(t, scb.Flock)
	for _, fixed := range []bool{false, true} {
		t.Run(fmt.Sprintf("fixed=%v", fixed), func(t *testing.T) {
			o := newOpts(t, scb.Flock, scb.Queue)
			o.FixedSize = fixed
			w := create(t, "front", o)
			r := openReader(t, "front", at(o))
			fronts := 0
			defer scb.SetPopFrontHook(func() { fronts++ })()
			pop := func(want uint64, front bool, why string) {
				t.Helper()
				was := fronts
				v, err := r.Pop()
				require.NoError(t, err, why)
				assert.Equal(t, want, v, why)
				assert.Equal(t, front, fronts > was, "read in one step: %s", why)
			}
			_, err := r.Pop()
			require.Same(t, scb.ErrEmpty, err, "the first read after opening looks for items given back")
			for v := range uint64(4) {
				require.NoError(t, w.Push(100+v))
			}
			pop(100, true, "at the read cursor, after a first read that looked (as in TestReaderKilledAtEveryStep's pop-front)")
			pop(101, true, "at the read cursor")
			_, l, err := r.Take() // item 2, leased
			require.NoError(t, err)
			pop(103, false, "item 2 is leased: item 3 is ahead of the read cursor")
			require.NoError(t, l.GiveBack())
			pop(102, false, "item 2 was given back")
			require.NoError(t, w.Push(104))
			pop(104, false, "the look after a give-back that found one")
			require.NoError(t, w.Push(105))
			pop(105, true, "at the read cursor again")
			_, err = r.Pop()
			require.Same(t, scb.ErrEmpty, err)
			assert.Zero(t, w.Len())
		})
	}
	t.Run("16-byte items", func(t *testing.T) {
		o := newOpts(t, scb.Flock, scb.Queue)
		o.ItemSize = 16
		w := create(t, "front", o)
		r := openReader(t, "front", at(o))
		fronts := 0
		defer scb.SetPopFrontHook(func() { fronts++ })()
		for v := range uint64(3) {
			require.NoError(t, w.Push(v))
		}
		for v := range uint64(3) {
			got, err := r.Pop()
			require.NoError(t, err)
			assert.Equal(t, v, got)
		}
		assert.Zero(t, fronts, "Push writes 16-byte items here: Pop reads them the general way")
	})
}
