package replay

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
)

// TestAddDenialsABI: a denial is named for the ABI of its record
// (audit.Record.ABI): the native one plain, another one and x32 prefixed.
func TestAddDenialsABI(t *testing.T) {
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM}
	kill := uint32(unix.SECCOMP_RET_KILL_PROCESS)
	recs := []audit.Record{
		{Arch: unix.AUDIT_ARCH_X86_64, Syscall: unix.SYS_PTRACE, Code: kill},
		{Arch: unix.AUDIT_ARCH_X86_64, Syscall: 0x40000000 | 110, Code: kill},
		{Arch: unix.AUDIT_ARCH_I386, Syscall: 26, Code: kill, Compat: true},
	}
	var r Report
	if err := r.addDenials(recs, p); err != nil {
		t.Fatal(err)
	}
	got := map[string]bool{}
	for _, v := range r.Violations {
		got[v.Syscall] = true
	}
	for _, want := range []string{"ptrace", "x32:getppid", "x86:ptrace"} {
		if !got[want] {
			t.Errorf("no violation %s in %v", want, r.Violations)
		}
	}
}

// TestCollectorFlush: the collector's flush returns once its own audit
// marker has been read (audit.Markers), with no workload at all.
func TestCollectorFlush(t *testing.T) {
	c, err := newCollector(false)
	if err != nil {
		testenv.AuditUnsupported(t, err)
	}
	defer c.close()
	for range 2 {
		if err := c.flush(); err != nil {
			t.Fatal(err)
		}
	}
}
