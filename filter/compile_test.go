package filter

import (
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
)

// TestCompileErrors: what libseccomp cannot enforce here is refused with a
// clear error.
func TestCompileErrors(t *testing.T) {
	p := &learn.Profile{Arch: "vax", DefaultAction: learn.ErrnoEPERM}
	if _, err := Compile(p, CompileOptions{}); err == nil || !strings.Contains(err.Error(), `architecture "vax"`) {
		t.Errorf("unknown arch: %v", err)
	}
	// A profile for aarch64 must be written for it (learn.ForArch):
	// open does not exist there.
	p = &learn.Profile{Arch: "arm64", DefaultAction: learn.ErrnoEPERM, Syscalls: []learn.Syscall{{Name: "open", Action: learn.Allow}}}
	if _, err := Compile(p, CompileOptions{}); err == nil || !strings.Contains(err.Error(), `"open" on arm64`) {
		t.Errorf("open on arm64: %v", err)
	}
	p = &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Syscalls: []learn.Syscall{{Name: "frobnicate", Action: learn.Allow}}}
	if _, err := Compile(p, CompileOptions{}); err == nil || !strings.Contains(err.Error(), "frobnicate") {
		t.Errorf("unknown syscall: %v", err)
	}
	p = &learn.Profile{Arch: "amd64", DefaultAction: learn.Action{Kind: 99}}
	if _, err := Compile(p, CompileOptions{}); err == nil || !strings.Contains(err.Error(), "default action") {
		t.Errorf("bad action: %v", err)
	}
}

// TestCompileTooLong: a filter beyond BPF_MAXINSNS is refused with advice.
func TestCompileTooLong(t *testing.T) {
	var rules []learn.Rule
	for v := range 5000 {
		rules = append(rules, learn.Rule{1: learn.Equal{Value: uint64(v)}})
	}
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Syscalls: []learn.Syscall{{Name: "ioctl", Action: learn.Allow, Rules: rules}}}
	_, err := Compile(p, CompileOptions{})
	if err == nil || !strings.Contains(err.Error(), "more than the kernel's limit of 4096") {
		t.Errorf("5000 rules: %v", err)
	}
}

// TestActionFromRet maps every return value profgen generates, and
// RetFromAction inverts it.
func TestActionFromRet(t *testing.T) {
	for _, tc := range []struct {
		ret  uint32
		want learn.Action
	}{
		{unix.SECCOMP_RET_ALLOW, learn.Allow},
		{unix.SECCOMP_RET_LOG, learn.Log},
		{unix.SECCOMP_RET_ERRNO | 1, learn.ErrnoEPERM},
		{unix.SECCOMP_RET_ERRNO | 38, learn.ErrnoENOSYS},
		{unix.SECCOMP_RET_TRAP, learn.Action{Kind: learn.ActTrap}},
		{unix.SECCOMP_RET_KILL_THREAD, learn.Action{Kind: learn.ActKillThread}},
		{unix.SECCOMP_RET_KILL_PROCESS, learn.KillProcess},
	} {
		got, err := ActionFromRet(tc.ret)
		if err != nil || got != tc.want {
			t.Errorf("%#x: %s, %v; want %s", tc.ret, got, err, tc.want)
		}
		if back := RetFromAction(tc.want); back != tc.ret {
			t.Errorf("RetFromAction(%s) = %#x, want %#x", tc.want, back, tc.ret)
		}
	}
	if _, err := ActionFromRet(unix.SECCOMP_RET_USER_NOTIF); err == nil {
		t.Error("USER_NOTIF accepted")
	}
}

// TestLogBase: the --base filter allows what the base allows and logs
// everything else, the base's denials included.
func TestLogBase(t *testing.T) {
	base := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Syscalls: []learn.Syscall{
		{Name: "read", Action: learn.Allow},
		{Name: "ptrace", Action: learn.KillProcess},
	}}
	prog, err := LogBase(base)
	if err != nil {
		t.Fatal(err)
	}
	filters, err := iseccomp.DecodeFilter(prog)
	if err != nil {
		t.Fatal(err)
	}
	var rets []uint32
	for _, f := range filters {
		if f.Code == unix.BPF_RET|unix.BPF_K {
			rets = append(rets, f.K)
		}
	}
	if !slices.Contains(rets, unix.SECCOMP_RET_ALLOW) || !slices.Contains(rets, unix.SECCOMP_RET_LOG) {
		t.Errorf("filter returns %#x: want both ALLOW and LOG", rets)
	}
	for _, r := range rets {
		if r != unix.SECCOMP_RET_ALLOW && r != unix.SECCOMP_RET_LOG {
			t.Errorf("filter returns %#x: want only ALLOW and LOG", r)
		}
	}
	if base.DefaultAction != learn.ErrnoEPERM || len(base.Syscalls) != 2 {
		t.Errorf("LogBase changed its argument: %+v", base)
	}
}

// TestUnsetActionFails: an Action left at its zero value is no action: the
// compiler refuses it, for the default and for a syscall, and
// RetFromAction panics instead of returning a value.
func TestUnsetActionFails(t *testing.T) {
	for _, p := range []*learn.Profile{
		{Arch: "amd64"},
		{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Syscalls: []learn.Syscall{{Name: "read"}}},
	} {
		if _, err := Compile(p, CompileOptions{}); err == nil || !strings.Contains(err.Error(), "unset") {
			t.Errorf("profile %+v compiled: %v", p, err)
		}
	}
	defer func() {
		if recover() == nil {
			t.Error("RetFromAction(Action{}) did not panic")
		}
	}()
	RetFromAction(learn.Action{})
}
