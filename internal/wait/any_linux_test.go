package wait

// noWaitvAtStart is whether the kernel lacked futex_waitv before the
// tests ran (TestSleepAnyPolls pretends it does).
var noWaitvAtStart = func() bool {
	var seq, waiters uint32
	w := []Word{{Seq: &seq, Waiters: &waiters}, {Seq: &waiters, Waiters: &seq}}
	waitOnAny(w, []uint32{1, 1}, 0) // values that differ: returns at once
	return noWaitv.Load()
}()
