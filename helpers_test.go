package scb_test

import (
	"errors"
	"time"
)

// waitBound bounds a wait in a test that must not hang; it is generous, so
// that only a real hang (not a slow machine) trips it.
const waitBound = 30 * time.Second

var timeAfter = time.After

var errorsIs = errors.Is
