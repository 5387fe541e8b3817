//go:build unix

package child

import "syscall"

// Stop stops the process with SIGSTOP, until Continue.
func (p *Proc) Stop() error { return p.Cmd.Process.Signal(syscall.SIGSTOP) }

// Continue lets a process stopped by Stop run again, with SIGCONT.
func (p *Proc) Continue() error { return p.Cmd.Process.Signal(syscall.SIGCONT) }
