package record_test

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/crc32"
	"io"
	"os"
	"path/filepath"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/sharedcbuff/scb"
	"github.com/sharedcbuff/scb/record"
)

// item is a recorded item with a copy of its data.
type item struct {
	Pos  uint64
	At   time.Duration
	Data string
}

// readAll reads a recording to its end and returns its header, its items
// and the error that ended it (nil for io.EOF).
func readAll(t testing.TB, b []byte) (record.Header, []item, uint64, error) {
	t.Helper()
	rd, err := record.NewReader(bytes.NewReader(b))
	if err != nil {
		return record.Header{}, nil, 0, err
	}
	var items []item
	for {
		it, err := rd.Next()
		if err == io.EOF {
			return rd.Header(), items, rd.Lost(), nil
		}
		if err != nil {
			return rd.Header(), items, rd.Lost(), err
		}
		items = append(items, item{it.Pos, it.At, string(it.Data)})
	}
}

// TestFormatRoundTrip writes records of every kind and reads them back:
// positions going back (a Queue item read again), gaps after missed items,
// times, empty and large items, many blocks.
func TestFormatRoundTrip(t *testing.T) {
	var f bytes.Buffer
	start := time.Now()
	h := record.Header{Started: start, Mode: scb.Broadcast, ItemSize: 100_000, Name: "telemetry"}
	w, err := record.NewWriter(&f, h)
	require.NoError(t, err)
	at := func(ms int) time.Time { return start.Add(time.Duration(ms) * time.Millisecond) }
	big := string(bytes.Repeat([]byte("x"), 100_000))
	var want []item
	add := func(pos uint64, ms int, data string) {
		require.NoError(t, w.Add(pos, at(ms), []byte(data)))
		want = append(want, item{pos, time.Duration(ms) * time.Millisecond, data})
	}
	add(0, 0, "a")
	add(1, 0, "")
	add(2, 5, big)
	require.NoError(t, w.AddLost(3, at(6))) // 3, 4, 5 missed
	add(6, 7, "b")
	add(2, 8, "again") // given back and read again: an older position
	add(7, 8, "c")
	for i := range 2000 { // several blocks
		add(uint64(8+i), 10+i, big[:100])
	}
	add(100_000, 9, "late clock") // a time that went back is taken as the last one
	want[len(want)-1].At = want[len(want)-2].At
	require.NoError(t, w.Close())
	assert.Equal(t, uint64(len(want)), w.Items())
	assert.Equal(t, uint64(3), w.Lost())

	gotH, got, lost, err := readAll(t, f.Bytes())
	require.NoError(t, err)
	assert.Equal(t, want, got)
	assert.Equal(t, uint64(3), lost)
	assert.Equal(t, start.UnixNano(), gotH.Started.UnixNano())
	gotH.Started = h.Started
	assert.Equal(t, h, gotH)
}

// recording returns a small valid recording: 3 items, 1 missed.
func recording(t testing.TB) []byte {
	var f bytes.Buffer
	w, err := record.NewWriter(&f, record.Header{Mode: scb.Queue, ItemSize: 8, Name: "b"})
	require.NoError(t, err)
	now := time.Now()
	require.NoError(t, w.Add(0, now, []byte("12345678")))
	require.NoError(t, w.AddLost(1, now))
	require.NoError(t, w.Add(2, now, []byte("abcdefgh")))
	require.NoError(t, w.Flush())
	require.NoError(t, w.Add(3, now, []byte("ABCDEFGH")))
	require.NoError(t, w.Close())
	return f.Bytes()
}

// TestDamagedRecordings: every damage is refused with an error that
// matches ErrFormat and says where, or, for a file cut short, ErrTruncated
// after the whole blocks before the cut.
func TestDamagedRecordings(t *testing.T) {
	good := recording(t)
	const headerEnd = 6 + 2 + 8 + 8 + 1 + 4 + 1 + 1 // magic, version, length, sum, body with a 1-byte name
	edit := func(f func(b []byte) []byte) []byte { return f(bytes.Clone(good)) }
	tests := []struct {
		name  string
		file  []byte
		items int   // items read before the error
		err   error // what the error matches
		says  string
	}{
		{"empty", nil, 0, record.ErrFormat, "header"},
		{"not a recording", []byte("hello, world, this is text"), 0, record.ErrFormat, `no "SCBREC" magic`},
		{"newer version", edit(func(b []byte) []byte { b[6] = 2; return b }), 0, record.ErrFormat, "version 2"},
		{"header flipped", edit(func(b []byte) []byte { b[20] ^= 1; return b }), 0, record.ErrFormat, "header checksum"},
		{"huge header", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[8:], 1<<30); return b }), 0, record.ErrFormat, "more than"},
		{"block flipped", edit(func(b []byte) []byte { b[headerEnd+12] ^= 0x40; return b }), 0, record.ErrFormat, "block checksum"},
		{"huge block", edit(func(b []byte) []byte { binary.LittleEndian.PutUint32(b[headerEnd+1:], 1<<31); return b }), 0, record.ErrFormat, "more than"},
		{"unknown block", edit(func(b []byte) []byte { b[headerEnd] = 'X'; return b }), 0, record.ErrFormat, "unknown block kind"},
		{"no end block", good[:len(good)-11], 3, record.ErrTruncated, "no end block"},
		{"cut in a block", good[:len(good)-15], 2, record.ErrTruncated, "cut off"},
		{"cut in the header", good[:12], 0, record.ErrFormat, "header"},
		{"bytes after the end", append(bytes.Clone(good), 0), 3, record.ErrFormat, "bytes after the end block"},
		{"bad mode", edit(func(b []byte) []byte {
			b[24] = 7 // the mode, the body's ninth byte
			binary.LittleEndian.PutUint32(b[12:], crc(b[16:headerEnd]))
			return b
		}), 0, record.ErrFormat, "mode 7 is neither"},
		{"item longer than the item size", edit(func(b []byte) []byte {
			b[25] = 4 // the item size: 8 bytes become 4
			binary.LittleEndian.PutUint32(b[12:], crc(b[16:headerEnd]))
			return b
		}), 0, record.ErrFormat, "item of 8 bytes, more than the item size 4"},
		{"end counts wrong", edit(func(b []byte) []byte {
			body := []byte{9, 1}
			b = append(b[:len(b)-11], 'E', 2, 0, 0, 0)
			b = binary.LittleEndian.AppendUint32(b, crc(body))
			return append(b, body...)
		}), 3, record.ErrFormat, "end block counts 9 items"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, items, _, err := readAll(t, tt.file)
			require.ErrorIs(t, err, tt.err)
			assert.Contains(t, err.Error(), tt.says)
			assert.Len(t, items, tt.items)
		})
	}
	_, items, lost, err := readAll(t, good)
	require.NoError(t, err)
	assert.Len(t, items, 3)
	assert.Equal(t, uint64(1), lost)
}

// TestEveryCut reads every prefix of a recording: never a panic, and
// never an item that was not written.
func TestEveryCut(t *testing.T) {
	good := recording(t)
	_, all, _, err := readAll(t, good)
	require.NoError(t, err)
	for n := range len(good) {
		_, items, _, err := readAll(t, good[:n])
		require.Error(t, err, "cut at %d", n)
		require.True(t, errors.Is(err, record.ErrFormat) || errors.Is(err, record.ErrTruncated), "cut at %d: %v", n, err)
		require.True(t, slices.Equal(all[:len(items)], items), "cut at %d: items %v", n, items)
	}
}

func FuzzReader(f *testing.F) {
	f.Add(recording(f))
	f.Add([]byte("SCBREC"))
	f.Fuzz(func(t *testing.T, b []byte) {
		rd, err := record.NewReader(bytes.NewReader(b))
		if err != nil {
			if !errors.Is(err, record.ErrFormat) {
				t.Fatalf("NewReader: %v does not match ErrFormat", err)
			}
			return
		}
		for range len(b) + 1 {
			_, err := rd.Next()
			if err == io.EOF {
				return
			}
			if err != nil {
				if !errors.Is(err, record.ErrFormat) && !errors.Is(err, record.ErrTruncated) {
					t.Fatalf("Next: %v matches neither ErrFormat nor ErrTruncated", err)
				}
				return
			}
		}
		t.Fatal("more items than bytes")
	})
}

// roundTrip records n items of 8 bytes (values 0..n-1) from a new buffer
// of mode m, replays the recording into a second buffer while recording
// that one, and returns both recordings.
func roundTrip(t *testing.T, m scb.Mode, n int, pace record.Pace) (first, second []byte) {
	dir := t.TempDir()
	o := &scb.Options{Dir: dir, Mode: m, Length: 4096, ItemSize: 8, FixedSize: true}
	first = recordBuffer(t, "a", o, func(w *scb.Writer) error {
		vs := make([]uint64, 256)
		for i := 0; i < n; i += len(vs) {
			vs = vs[:min(len(vs), n-i)]
			for j := range vs {
				vs[j] = uint64(i + j)
			}
			if _, err := w.PushManyWait(context.Background(), vs); err != nil {
				return err
			}
		}
		return nil
	})
	second = recordBuffer(t, "b", o, func(w *scb.Writer) error {
		rd, err := record.NewReader(bytes.NewReader(first))
		if err != nil {
			return err
		}
		got, err := record.Replay(context.Background(), rd, w, pace)
		if err == nil && got != n {
			err = fmt.Errorf("replayed %d items of %d", got, n)
		}
		return err
	})
	return first, second
}

// recordBuffer creates the buffer name, records it to a file while write
// fills it on another goroutine, and returns the recording. (A file, as
// scb record writes: a growing slice would stall the recorder while it is
// copied, and the collector after it.)
func recordBuffer(t testing.TB, name string, o *scb.Options, write func(w *scb.Writer) error) []byte {
	t.Helper()
	w, err := scb.Create(name, o)
	require.NoError(t, err)
	r, err := scb.OpenReader(name, &scb.Options{Dir: o.Dir})
	require.NoError(t, err)
	defer r.Close()
	werr := make(chan error, 1)
	go func() {
		err := write(w)
		if cerr := w.CloseWrite(); err == nil {
			err = cerr
		}
		w.Close()
		werr <- err
	}()
	path := filepath.Join(o.Dir, name+".scbrec")
	f, err := os.Create(path)
	require.NoError(t, err)
	defer f.Close()
	rw, err := record.NewWriter(f, record.Header{Mode: o.Mode, ItemSize: r.ItemSize(), Name: name})
	require.NoError(t, err)
	require.NoError(t, record.Record(context.Background(), r, rw))
	require.NoError(t, rw.Close())
	require.NoError(t, <-werr)
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	return data
}

// TestRecordReplayRoundTrip: a million items (fewer with -short) recorded,
// replayed into a new buffer and recorded again come out the same, item
// for item and position for position.
func TestRecordReplayRoundTrip(t *testing.T) {
	n := 1_000_000
	if testing.Short() {
		n = 50_000
	}
	first, second := roundTrip(t, scb.Queue, n, record.Pace{})
	_, a, lostA, err := readAll(t, first)
	require.NoError(t, err)
	_, b, lostB, err := readAll(t, second)
	require.NoError(t, err)
	require.Len(t, a, n)
	require.Len(t, b, n)
	assert.Zero(t, lostA+lostB, "a queue's reader misses nothing")
	for i := range a {
		want := binary.BigEndian.AppendUint64(nil, uint64(i))
		if a[i].Pos != uint64(i) || a[i].Data != string(want) || b[i].Pos != a[i].Pos || b[i].Data != a[i].Data {
			t.Fatalf("item %d: recorded %+v, after replay %+v; want position %d, value %d", i, a[i], b[i], i, i)
		}
	}
}

// TestBroadcastRecordingCountsWhatItMisses: a Broadcast writer does not
// wait for the recorder; whatever the recorder misses is counted in the
// file, at the right positions: every position is either recorded once or
// counted as missed.
func TestBroadcastRecordingCountsWhatItMisses(t *testing.T) {
	const n = 200_000
	dir := t.TempDir()
	o := &scb.Options{Dir: dir, Mode: scb.Broadcast, Length: 64, ItemSize: 8, FixedSize: true}
	f := recordBuffer(t, "tap", o, func(w *scb.Writer) error {
		vs := make([]uint64, 64)
		for i := 0; i < n; i += len(vs) {
			for j := range vs {
				vs[j] = uint64(i + j)
			}
			if _, err := w.PushMany(vs); err != nil {
				return err
			}
		}
		return nil
	})
	_, items, lost, err := readAll(t, f)
	require.NoError(t, err)
	assert.Equal(t, uint64(n), uint64(len(items))+lost, "every item is recorded or counted as missed")
	next := uint64(0)
	for _, it := range items {
		require.GreaterOrEqual(t, it.Pos, next, "positions only go forward")
		require.Equal(t, string(binary.BigEndian.AppendUint64(nil, it.Pos)), it.Data, "item at position %d", it.Pos)
		next = it.Pos + 1
	}
	t.Logf("recorded %d, missed %d", len(items), lost)
}

// TestReplayPace: a recording with gaps replayed at its recorded pace
// takes as long as it did, item by item; at a rate, as long as the rate
// says. (The bounds are loose for busy machines; BenchmarkReplayPace
// measures the precision.)
func TestReplayPace(t *testing.T) {
	var f bytes.Buffer
	start := time.Now()
	w, err := record.NewWriter(&f, record.Header{Started: start, Mode: scb.Queue, ItemSize: 8, Name: "p"})
	require.NoError(t, err)
	var at time.Duration
	for i := range 100 {
		at += time.Duration(i%5) * time.Millisecond // 0 to 4 ms apart: 200 ms in all
		require.NoError(t, w.Add(uint64(i), start.Add(at), make([]byte, 8)))
	}
	require.NoError(t, w.Close())

	tests := []struct {
		name string
		pace record.Pace
		want func(i int) time.Duration // when item i is due, after item 0
	}{
		{"recorded", record.Pace{Recorded: true}, func(i int) time.Duration {
			var d time.Duration
			for j := 1; j <= i; j++ {
				d += time.Duration(j%5) * time.Millisecond
			}
			return d
		}},
		{"rate", record.Pace{Rate: 500}, func(i int) time.Duration { return time.Duration(i) * 2 * time.Millisecond }},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			o := &scb.Options{Dir: t.TempDir(), Length: 128, ItemSize: 8}
			bw, err := scb.Create("p", o)
			require.NoError(t, err)
			defer bw.Close()
			r, err := scb.OpenReader("p", &scb.Options{Dir: o.Dir})
			require.NoError(t, err)
			defer r.Close()
			// Replay starts after begin, and writes item i no sooner than
			// want(i) after it starts (20 µs early at most): so it arrives
			// no sooner than begin + want(i), which a replay that does not
			// pace misses by up to 200 ms. How late an item may come is
			// bounded loosely (emulated and race-enabled runs are slow).
			begin := time.Now()
			done := make(chan error, 1)
			go func() {
				rd, err := record.NewReader(bytes.NewReader(f.Bytes()))
				if err == nil {
					_, err = record.Replay(context.Background(), rd, bw, tt.pace)
				}
				done <- err
			}()
			for i := range 100 {
				_, err := r.PopWait(context.Background())
				require.NoError(t, err)
				skew := time.Since(begin) - tt.want(i)
				require.GreaterOrEqual(t, skew, -time.Millisecond/10, "item %d came %v early", i, -skew)
				require.Less(t, skew, time.Second, "item %d came %v late", i, skew)
			}
			require.NoError(t, <-done)
		})
	}
}

func TestReplayRefusesABadRate(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir()}
	w, err := scb.Create("r", o)
	require.NoError(t, err)
	defer w.Close()
	rd, err := record.NewReader(bytes.NewReader(recording(t)))
	require.NoError(t, err)
	_, err = record.Replay(context.Background(), rd, w, record.Pace{Rate: -1})
	assert.ErrorContains(t, err, "not positive")
}

// TestRecordingToAFile: the usual use, through a file in a test's
// directory, as scb record writes it.
func TestRecordingToAFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "x.scbrec")
	require.NoError(t, os.WriteFile(path, recording(t), 0o644))
	f, err := os.Open(path)
	require.NoError(t, err)
	defer f.Close()
	rd, err := record.NewReader(f)
	require.NoError(t, err)
	assert.Equal(t, "b", rd.Header().Name)
	it, err := rd.Next()
	require.NoError(t, err)
	assert.Equal(t, "12345678", string(it.Data))
}

func crc(b []byte) uint32 { return crc32.Checksum(b, crc32.MakeTable(crc32.Castagnoli)) }

// TestWriterLimits: the Writer refuses what its Reader would refuse, and
// keeps every block within the Reader's bound however large the items.
func TestWriterLimits(t *testing.T) {
	var f bytes.Buffer
	_, err := record.NewWriter(&f, record.Header{Mode: scb.Queue, ItemSize: 0})
	assert.ErrorContains(t, err, "item size 0 out of range")
	_, err = record.NewWriter(&f, record.Header{Mode: scb.Queue, ItemSize: 32 << 20})
	assert.ErrorContains(t, err, "out of range")
	_, err = record.NewWriter(&f, record.Header{Mode: 9, ItemSize: 8})
	assert.ErrorContains(t, err, "neither Queue nor Broadcast")

	f.Reset()
	const size = 6 << 20
	w, err := record.NewWriter(&f, record.Header{Mode: scb.Queue, ItemSize: size})
	require.NoError(t, err)
	assert.ErrorContains(t, w.Add(0, time.Now(), make([]byte, size+1)), "more than the item size")
	big := bytes.Repeat([]byte{7}, size)
	for i := range 5 { // 30 MiB: more than one block can hold
		require.NoError(t, w.Add(uint64(i), time.Now(), big))
	}
	require.NoError(t, w.Close())
	_, items, _, err := readAll(t, f.Bytes())
	require.NoError(t, err)
	require.Len(t, items, 5)
	assert.Equal(t, string(big), items[4].Data)
}

// gate is an io.Writer whose writes wait until open is closed, once
// shut is.
type gate struct {
	shut, open chan struct{}
	mu         sync.Mutex
	buf        bytes.Buffer
}

func (g *gate) Write(p []byte) (int, error) {
	select {
	case <-g.shut:
		<-g.open
	default:
	}
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.buf.Write(p)
}

// TestRecordCanceledAfterABusyMoment: Record's idle moment (how long it
// waits, once the buffer is empty, before it writes what it has) may end
// while it is busy; canceled later, Record still returns ctx's error, not
// the moment's (scb record took that for a failure), and keeps every item.
func TestRecordCanceledAfterABusyMoment(t *testing.T) {
	o := &scb.Options{Dir: t.TempDir(), Length: 8192, ItemSize: 8, FixedSize: true}
	bw, err := scb.Create("busy", o)
	require.NoError(t, err)
	defer bw.Close()
	r, err := scb.OpenReader("busy", &scb.Options{Dir: o.Dir})
	require.NoError(t, err)
	defer r.Close()
	g := &gate{shut: make(chan struct{}), open: make(chan struct{})}
	rw, err := record.NewWriter(g, record.Header{Mode: scb.Queue, ItemSize: 8, Name: "busy"})
	require.NoError(t, err)
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	done := make(chan error, 1)
	go func() { done <- record.Record(ctx, r, rw) }()

	require.NoError(t, bw.Push(0))
	time.Sleep(10 * time.Millisecond) // read, and the buffer found empty: the moment begins
	close(g.shut)                     // the next block written waits
	const n = 8000                    // more than one block (64 KiB of records)
	for i := 1; i < n; i++ {
		require.NoError(t, bw.PushWait(ctx, uint64(i)))
	}
	time.Sleep(150 * time.Millisecond) // the moment ends while Record waits on the file
	cancel()
	close(g.open)
	select {
	case err := <-done:
		require.ErrorIs(t, err, context.Canceled)
	case <-time.After(time.Minute):
		t.Fatal("Record did not return after its context was canceled")
	}
	require.NoError(t, rw.Close())
	_, items, _, err := readAll(t, g.buf.Bytes())
	require.NoError(t, err)
	assert.Len(t, items, n, "every item read is in the recording")
}
