package trace

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

// StopSignals are the signals a recording tool should catch and pass to
// Record through Options.Signals: each one ends the recording the way
// SIGTERM does (the recording is written, the target tree is stopped).
// SIGHUP (the terminal closed, an ssh session dropped) and SIGQUIT reach the
// target as SIGTERM, see toSyscallSignal.
var StopSignals = []os.Signal{unix.SIGINT, unix.SIGTERM, unix.SIGHUP, unix.SIGQUIT}

// toSyscallSignal returns the signal the target gets for sig, received by
// the caller: SIGINT and SIGTERM are passed on as they are; SIGHUP and
// SIGQUIT become SIGTERM, because they mean "stop" to profgen but
// something else to many programs (a daemon reloads its configuration on
// SIGHUP, SIGQUIT makes a core dump or, in Go, a goroutine dump). Signals
// that are not syscall.Signal become SIGTERM; other signals are passed on.
func toSyscallSignal(sig os.Signal) syscall.Signal {
	s, ok := sig.(syscall.Signal)
	if !ok {
		return unix.SIGTERM
	}
	switch s {
	case unix.SIGHUP, unix.SIGQUIT:
		return unix.SIGTERM
	}
	return s
}
