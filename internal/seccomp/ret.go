package seccomp

import (
	"fmt"

	"golang.org/x/sys/unix"
)

// Action names of DecodeRet, as /proc/sys/kernel/seccomp/actions_avail
// spells them.
const (
	ActKillProcess = "kill_process"
	ActKillThread  = "kill_thread"
	ActTrap        = "trap"
	ActErrno       = "errno"
	ActUserNotif   = "user_notif"
	ActTrace       = "trace"
	ActLog         = "log"
	ActAllow       = "allow"
)

// Action is a decoded seccomp return value.
type Action struct {
	// Name is one of the Act* names; an action value the kernel does not
	// define is named "unknown" (the kernel kills the process for it).
	Name string `json:"name"`
	// Errno is the error number of an errno action.
	Errno *uint16 `json:"errno,omitempty"`
	// ErrnoName is Errno's symbolic name, such as "EPERM".
	ErrnoName string `json:"errnoName,omitempty"`
	// Data is SECCOMP_RET_DATA of a trap or trace action (passed to the
	// signal handler or the tracer).
	Data *uint16 `json:"data,omitempty"`
	// Ret is the raw return value.
	Ret uint32 `json:"ret"`
	// FromFilter is set when Errno was not in the return value seen (an
	// audit record carries the action only) but found by running the
	// caller's filter.
	FromFilter bool `json:"errnoFromFilter,omitempty"`
}

// DecodeRet decodes the value a seccomp filter returns (also the code=
// field of an audit record).
func DecodeRet(ret uint32) Action {
	data := uint16(ret & unix.SECCOMP_RET_DATA)
	a := Action{Ret: ret}
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_KILL_PROCESS:
		a.Name = ActKillProcess
	case unix.SECCOMP_RET_KILL_THREAD:
		a.Name = ActKillThread
	case unix.SECCOMP_RET_TRAP:
		a.Name = ActTrap
		a.Data = &data
	case unix.SECCOMP_RET_ERRNO:
		a.Name = ActErrno
		a.Errno = &data
		a.ErrnoName = unix.ErrnoName(unix.Errno(data))
	case unix.SECCOMP_RET_USER_NOTIF:
		a.Name = ActUserNotif
	case unix.SECCOMP_RET_TRACE:
		a.Name = ActTrace
		a.Data = &data
	case unix.SECCOMP_RET_LOG:
		a.Name = ActLog
	case unix.SECCOMP_RET_ALLOW:
		a.Name = ActAllow
	default:
		a.Name = "unknown"
	}
	return a
}

// Allows reports whether the syscall runs under a: allow and log.
func (a Action) Allows() bool { return a.Name == ActAllow || a.Name == ActLog }

// String is the action as profgen prints it: "errno(EPERM)",
// "trace(7)", "kill_process".
func (a Action) String() string {
	switch {
	case a.Errno != nil:
		if a.ErrnoName != "" {
			return fmt.Sprintf("%s(%s)", a.Name, a.ErrnoName)
		}
		return fmt.Sprintf("%s(%d)", a.Name, *a.Errno)
	case a.Data != nil && *a.Data != 0:
		return fmt.Sprintf("%s(%d)", a.Name, *a.Data)
	case a.Name == "unknown":
		return fmt.Sprintf("unknown(%#x)", a.Ret)
	}
	return a.Name
}
