package argspec

import (
	"errors"
	"testing"

	"github.com/profgen/profgen/internal/abi"
)

// TestPurposeNames checks that every name of the purpose table is a syscall
// libseccomp knows, in one group only, and that the x86_64 syscalls the
// persistence and network paths of a server make fall where a reader of
// profgen reachable looks for them.
func TestPurposeNames(t *testing.T) {
	seen := map[string]string{}
	for p, names := range purposes {
		for _, n := range names {
			if q, dup := seen[n]; dup {
				t.Errorf("%s is in %q and %q", n, q, p)
			}
			seen[n] = p
			if _, err := abi.SyscallNumber("amd64", n); err != nil && !errors.Is(err, abi.ErrNotOnArch) {
				t.Errorf("%s (%s): %v", n, p, err)
			}
		}
	}
	for name, want := range map[string]string{
		"fsync": PurposeFileWrite, "fdatasync": PurposeFileWrite, "rename": PurposeFileWrite,
		"openat": PurposeFileRead, "accept4": PurposeNetwork, "execve": PurposeProcess,
		"setuid": PurposeCreds, "mmap": PurposeMemory, "mount": PurposeSystem,
		"sched_foo": PurposeProcess, "no_such_call": PurposeOther,
	} {
		if got := Purpose(name); got != want {
			t.Errorf("Purpose(%s) = %q, want %q", name, got, want)
		}
	}
}
