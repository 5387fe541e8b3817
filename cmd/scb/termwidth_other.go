//go:build !unix && !windows

package main

import "os"

// terminalColumns returns 0: there is no way to ask the width of a
// terminal here, and termWidth falls back to $COLUMNS or 80.
func terminalColumns(f *os.File) int { return 0 }
