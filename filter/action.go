package filter

import (
	"fmt"

	"golang.org/x/sys/unix"

	iseccomp "github.com/profgen/profgen/internal/seccomp"
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

// kinds are the model's action kinds of the return values
// internal/seccomp.DecodeRet names; the others (TRACE, USER_NOTIF, an
// unknown action) profgen never generates.
var kinds = map[string]learn.ActionKind{
	iseccomp.ActAllow:       learn.ActAllow,
	iseccomp.ActLog:         learn.ActLog,
	iseccomp.ActErrno:       learn.ActErrno,
	iseccomp.ActTrap:        learn.ActTrap,
	iseccomp.ActKillThread:  learn.ActKillThread,
	iseccomp.ActKillProcess: learn.ActKillProcess,
}

// ActionFromRet maps a seccomp filter's return value, as
// internal/seccomp.DecodeRet decodes it, to the model's action. Actions
// profgen never generates (TRACE, USER_NOTIF) are errors.
func ActionFromRet(ret uint32) (learn.Action, error) {
	d := iseccomp.DecodeRet(ret)
	kind, ok := kinds[d.Name]
	if !ok {
		return learn.Action{}, fmt.Errorf("filter returned %#x, an action profgen does not generate", ret)
	}
	a := learn.Action{Kind: kind}
	if d.Errno != nil {
		a.Errno = *d.Errno
	}
	return a, nil
}
