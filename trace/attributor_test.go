package trace

import (
	"errors"
	"fmt"
	"os"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/audit"
)

// The attributor is tested on records made by hand: no audit socket, no
// root. Numbers are x86_64's; the arch values are AUDIT_ARCH_*.
const (
	tNative  = unix.AUDIT_ARCH_X86_64
	tExecve  = 59
	tGetppid = 110
	tSelf    = 4000
)

func newTestAttributor(cgroups map[int]string) *attributor {
	a := newAttributor(tSelf, tNative, tExecve, nil)
	a.procCgroup = func(pid int) ([]byte, error) {
		cg, ok := cgroups[pid]
		if !ok {
			return nil, os.ErrNotExist
		}
		return []byte("12:pids:/x\n0::" + cg + "\n"), nil
	}
	a.started = true
	return &a
}

func (a *attributor) bySes(launcher int, ses uint32) {
	a.launcherPid = launcher
	a.bySessionOf(ses)
}

func TestAttributorSession(t *testing.T) {
	const ses, launcher = 42, 1000
	a := newTestAttributor(nil)
	a.bySes(launcher, ses)
	for _, tc := range []struct {
		rec  audit.Record
		want bool
	}{
		{audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: tGetppid, Comm: launcherComm}, false}, // launcher before exec
		{audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: tExecve, Comm: launcherComm}, true},   // the exec
		{audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: tGetppid}, true},                      // target
		{audit.Record{Ses: ses, Pid: launcher + 1, Arch: tNative, Syscall: tGetppid}, true},                  // child
		{audit.Record{Ses: ses + 1, Pid: launcher + 2, Arch: tNative, Syscall: tGetppid}, false},             // stranger
		{audit.Record{Ses: ses, Pid: tSelf, Arch: tNative, Syscall: tGetppid}, false},                        // profgen
		{audit.Record{Ses: ses, Pid: launcher, Arch: unix.AUDIT_ARCH_I386, Syscall: 20, Compat: true}, true}, // compat: foreign
		{audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: 0x40000000 + 39}, true},               // x32: foreign
	} {
		if got := a.count(tc.rec); got != tc.want {
			t.Errorf("%+v: counted %v, want %v", tc.rec, got, tc.want)
		}
	}
	want := map[Key]uint64{{Nr: tExecve}: 1, {Nr: tGetppid}: 2}
	if fmt.Sprint(a.counts) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", a.counts, want)
	}
	if a.foreign["x86 (compat)"] != 1 || a.foreign["x32"] != 1 {
		t.Errorf("foreign %v, want one x86 (compat) and one x32", a.foreign)
	}
	a.collected = true
	if a.count(audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: tGetppid}) {
		t.Error("a record after Collect was counted")
	}
}

// TestAttributorOwnSession: a process of the target that makes an audit
// session of its own (pam_loginuid) is followed, and so is its new
// session; the unset session is never adopted.
func TestAttributorOwnSession(t *testing.T) {
	const ses, launcher, daemon = 42, 1000, 1001
	a := newTestAttributor(nil)
	a.bySes(launcher, ses)
	a.count(audit.Record{Ses: ses, Pid: daemon, Arch: tNative, Syscall: tGetppid})
	if !a.count(audit.Record{Ses: 77, Pid: daemon, Arch: tNative, Syscall: tGetppid}) {
		t.Error("the known pid's call in its new session was not counted")
	}
	if !a.count(audit.Record{Ses: 77, Pid: daemon + 1, Arch: tNative, Syscall: tGetppid}) {
		t.Error("a child in the adopted session was not counted")
	}
	if a.otherSession != 1 {
		t.Errorf("otherSession %d, want 1", a.otherSession)
	}
	a.count(audit.Record{Ses: audit.SessionUnset, Pid: daemon, Arch: tNative, Syscall: tGetppid})
	if a.att.Sessions[audit.SessionUnset] {
		t.Error("the unset session was adopted")
	}
}

// TestAttributorCgroup: without a session, records are taken by the
// pid's cgroup, the recording cgroup or one below it; a pid gone before
// it was checked is counted as unattributed, not guessed.
func TestAttributorCgroup(t *testing.T) {
	const launcher = 1000
	a := newTestAttributor(map[int]string{
		1001: "/profgen-1",
		1002: "/profgen-1/sub",
		1003: "/profgen-10",
		1004: "/user.slice",
	})
	a.launcherPid = launcher
	a.byCgroup("/profgen-1")
	for pid, want := range map[int]bool{launcher: true, 1001: true, 1002: true, 1003: false, 1004: false, 1005: false} {
		if got := a.count(audit.Record{Ses: audit.SessionUnset, Pid: pid, Arch: tNative, Syscall: tGetppid}); got != want {
			t.Errorf("pid %d: counted %v, want %v", pid, got, want)
		}
	}
	if a.unattributed != 1 {
		t.Errorf("unattributed %d, want 1 (pid 1005, gone)", a.unattributed)
	}
	// The answer is cached: a pid reused later keeps its first answer
	// for this recording.
	a.procCgroup = func(int) ([]byte, error) { return nil, errors.New("not read again") }
	if !a.count(audit.Record{Pid: 1002, Arch: tNative, Syscall: tGetppid}) {
		t.Error("cached pid 1002 not counted")
	}
}

// TestAttributorCodes: with codes, only records of those actions count.
func TestAttributorCodes(t *testing.T) {
	const ses, launcher = 42, 1000
	a := newTestAttributor(nil)
	a.bySes(launcher, ses)
	a.codes = []uint32{unix.SECCOMP_RET_ERRNO}
	if a.count(audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: tGetppid, Code: unix.SECCOMP_RET_LOG}) {
		t.Error("a LOG record counted when only ERRNO is recorded")
	}
	if !a.count(audit.Record{Ses: ses, Pid: launcher, Arch: tNative, Syscall: tGetppid, Code: unix.SECCOMP_RET_ERRNO}) {
		t.Error("an ERRNO record was not counted")
	}
}
