//go:build windows

package bench

import (
	"time"
	"unsafe"

	"golang.org/x/sys/windows"
)

var (
	kernel32 = windows.NewLazySystemDLL("kernel32.dll")
	qpc      = kernel32.NewProc("QueryPerformanceCounter")
	qpcFreq  = func() int64 {
		var f int64
		if r, _, _ := kernel32.NewProc("QueryPerformanceFrequency").Call(uintptr(unsafe.Pointer(&f))); r == 0 || f <= 0 {
			panic("bench: QueryPerformanceFrequency failed")
		}
		return f
	}()
)

// instant is a reading of the performance counter, in ticks of qpcFreq a
// second.
type instant int64

func now() instant {
	var c int64
	qpc.Call(uintptr(unsafe.Pointer(&c)))
	return instant(c)
}

// since returns the time elapsed since t.
func since(t instant) time.Duration {
	d := int64(now() - t)
	return time.Duration(d/qpcFreq*int64(time.Second) + d%qpcFreq*int64(time.Second)/qpcFreq)
}
