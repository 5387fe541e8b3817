//go:build race

package main

// The tests run under the race detector: build the command with it too.
func init() { raceEnabled = true }
