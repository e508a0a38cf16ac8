package abi

import (
	"strings"
	"testing"
)

func TestNames(t *testing.T) {
	arch, err := Native()
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"read", "openat", "socket", "clone3", "exit_group"} {
		nr, err := SyscallNumber(arch, name)
		if err != nil {
			t.Fatalf("%s: %v", name, err)
		}
		back, err := SyscallName(arch, nr)
		if err != nil || back != name {
			t.Errorf("%s -> %d -> %q, %v", name, nr, back, err)
		}
	}
	if arch == "amd64" {
		if nr, _ := SyscallNumber(arch, "getppid"); nr != 110 {
			t.Errorf("getppid is %d on amd64, want 110", nr)
		}
		// open exists on amd64; it does not on arm64.
		if _, err := SyscallNumber("arm64", "open"); err == nil {
			t.Error("open resolved on arm64")
		}
	}
	_, err = SyscallNumber(arch, "no_such_call")
	if err == nil || !strings.Contains(err.Error(), "no_such_call") {
		t.Errorf("unknown name: %v", err)
	}
}

func TestArchNames(t *testing.T) {
	for _, a := range []Arch{"amd64", "x86", "x32", "arm64"} {
		back, err := FromOCI(a.OCI())
		if err != nil || back != a {
			t.Errorf("%s -> %s -> %s, %v", a, a.OCI(), back, err)
		}
		v, err := a.Audit()
		if a == "x32" {
			continue // shares AUDIT_ARCH_X86_64 with amd64
		}
		if err != nil {
			t.Fatalf("%s: %v", a, err)
		}
		if got, err := FromAudit(v); err != nil || got != a {
			t.Errorf("%s -> %#x -> %s, %v", a, v, got, err)
		}
	}
	if _, err := FromOCI("SCMP_ARCH_NOPE"); err == nil {
		t.Error("unknown OCI arch accepted")
	}
}
