package wait

// The package's test hooks, all of them: variables that its own tests
// replace, so that a slow yield can be made on purpose. Production code
// only reads them.

// yieldNow is osYield.
var yieldNow = osYield

// clock is monotonic: Yield's clock and the Ladder's timed stage's, which
// the tests drive by hand so that a fast yield is fast on a loaded machine
// too, and a timed stage lasts as long as they say.
var clock = monotonic
