package audit

import (
	"testing"

	"golang.org/x/sys/unix"
)

// TestRecordABI: a record's ABI is its architecture's, x32 for an x86_64
// call with __X32_SYSCALL_BIT in its number (never for a negative
// number), and an error for an architecture libseccomp does not know.
func TestRecordABI(t *testing.T) {
	for _, tc := range []struct {
		arch uint32
		nr   int64
		want string
	}{
		{unix.AUDIT_ARCH_X86_64, 0, "amd64"},
		{unix.AUDIT_ARCH_X86_64, -1, "amd64"},
		{unix.AUDIT_ARCH_X86_64, 0x40000000 | 110, "x32"},
		{unix.AUDIT_ARCH_I386, 64, "x86"},
		{unix.AUDIT_ARCH_AARCH64, 0x40000000, "arm64"},
	} {
		rec := Record{Arch: tc.arch, Syscall: tc.nr}
		got, err := rec.ABI()
		if err != nil || string(got) != tc.want {
			t.Errorf("arch %#x syscall %d: %q, %v; want %s", tc.arch, tc.nr, got, err, tc.want)
		}
		if rec.IsX32() != (tc.want == "x32") {
			t.Errorf("arch %#x syscall %d: IsX32 %v", tc.arch, tc.nr, rec.IsX32())
		}
	}
	if a, err := (Record{Arch: 0x1234}).ABI(); err == nil {
		t.Errorf("unknown arch: %q", a)
	}
}
