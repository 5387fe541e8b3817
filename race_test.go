//go:build race

package scb_test

func init() { raceEnabled = true }
