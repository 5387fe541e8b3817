//go:build windows

package main

import (
	"os"

	"golang.org/x/sys/windows"
)

// terminalColumns returns the width of the console window f writes to, in
// columns, or 0 if f is not a console.
func terminalColumns(f *os.File) int {
	var info windows.ConsoleScreenBufferInfo
	if err := windows.GetConsoleScreenBufferInfo(windows.Handle(f.Fd()), &info); err != nil {
		return 0
	}
	return int(info.Window.Right-info.Window.Left) + 1
}
