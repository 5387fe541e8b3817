//go:build !unix && !windows

package child

import (
	"errors"
	"runtime"
)

// errNoStop says that this system has no way to stop a process.
var errNoStop = errors.New("child: stopping a process is not supported on " + runtime.GOOS)

// Stop fails: this system has no SIGSTOP.
func (p *Proc) Stop() error { return errNoStop }

// Continue fails: this system has no SIGCONT.
func (p *Proc) Continue() error { return errNoStop }
