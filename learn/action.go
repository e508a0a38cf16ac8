package learn

import (
	"fmt"
	"syscall"
)

// ActionKind is what the kernel does with a syscall.
type ActionKind int

// Action kinds, in the order of their precedence in the kernel (most
// restrictive last). The zero ActionKind, ActUnset, is no action at all:
// every consumer (the filter compiler, every output format) refuses it, so
// an Action field left unset fails loudly instead of meaning allow.
const (
	ActUnset ActionKind = iota
	ActAllow
	ActLog
	ActErrno
	ActTrap
	ActKillThread
	ActKillProcess
)

// Action is an ActionKind with its errno for ActErrno. The zero Action is
// unset (ActUnset), not allow.
type Action struct {
	Kind  ActionKind
	Errno uint16
}

// Common actions.
var (
	Allow       = Action{Kind: ActAllow}
	Log         = Action{Kind: ActLog}
	KillProcess = Action{Kind: ActKillProcess}
	ErrnoEPERM  = Errno(syscall.EPERM)
	ErrnoENOSYS = Errno(syscall.ENOSYS)
)

// Errno returns the action that fails a syscall with e.
func Errno(e syscall.Errno) Action { return Action{Kind: ActErrno, Errno: uint16(e)} }

// IsSet reports whether a has a kind: the zero Action is unset.
func (a Action) IsSet() bool { return a.Kind != ActUnset }

func (a Action) String() string {
	switch a.Kind {
	case ActUnset:
		return "unset"
	case ActAllow:
		return "allow"
	case ActLog:
		return "log"
	case ActErrno:
		return fmt.Sprintf("errno(%s)", errnoName(a.Errno))
	case ActTrap:
		return "trap"
	case ActKillThread:
		return "kill-thread"
	case ActKillProcess:
		return "kill-process"
	}
	return fmt.Sprintf("action(%d)", int(a.Kind))
}

func errnoName(e uint16) string {
	switch syscall.Errno(e) {
	case syscall.EPERM:
		return "EPERM"
	case syscall.ENOSYS:
		return "ENOSYS"
	case syscall.EACCES:
		return "EACCES"
	}
	return fmt.Sprint(e)
}

// ParseDefaultAction parses the CLI names of default actions: errno (EPERM),
// kill (kill the process) and log.
func ParseDefaultAction(s string) (Action, error) {
	switch s {
	case "errno":
		return ErrnoEPERM, nil
	case "kill":
		return KillProcess, nil
	case "log":
		return Log, nil
	}
	return Action{}, fmt.Errorf("unknown default action %q (want errno, kill or log)", s)
}
