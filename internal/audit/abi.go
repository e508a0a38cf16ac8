package audit

import (
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

// IsX32 reports whether r is an x32 call on x86_64: the record carries the
// native arch value, and __X32_SYSCALL_BIT in the number (a negative
// number, such as -1, is no x32 call).
func (r Record) IsX32() bool {
	return r.Arch == unix.AUDIT_ARCH_X86_64 && r.Syscall >= abi.X32SyscallBit
}

// ABI returns the ABI r's call was made through, as libseccomp names it
// ("amd64", "x86", "arm64", ...), "x32" for an x32 call; an error for an
// architecture libseccomp does not know. The number, for x32 with
// __X32_SYSCALL_BIT, is r.Syscall: abi.SyscallName(r.ABI(), r.Syscall)
// names the call.
func (r Record) ABI() (abi.Arch, error) {
	a, err := abi.FromAudit(r.Arch)
	if err != nil {
		return "", err
	}
	if r.IsX32() {
		return "x32", nil
	}
	return a, nil
}
