//go:build linux

package main

import (
	"os/exec"
	"syscall"
)

// dieWithParent makes the kernel kill cmd's process (SIGKILL) when this
// process dies, however it dies. Strictly, Linux sends the signal when the
// thread that started the child exits; Go ends a thread only when a
// goroutine locked to it (runtime.LockOSThread) returns, which this program
// never does.
func dieWithParent(cmd *exec.Cmd) {
	if cmd.SysProcAttr == nil {
		cmd.SysProcAttr = &syscall.SysProcAttr{}
	}
	cmd.SysProcAttr.Pdeathsig = syscall.SIGKILL
}
