// Package exitcode turns how a process ended into the status a shell
// reports: its exit status, or 128+N when signal N killed it.
package exitcode

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// Of returns ps's exit status, 128+N when signal N killed it, and -1 when
// ps is nil (the process was never waited for).
func Of(ps *os.ProcessState) int {
	if ps == nil {
		return -1
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return 128 + int(ws.Signal())
	}
	return ps.ExitCode()
}

// Signal names the signal that killed the process of ps ("SIGSEGV"), or
// returns "" when none did.
func Signal(ps *os.ProcessState) string {
	if ps == nil {
		return ""
	}
	if ws, ok := ps.Sys().(syscall.WaitStatus); ok && ws.Signaled() {
		return unix.SignalName(ws.Signal())
	}
	return ""
}
