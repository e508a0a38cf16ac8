package filter

import (
	"errors"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

// TestCompileOCI: an OCI profile compiled as runc loads it: its default
// errno, its rules, ENOSYS above the largest number it names on each
// listed architecture (x32 apart), other ABIs killing the thread, and its
// flags; a notify profile is left to the runtime, an unknown flag refused.
func TestCompileOCI(t *testing.T) {
	eacces := uint(unix.EACCES)
	doc := &specs.LinuxSeccomp{
		DefaultAction:   specs.ActErrno,
		DefaultErrnoRet: &eacces,
		Architectures:   []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32},
		Flags:           []specs.LinuxSeccompFlag{specs.LinuxSeccompFlagLog, specs.LinuxSeccompFlagSpecAllow},
		Syscalls: []specs.LinuxSyscall{
			{Names: []string{"read", "write", "clone3"}, Action: specs.ActAllow},
			{Names: []string{"personality"}, Action: specs.ActAllow, Args: []specs.LinuxSeccompArg{{Index: 0, Value: 8, Op: specs.OpEqualTo}}},
		},
	}
	out, err := CompileOCI(doc)
	if err != nil {
		t.Fatal(err)
	}
	if out.Flags != unix.SECCOMP_FILTER_FLAG_LOG|unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW {
		t.Errorf("flags %#x", out.Flags)
	}
	vm, err := NewVM(out.Program)
	if err != nil {
		t.Fatal(err)
	}
	nr := func(a abi.Arch, name string) int32 {
		n, err := abi.SyscallNumber(a, name)
		if err != nil {
			t.Fatal(err)
		}
		return int32(n)
	}
	const (
		allow  = unix.SECCOMP_RET_ALLOW
		errno  = unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)
		enosys = unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)
		kill   = unix.SECCOMP_RET_KILL_THREAD
	)
	x86_64, i386 := uint32(unix.AUDIT_ARCH_X86_64), uint32(unix.AUDIT_ARCH_I386)
	for _, c := range []struct {
		what string
		d    SeccompData
		want uint32
	}{
		{"read", SeccompData{Nr: nr("amd64", "read"), Arch: x86_64}, allow},
		{"openat (not named)", SeccompData{Nr: nr("amd64", "openat"), Arch: x86_64}, errno},
		{"personality(8)", SeccompData{Nr: nr("amd64", "personality"), Arch: x86_64, Args: [6]uint64{8}}, allow},
		{"personality(0)", SeccompData{Nr: nr("amd64", "personality"), Arch: x86_64}, errno},
		{"above clone3", SeccompData{Nr: nr("amd64", "clone3") + 1, Arch: x86_64}, enosys},
		{"i386 read", SeccompData{Nr: nr("x86", "read"), Arch: i386}, allow},
		{"i386 above clone3", SeccompData{Nr: nr("x86", "clone3") + 1, Arch: i386}, enosys},
		{"x32 read", SeccompData{Nr: nr("x32", "read"), Arch: x86_64}, allow},
		{"x32 above clone3", SeccompData{Nr: nr("x32", "clone3") + 1, Arch: x86_64}, enosys},
		{"aarch64", SeccompData{Nr: 63, Arch: unix.AUDIT_ARCH_AARCH64}, kill},
	} {
		got, err := vm.Run(c.d)
		if err != nil {
			t.Fatal(err)
		}
		if got != c.want {
			t.Errorf("%s: %#x, want %#x", c.what, got, c.want)
		}
	}

	// Allowing by default, or ENOSYS by default: no stub.
	for _, d := range []*specs.LinuxSeccomp{
		{DefaultAction: specs.ActAllow, Architectures: doc.Architectures, Syscalls: []specs.LinuxSyscall{{Names: []string{"read"}, Action: specs.ActErrno}}},
		{DefaultAction: specs.ActErrno, DefaultErrnoRet: func() *uint { e := uint(unix.ENOSYS); return &e }(), Architectures: doc.Architectures, Syscalls: doc.Syscalls},
	} {
		if stub, err := ENOSYSStub(d); err != nil || stub != nil {
			t.Errorf("default %s: stub %v, %v", d.DefaultAction, stub, err)
		}
	}

	notify := *doc
	notify.Syscalls = append([]specs.LinuxSyscall{{Names: []string{"mount"}, Action: specs.ActNotify}}, doc.Syscalls...)
	if _, err := CompileOCI(&notify); !errors.Is(err, ErrRuntimeOnly) {
		t.Errorf("notify: %v", err)
	}
	flag := *doc
	flag.Flags = []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_NEW"}
	if _, err := CompileOCI(&flag); err == nil || !strings.Contains(err.Error(), "SECCOMP_FILTER_FLAG_NEW is not known to runc") {
		t.Errorf("unknown flag: %v", err)
	}
}
