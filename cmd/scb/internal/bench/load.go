package bench

import (
	"runtime"
	"time"
)

// Oversubscribed figures run beside Load CPU-bound processes: copies of
// this executable spinning in a loop, started before the measurement and
// killed after it, so that the pair under test shares the cores with them
// (on a 2-core machine, 6 runnable processes on 2 cores).
const Load = 4

// startLoad starts k spinning processes and returns a function that kills
// them. Each also stops by itself after childTimeout, should its parent
// die without killing it.
func startLoad(k int) (stop func(), err error) {
	var ps []*proc
	stop = func() {
		for _, p := range ps {
			p.kill()
		}
	}
	for range k {
		p, err := start(job{Role: "spin"})
		if err != nil {
			stop()
			return nil, err
		}
		ps = append(ps, p)
	}
	return stop, nil
}

// spin is a load process: it burns a CPU until killed.
func spin() error {
	ready()
	var x uint64
	for t0 := time.Now(); time.Since(t0) < childTimeout; {
		for i := range uint64(1 << 20) {
			x += i ^ x>>3
		}
		runtime.KeepAlive(x) // the loop's work must not be optimised away
	}
	return nil
}
