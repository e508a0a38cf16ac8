// Package abi names the system-call ABI profgen records and enforces: the
// native architecture and the mapping between syscall names and numbers.
//
// Every name/number lookup goes through libseccomp, so profgen never carries a
// syscall table of its own.
package abi

import (
	"errors"
	"fmt"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"strings"
	"sync"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"
)

// Arch is a libseccomp architecture name such as "amd64" or "x86".
type Arch string

// Native returns the architecture profgen runs on.
func Native() (Arch, error) { return native() }

var native = sync.OnceValues(func() (Arch, error) {
	a, err := seccomp.GetNativeArch()
	if err != nil {
		return "", fmt.Errorf("native architecture: %w", err)
	}
	return Arch(a.String()), nil
})

// ScmpArch converts a to libseccomp's type.
func (a Arch) ScmpArch() (seccomp.ScmpArch, error) {
	sa, err := seccomp.GetArchFromString(string(a))
	if err != nil {
		return 0, fmt.Errorf("architecture %q: %w", string(a), err)
	}
	return sa, nil
}

// OCI returns the runtime-spec name of a, for example "SCMP_ARCH_X86_64".
func (a Arch) OCI() string {
	switch a {
	case "amd64":
		return string(specs.ArchX86_64)
	case "x86":
		return string(specs.ArchX86)
	case "x32":
		return string(specs.ArchX32)
	case "arm64":
		return string(specs.ArchAARCH64)
	}
	return "SCMP_ARCH_" + strings.ToUpper(string(a))
}

// FromOCI is the inverse of Arch.OCI.
func FromOCI(name string) (Arch, error) {
	s := strings.TrimPrefix(name, "SCMP_ARCH_")
	switch s {
	case "X86_64":
		return "amd64", nil
	case "X86":
		return "x86", nil
	case "X32":
		return "x32", nil
	case "AARCH64":
		return "arm64", nil
	}
	a := Arch(strings.ToLower(s))
	if _, err := a.ScmpArch(); err != nil {
		return "", fmt.Errorf("unknown seccomp architecture %q", name)
	}
	return a, nil
}

// SyscallName resolves a syscall number on architecture a.
func SyscallName(a Arch, nr int) (string, error) {
	sa, err := a.ScmpArch()
	if err != nil {
		return "", err
	}
	name, err := seccomp.ScmpSyscall(nr).GetNameByArch(sa)
	if err != nil {
		return "", fmt.Errorf("syscall %d on %s: %w", nr, a, err)
	}
	return name, nil
}

// Errors of SyscallNumber, for errors.Is.
var (
	// ErrUnknownSyscall: libseccomp knows no syscall of that name.
	ErrUnknownSyscall = errors.New("unknown syscall")
	// ErrNotOnArch: the syscall exists, but not on that architecture.
	ErrNotOnArch = errors.New("syscall does not exist on the architecture")
)

// SyscallNumber resolves a syscall name on architecture a. It fails with
// ErrUnknownSyscall for names libseccomp does not know and with
// ErrNotOnArch for syscalls that do not exist on a.
func SyscallNumber(a Arch, name string) (int, error) {
	sa, err := a.ScmpArch()
	if err != nil {
		return 0, err
	}
	sc, err := seccomp.GetSyscallFromNameByArch(name, sa)
	if err != nil {
		return 0, fmt.Errorf("%w %q", ErrUnknownSyscall, name)
	}
	if int(sc) < 0 {
		// libseccomp's pseudo-syscall numbers: the name is known but the
		// call does not exist on this architecture.
		return 0, fmt.Errorf("%w: %q on %s", ErrNotOnArch, name, a)
	}
	return int(sc), nil
}

// auditArches maps the AUDIT_ARCH_* values carried by seccomp_data and audit
// records to architectures.
var auditArches = map[uint32]Arch{
	unix.AUDIT_ARCH_X86_64:  "amd64",
	unix.AUDIT_ARCH_I386:    "x86",
	unix.AUDIT_ARCH_AARCH64: "arm64",
	unix.AUDIT_ARCH_ARM:     "arm",
}

// FromAudit maps an AUDIT_ARCH_* value to an architecture.
func FromAudit(v uint32) (Arch, error) {
	if a, ok := auditArches[v]; ok {
		return a, nil
	}
	return "", fmt.Errorf("unknown audit architecture %#x", v)
}

// Audit returns the AUDIT_ARCH_* value of a, as seen in seccomp_data.arch.
func (a Arch) Audit() (uint32, error) {
	for v, b := range auditArches {
		if a == b {
			return v, nil
		}
	}
	return 0, fmt.Errorf("no audit architecture for %s", a)
}
