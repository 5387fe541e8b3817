package bench

import (
	"slices"
	"time"
)

// median returns the middle of xs (the mean of the two middles for an even
// count); 0 for none.
func median(xs []float64) float64 {
	if len(xs) == 0 {
		return 0
	}
	s := slices.Clone(xs)
	slices.Sort(s)
	if len(s)%2 == 1 {
		return s[len(s)/2]
	}
	return (s[len(s)/2-1] + s[len(s)/2]) / 2
}

// Percentiles are round-trip times at three quantiles.
type Percentiles struct {
	P50, P99, P999 time.Duration
}

// Summarize returns the percentiles of round-trip times; it sorts ds.
func Summarize(ds []time.Duration) Percentiles { return percentiles(ds) }

// percentiles sorts ds and reads the quantiles off it.
func percentiles(ds []time.Duration) Percentiles {
	if len(ds) == 0 {
		return Percentiles{}
	}
	slices.Sort(ds)
	at := func(q float64) time.Duration {
		i := int(q * float64(len(ds)))
		return ds[min(i, len(ds)-1)]
	}
	return Percentiles{P50: at(0.50), P99: at(0.99), P999: at(0.999)}
}
