package scb_test

// Soak tests, opt-in: SCB_SOAK=full runs them at full size (5 million items
// through a Flock queue between 4 writer and 4 reader processes, 50 million
// through an Atomic queue between 2 processes); SCB_SOAK=ci at a twentieth
// of that; SCB_SOAK=<fraction> at any other scale. Every item is
// checksummed, and every one is accounted for: read exactly once, intact,
// and in each writer's order.

import (
	"context"
	"encoding/binary"
	"fmt"
	"os"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/scbtest"
)

func init() {
	role("soak-writer", childSoakWriter)
	role("soak-reader", childSoakReader)
}

// soakScale returns the fraction of the full size to run, or skips.
func soakScale(t *testing.T) float64 {
	switch v := os.Getenv("SCB_SOAK"); v {
	case "":
		scbtest.Skip(t, "soak test: set SCB_SOAK=full, SCB_SOAK=ci or SCB_SOAK=<fraction> to run it", "soak-writer", "soak-reader")
	case "full":
		return 1
	case "ci":
		return 1.0 / 20
	default:
		f, err := strconv.ParseFloat(v, 64)
		if err != nil || f <= 0 {
			t.Fatalf("SCB_SOAK=%q: want full, ci or a positive fraction", v)
		}
		return f
	}
	return 0
}

const soakItemSize = 32

// childSoakWriter pushes checksummed items ID<<32 | i for i in 0..N-1.
func childSoakWriter(ctx context.Context, name string, o *scb.Options) error {
	w, err := ready(name, o, scb.OpenWriter)
	if err != nil {
		return err
	}
	defer w.Close()
	id, n := paramInt("ID"), paramInt("N")
	buf := make([]byte, soakItemSize)
	for i := range n {
		putItem(buf, id<<32|i)
		if err := w.PushBytesWait(ctx, buf); err != nil {
			return fmt.Errorf("item %d: %w", i, err)
		}
	}
	fmt.Println("ok", n)
	return nil
}

// childSoakReader pops checksummed items. With N set, it expects exactly
// 0..N-1 from writer 0, in order. Otherwise it pops until the stop item,
// checks each writer's items come in increasing order, and writes them to
// the file OUT as little-endian uint64s.
func childSoakReader(ctx context.Context, name string, o *scb.Options) error {
	r, err := ready(name, o, scb.OpenReader)
	if err != nil {
		return err
	}
	defer r.Close()
	buf := make([]byte, soakItemSize)
	if param("N") != "" {
		n := paramInt("N")
		for i := range n {
			k, err := r.PopBytesWait(ctx, buf)
			if err != nil {
				return fmt.Errorf("item %d: %w", i, err)
			}
			v, err := checkItem(buf[:k])
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
	var c collector
	for {
		k, err := r.PopBytesWait(ctx, buf)
		if err != nil {
			return err
		}
		v, err := checkItem(buf[:k])
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

func TestSoakFlockQueue(t *testing.T) {
	scale := soakScale(t)
	const writers, readers = 4, 4
	per := int(5_000_000 * scale / writers)
	o := &scb.Options{Dir: t.TempDir(), Strategy: scb.Flock, ItemSize: soakItemSize}
	w := create(t, "soak", o)

	var rs, ws []*scbtest.Proc
	for i := range readers {
		c := startChild(t, "soak-reader", map[string]string{"DIR": o.Dir, "NAME": "soak",
			"OUT": filepath.Join(o.Dir, fmt.Sprintf("reader%d", i))})
		c.Expect("ready")
		rs = append(rs, c)
	}
	start := time.Now()
	for id := range writers {
		ws = append(ws, startChild(t, "soak-writer", map[string]string{"DIR": o.Dir, "NAME": "soak",
			"ID": strconv.Itoa(id), "N": strconv.Itoa(per)}))
	}
	for _, c := range ws {
		c.Expect("ready")
		c.Expect("ok")
		c.Wait()
	}
	ctx, cancel := context.WithTimeout(context.Background(), childTimeout)
	defer cancel()
	stop := make([]byte, soakItemSize)
	putItem(stop, stopValue)
	for range readers {
		require.NoError(t, w.PushBytesWait(ctx, stop))
	}
	for _, c := range rs {
		c.Expect("ok")
		c.Wait()
	}
	elapsed := time.Since(start)

	seen := make([][]bool, writers)
	for i := range seen {
		seen[i] = make([]bool, per)
	}
	total := 0
	for i := range readers {
		data, err := os.ReadFile(filepath.Join(o.Dir, fmt.Sprintf("reader%d", i)))
		require.NoError(t, err)
		for ; len(data) >= 8; data = data[8:] {
			v := binary.LittleEndian.Uint64(data)
			id, seq := v>>32, v&0xffffffff
			require.Less(t, id, uint64(writers))
			require.Less(t, seq, uint64(per))
			require.False(t, seen[id][seq], "item %d of writer %d received twice", seq, id)
			seen[id][seq] = true
			total++
		}
	}
	assert.Equal(t, writers*per, total, "every item received exactly once")
	report(t, "Flock Queue, 4 writer and 4 reader processes", total, elapsed)
}

func TestSoakAtomicQueue(t *testing.T) {
	n := int(50_000_000 * soakScale(t))
	o := &scb.Options{Dir: t.TempDir(), ItemSize: soakItemSize}
	w, err := scb.Create("soak", o)
	skipUnsupported(t, err)
	require.NoError(t, err)
	require.NoError(t, w.Close())
	r := startChild(t, "soak-reader", map[string]string{"DIR": o.Dir, "NAME": "soak", "N": strconv.Itoa(n)})
	r.Expect("ready")
	start := time.Now()
	wc := startChild(t, "soak-writer", map[string]string{"DIR": o.Dir, "NAME": "soak", "ID": "0", "N": strconv.Itoa(n)})
	wc.Expect("ready")
	wc.Expect("ok")
	assert.Equal(t, strconv.Itoa(n), r.Expect("ok"), "every item read, intact and in order")
	elapsed := time.Since(start)
	wc.Wait()
	r.Wait()
	report(t, "Atomic Queue, 1 writer and 1 reader process", n, elapsed)
}

func report(t *testing.T, what string, n int, d time.Duration) {
	msg := fmt.Sprintf("soak: %s: %d items of %d bytes in %.2f s, %.0f items/s",
		what, n, soakItemSize, d.Seconds(), float64(n)/d.Seconds())
	t.Log(msg)
	fmt.Println(msg)
}
