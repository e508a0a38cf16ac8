// Package testenv decides, in tests, whether a kernel feature is truly
// missing (skip, with the reason) or whether its failure is a bug (fail).
// A backend reports a missing feature as trace.ErrNotSupported; on a
// machine that has the feature, that report must fail the test rather
// than hide a regression behind a skip.
package testenv

import (
	"os"
	"strings"
	"testing"
)

// EBPFUnsupported is called when the eBPF recorder reported err as not
// supported: it skips when this machine lacks what the recorder needs
// (root, BTF), and fails the test otherwise.
func EBPFUnsupported(t testing.TB, err error) {
	t.Helper()
	if reason := missingEBPF(); reason != "" {
		t.Skipf("eBPF recorder unavailable (%s): %v", reason, err)
	}
	t.Fatalf("the eBPF recorder reports itself unsupported on a machine with root and BTF: %v", err)
}

// AuditUnsupported is the same for the log backend: it skips only when
// the machine cannot deliver seccomp audit records (not root, audit
// disabled at boot, no audit support in the kernel).
func AuditUnsupported(t testing.TB, err error) {
	t.Helper()
	if reason := missingAudit(); reason != "" {
		t.Skipf("log backend unavailable (%s): %v", reason, err)
	}
	t.Fatalf("the log backend reports itself unsupported on a machine with root and audit: %v", err)
}

func missingEBPF() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if _, err := os.Stat("/sys/kernel/btf/vmlinux"); err != nil {
		return "no kernel BTF"
	}
	return ""
}

func missingAudit() string {
	if os.Geteuid() != 0 {
		return "not root"
	}
	if cmdline, err := os.ReadFile("/proc/cmdline"); err == nil && strings.Contains(" "+string(cmdline), " audit=0") {
		return "audit=0 on the kernel command line"
	}
	if _, err := os.Stat("/proc/self/loginuid"); err != nil {
		return "kernel without audit"
	}
	return ""
}
