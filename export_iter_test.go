package scb

// Iterate is the loop every iterator runs (iter.go), for the table test of
// how a loop ends: end of stream, overruns, other errors, a body that breaks.
func Iterate(read func() error, emit func(err error) bool) { iterate(read, emit) }
