package child

import (
	"fmt"

	"golang.org/x/sys/windows"
)

// Windows has no SIGSTOP: ntdll's NtSuspendProcess suspends every thread of
// a process and NtResumeProcess resumes them, as Process Explorer and
// debuggers do. Wine implements both.
var (
	ntdll            = windows.NewLazySystemDLL("ntdll.dll")
	ntSuspendProcess = ntdll.NewProc("NtSuspendProcess")
	ntResumeProcess  = ntdll.NewProc("NtResumeProcess")
)

// Stop suspends every thread of the process (NtSuspendProcess), until
// Continue.
func (p *Proc) Stop() error { return p.suspend(ntSuspendProcess, "NtSuspendProcess") }

// Continue resumes a process that Stop suspended (NtResumeProcess).
func (p *Proc) Continue() error { return p.suspend(ntResumeProcess, "NtResumeProcess") }

func (p *Proc) suspend(call *windows.LazyProc, name string) error {
	if err := call.Find(); err != nil {
		return err
	}
	h, err := windows.OpenProcess(windows.PROCESS_SUSPEND_RESUME, false, uint32(p.Cmd.Process.Pid))
	if err != nil {
		return fmt.Errorf("opening process %d: %w", p.Cmd.Process.Pid, err)
	}
	defer windows.CloseHandle(h)
	if st, _, _ := call.Call(uintptr(h)); st != 0 {
		return fmt.Errorf("%s(%d): %w", name, p.Cmd.Process.Pid, windows.NTStatus(st))
	}
	return nil
}
