package main

// The version command: which scb this is, and the Go that built it.

import (
	"fmt"
	"runtime"
	"runtime/debug"
)

var versionCommand = &command{
	name:    "version",
	usage:   "",
	summary: "print the version of scb and of the Go that built it",
	help: `
Version prints one line: the module version of scb, the Go version that
built it, and the operating system and architecture it runs on. "scb
--version" is the same. The module version is the one installed, such as
v1.2.0 from "go install github.com/sharedcbuff/scb/cmd/scb@v1.2.0"; built
from a checkout, it is a pseudo-version of the commit (+dirty with changes
not committed), or "(devel)" where the build recorded no version control
information (go build -buildvcs=false).`,
	examples: `
scb version
scb --version`,
	run: runVersion,
}

func runVersion(c *call) error {
	if err := c.parse(); err != nil {
		return err
	}
	_, err := fmt.Fprintln(c.stdout, versionLine())
	return err
}

// versionLine returns "scb version VERSION GOVERSION GOOS/GOARCH", as
// "go version" words it: scb version v1.2.0 go1.26.0 linux/amd64.
func versionLine() string {
	version := "unknown"
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		version = bi.Main.Version
	}
	return fmt.Sprintf("scb version %s %s %s/%s", version, runtime.Version(), runtime.GOOS, runtime.GOARCH)
}
