package emit_test

import (
	"bytes"
	"strings"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/learn"
)

// TestTextOffCache: the text output lists the syscalls whose argument
// rules take them off the action cache, most called first with their
// calls and share, and says so when there are none.
func TestTextOffCache(t *testing.T) {
	var futexOp learn.Rule
	futexOp[1] = learn.MaskedEqual{Mask: 0xffffffff, Value: 0x81}
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1, Syscalls: []learn.Syscall{
		{Name: "fcntl", Action: learn.Allow, Rules: []learn.Rule{futexOp}, Calls: 100, Seen: 1, Origin: learn.OriginRecorded},
		{Name: "futex", Action: learn.Allow, Rules: []learn.Rule{futexOp}, Calls: 300, Seen: 1, Origin: learn.OriginRecorded},
		{Name: "read", Action: learn.Allow, Calls: 600, Seen: 1, Origin: learn.OriginRecorded},
	}}
	var b bytes.Buffer
	if err := emit.WriteText(&b, p); err != nil {
		t.Fatal(err)
	}
	_, section, ok := strings.Cut(b.String(), "# off the action cache:")
	if !ok {
		t.Fatalf("no off-cache section:\n%s", b.String())
	}
	var rows [][]string
	for _, line := range strings.Split(section, "\n") {
		if f := strings.Fields(line); len(f) > 0 && (f[0] == "futex" || f[0] == "fcntl" || f[0] == "read") {
			rows = append(rows, f)
		}
	}
	if len(rows) != 2 || rows[0][0] != "futex" || rows[0][1] != "300" || rows[0][2] != "30.0%" ||
		rows[1][0] != "fcntl" || rows[1][1] != "100" || rows[1][2] != "10.0%" {
		t.Errorf("off-cache rows %q, want futex 300 30.0%%, then fcntl 100 10.0%%, and not read:\n%s", rows, section)
	}

	names := p.Copy()
	for i := range names.Syscalls {
		names.Syscalls[i].Rules = nil
	}
	b.Reset()
	if err := emit.WriteText(&b, names); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(b.String(), "# off the action cache: none") {
		t.Errorf("a names-only profile does not say that nothing is off the cache:\n%s", b.String())
	}
}
