package filter

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
)

// RetFromAction is the inverse of ActionFromRet: the value a filter returns
// for a, as audit records show it in code=. An action of no known kind (the
// zero, unset Action: a forgotten field) panics.
func RetFromAction(a learn.Action) uint32 {
	switch a.Kind {
	case learn.ActAllow:
		return unix.SECCOMP_RET_ALLOW
	case learn.ActLog:
		return unix.SECCOMP_RET_LOG
	case learn.ActErrno:
		return unix.SECCOMP_RET_ERRNO | uint32(a.Errno)&unix.SECCOMP_RET_DATA
	case learn.ActTrap:
		return unix.SECCOMP_RET_TRAP
	case learn.ActKillThread:
		return unix.SECCOMP_RET_KILL_THREAD
	case learn.ActKillProcess:
		return unix.SECCOMP_RET_KILL_PROCESS
	}
	panic(fmt.Sprintf("filter: no seccomp return value for action %s", a))
}

// ActionFromRet maps a seccomp filter's return value to the model's
// action. Actions profgen never generates (TRACE, USER_NOTIF) are errors.
func ActionFromRet(ret uint32) (learn.Action, error) {
	data := uint16(ret & unix.SECCOMP_RET_DATA)
	switch ret & unix.SECCOMP_RET_ACTION_FULL {
	case unix.SECCOMP_RET_ALLOW:
		return learn.Allow, nil
	case unix.SECCOMP_RET_LOG:
		return learn.Log, nil
	case unix.SECCOMP_RET_ERRNO:
		return learn.Action{Kind: learn.ActErrno, Errno: data}, nil
	case unix.SECCOMP_RET_TRAP:
		return learn.Action{Kind: learn.ActTrap}, nil
	case unix.SECCOMP_RET_KILL_THREAD:
		return learn.Action{Kind: learn.ActKillThread}, nil
	case unix.SECCOMP_RET_KILL_PROCESS:
		return learn.KillProcess, nil
	}
	return learn.Action{}, fmt.Errorf("filter returned %#x, an action profgen does not generate", ret)
}
