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

// The exit statuses of profgen itself, one table for every command. A
// command's help and docs/cli.md say which apply to it.
const (
	// OK: the command did what was asked; replay: nothing was denied;
	// diff: no drift.
	OK = 0
	// Failed: emit, merge, explain, dump, monitor, push, pull or version
	// could not do what was asked (bad input, an unwritable output, a recording that
	// lost events); profgen-runc failed itself (as runc does, the real
	// runtime's own statuses are passed through).
	Failed = 1
	// Found: replay found a denied syscall, diff found drift.
	Found = 1
	// Error: replay or diff could not compare (bad input, runc or audit
	// unavailable).
	Error = 2
	// NoVerdict: replay or diff found nothing, but cannot vouch for the
	// profile: the workload or driver failed, or a recording lost events.
	NoVerdict = 3
	// NotSaturated: merge --require-saturated (or diff
	// --require-saturated) found that one of the last inputs still added
	// a syscall or an argument shape: learning had not saturated.
	NotSaturated = 4
	// Tool: record failed itself (bad flags, unwritable output, the
	// backend); every other status of record is the target's (or, with
	// --drive, the driver's), passed through. 125 is what env, timeout
	// and docker run use for the same purpose.
	Tool = 125
)
