package bench

import (
	"encoding/binary"
	"time"
)

// chanThroughput sends n items through a buffered channel between two
// goroutines: uint64s for 8-byte items, []byte copies of s.Size otherwise
// (each received item copied out, as a reader of a byte item would).
func chanThroughput(s Shape, n int) time.Duration {
	ch := make(chan []byte, ringLength(s.Size))
	if s.Size == 8 {
		c := make(chan uint64, ringLength(s.Size))
		wn := warmUp(n)
		go func() {
			for i := range uint64(wn + n) {
				c <- i
			}
		}()
		for range wn {
			<-c
		}
		t0 := now()
		for range n {
			<-c
		}
		return since(t0)
	}
	pool := make([][]byte, ringLength(s.Size)+2)
	for i := range pool {
		pool[i] = make([]byte, s.Size)
	}
	src, dst := make([]byte, s.Size), make([]byte, s.Size)
	wn := warmUp(n)
	go func() {
		for i := range wn + n {
			b := pool[i%len(pool)]
			copy(b, src)
			binary.LittleEndian.PutUint64(b, uint64(i))
			ch <- b
		}
	}()
	for range wn {
		copy(dst, <-ch)
	}
	t0 := now()
	for range n {
		copy(dst, <-ch)
	}
	return since(t0)
}

// chanRoundTrip bounces n values between two goroutines over unbuffered
// channels.
func chanRoundTrip(n int) []time.Duration {
	ping, pong := make(chan uint64), make(chan uint64)
	go func() {
		for v := range ping {
			pong <- v
		}
	}()
	wn := warmUp(n)
	rtts := make([]time.Duration, wn+n)
	for i := range uint64(wn + n) {
		t0 := now()
		ping <- i
		<-pong
		rtts[i] = since(t0)
	}
	close(ping)
	return rtts[wn:]
}

// copyThroughput copies n items of s.Size bytes into a ring of the size
// scb would use, in one goroutine: the memory bandwidth a byte item's copy
// runs at.
func copyThroughput(s Shape, n int) time.Duration {
	ring := make([]byte, ringLength(s.Size)*s.Size)
	slots := len(ring) / s.Size
	src := make([]byte, s.Size)
	var t0 instant
	wn := warmUp(n)
	for i := range wn + n {
		if i == wn {
			t0 = now()
		}
		off := (i % slots) * s.Size
		copy(ring[off:off+s.Size], src)
	}
	return since(t0)
}
