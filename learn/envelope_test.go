package learn

import (
	"slices"
	"strings"
	"testing"
)

// TestEnvelope: the envelope allows what is reachable and not excluded,
// keeps what the profile had as it was, and notes what it did.
func TestEnvelope(t *testing.T) {
	p := &Profile{Arch: "amd64", DefaultAction: ErrnoEPERM}
	rule := Rule{0: Equal{Value: 3}}
	for _, s := range []Syscall{
		{Name: "read", Action: Allow, Origin: OriginRecorded, Rules: []Rule{rule}},
		{Name: "clone3", Action: ErrnoENOSYS, Origin: OriginStub},
	} {
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	added, excluded := Envelope(p, []string{"clone3", "fsync", "ptrace", "read", "rename"}, func(name string) string {
		if name == "ptrace" {
			return "dangerous"
		}
		return ""
	})
	if !slices.Equal(added, []string{"fsync", "rename"}) || !slices.Equal(excluded, []string{"ptrace"}) {
		t.Errorf("added %v, excluded %v", added, excluded)
	}
	for name, want := range map[string]Action{"fsync": Allow, "rename": Allow, "ptrace": ErrnoEPERM, "clone3": ErrnoENOSYS} {
		if got := p.Verdict(name, [6]uint64{}); got != want {
			t.Errorf("%s: %s, want %s", name, got, want)
		}
	}
	if got := p.Verdict("read", [6]uint64{4}); got != ErrnoEPERM {
		t.Errorf("read with another descriptor: %s: the recorded rule was widened", got)
	}
	if s := p.Lookup("fsync"); s.Origin != OriginReachable {
		t.Errorf("fsync origin %s", s.Origin)
	}
	if len(p.Notes) != 1 || !strings.Contains(p.Notes[0], "left out as dangerous: ptrace") {
		t.Errorf("notes %q", p.Notes)
	}
}
