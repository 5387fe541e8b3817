package bench

// The clock that times the measurements: now and since, with the platform's
// finest monotonic clock. Go's time.Now is fine-grained on Unix; on Windows
// its monotonic reading is the interrupt time, which advances in steps of
// up to 15.6 ms, so a round trip or a short run would measure 0 s
// (clock_windows.go uses QueryPerformanceCounter instead).
