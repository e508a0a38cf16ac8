package readers_test

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
)

// TestParseOCIRuncSplit: two conditions on one argument index in an entry
// mean what runc makes of them, a rule each (OR); on different indexes they
// AND.
func TestParseOCIRuncSplit(t *testing.T) {
	doc := `{
  "defaultAction": "SCMP_ACT_ERRNO",
  "architectures": ["SCMP_ARCH_X86_64", "SCMP_ARCH_X86", "SCMP_ARCH_X32"],
  "syscalls": [
    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 0, "op": "SCMP_CMP_EQ"},
      {"index": 0, "value": 8, "op": "SCMP_CMP_EQ"}
    ]},
    {"names": ["socket", "socketpair"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 0, "value": 1, "op": "SCMP_CMP_EQ"},
      {"index": 1, "value": 4294440959, "valueTwo": 1, "op": "SCMP_CMP_MASKED_EQ"}
    ]},
    {"names": ["kill"], "action": "SCMP_ACT_ALLOW", "args": [
      {"index": 1, "value": 15, "op": "SCMP_CMP_EQ"},
      {"index": 1, "value": 9, "op": "SCMP_CMP_EQ"},
      {"index": 0, "value": 1, "op": "SCMP_CMP_GT"}
    ]},
    {"names": ["ptrace"], "action": "SCMP_ACT_KILL_PROCESS"},
    {"names": ["clone3"], "action": "SCMP_ACT_ERRNO", "errnoRet": 38}
  ]
}`
	p, err := readers.ParseOCI([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	eperm := learn.ErrnoEPERM
	for _, c := range []struct {
		name string
		args [6]uint64
		want learn.Action
	}{
		{"personality", [6]uint64{0}, learn.Allow},
		{"personality", [6]uint64{8}, learn.Allow},
		{"personality", [6]uint64{4}, eperm},
		{"socket", [6]uint64{1, 1}, learn.Allow},
		{"socket", [6]uint64{1, 1 | unix.SOCK_CLOEXEC}, learn.Allow},
		{"socket", [6]uint64{2, 1}, eperm},
		{"socket", [6]uint64{1, 2}, eperm},
		{"socketpair", [6]uint64{1, 1}, learn.Allow},
		// runc splits all three conditions of kill into rules of their own.
		{"kill", [6]uint64{1, 15}, learn.Allow},
		{"kill", [6]uint64{1, 9}, learn.Allow},
		{"kill", [6]uint64{5, 2}, learn.Allow},
		{"kill", [6]uint64{1, 2}, eperm},
		{"ptrace", [6]uint64{}, learn.KillProcess},
		{"clone3", [6]uint64{}, learn.ErrnoENOSYS},
		{"getuid", [6]uint64{}, eperm},
	} {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%s%#x: %s, want %s", c.name, c.args, got, c.want)
		}
	}
	if n := len(p.Lookup("kill").Rules); n != 3 {
		t.Errorf("kill: %d rules, want 3", n)
	}
	if n := len(p.Lookup("socket").Rules); n != 1 {
		t.Errorf("socket: %d rules, want 1", n)
	}
}

// TestParseOCIErrors: each unusable document is an ErrProfile error that
// names where the problem is.
func TestParseOCIErrors(t *testing.T) {
	for _, tc := range []struct {
		name, doc string
		want      []string
	}{
		{"not JSON", "{\n  \"defaultAction\": SCMP_ACT_ERRNO\n}", []string{"line 2 column"}},
		{"truncated", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [`, []string{"line 1 column", "unexpected end"}},
		{"no default", `{"syscalls": []}`, []string{"no defaultAction"}},
		{"unknown default", `{"defaultAction": "SCMP_ACT_MAYBE"}`, []string{"defaultAction", "SCMP_ACT_MAYBE"}},
		{"foreign arch only", `{"defaultAction": "SCMP_ACT_ERRNO", "architectures": ["SCMP_ARCH_AARCH64", "SCMP_ARCH_ARM"]}`,
			[]string{"do not include the native SCMP_ARCH_X86_64"}},
		{"unknown syscall", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
			{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["write", "frobnicate"], "action": "SCMP_ACT_ALLOW"}]}`,
			[]string{"syscalls[1].names[1]", "frobnicate"}},
		{"no names", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": [], "action": "SCMP_ACT_ALLOW"}]}`,
			[]string{"syscalls[0]: no names"}},
		{"unknown action", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_NOTIFY"}]}`,
			[]string{"syscalls[0]", "SCMP_ACT_NOTIFY"}},
		{"errno out of range", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ERRNO", "errnoRet": 5000}]}`,
			[]string{"syscalls[0]", "errnoRet 5000"}},
		{"unknown op", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
			"args": [{"index": 0, "value": 1, "op": "SCMP_CMP_EQ"}, {"index": 1, "value": 1, "op": "SCMP_CMP_LIKE"}]}]}`,
			[]string{"syscalls[0] (read): args[1]: unknown operator \"SCMP_CMP_LIKE\""}},
		{"index above 5", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read"], "action": "SCMP_ACT_ALLOW",
			"args": [{"index": 6, "value": 1, "op": "SCMP_CMP_EQ"}]}]}`,
			[]string{"syscalls[0] (read): args[0]: index 6 is not 0..5"}},
		{"conflicting actions", `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [
			{"names": ["read"], "action": "SCMP_ACT_ALLOW"},
			{"names": ["read"], "action": "SCMP_ACT_KILL_PROCESS"}]}`,
			[]string{"syscalls[1]", "read"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := readers.ParseOCI([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, readers.ErrProfile) {
				t.Errorf("%v is not ErrProfile", err)
			}
			for _, w := range tc.want {
				if !strings.Contains(err.Error(), w) {
					t.Errorf("error %q does not say %q", err, w)
				}
			}
		})
	}
}

// TestParseOCIDocker: a profile in Docker's format (archMap, conditional
// entries, syscalls of other architectures) is read the way runc reads it,
// never allowing more: conditional entries and syscalls that do not exist
// here are left out, and notes say so.
func TestParseOCIDocker(t *testing.T) {
	doc := `{
	  "defaultAction": "SCMP_ACT_ERRNO",
	  "archMap": [{"architecture": "SCMP_ARCH_X86_64", "subArchitectures": ["SCMP_ARCH_X86", "SCMP_ARCH_X32"]}],
	  "syscalls": [
	    {"names": ["read", "socketcall"], "action": "SCMP_ACT_ALLOW"},
	    {"names": ["ptrace"], "action": "SCMP_ACT_ALLOW", "includes": {"caps": ["CAP_SYS_PTRACE"]}},
	    {"names": ["personality"], "action": "SCMP_ACT_ALLOW", "excludes": {"arches": ["s390x"]}}
	  ]}`
	p, err := readers.ParseOCI([]byte(doc))
	if err != nil {
		t.Fatal(err)
	}
	if got := p.Allowed(); !slices.Equal(got, []string{"read"}) {
		t.Errorf("allowed %v, want [read]", got)
	}
	notes := strings.Join(p.Notes, "\n")
	for _, want := range []string{"ptrace", "personality", "socketcall"} {
		if !strings.Contains(notes, want) {
			t.Errorf("notes do not name %s: %q", want, notes)
		}
	}
	// archMap counts as architectures: a foreign-only map is refused.
	foreign := strings.Replace(doc, "SCMP_ARCH_X86_64", "SCMP_ARCH_AARCH64", 1)
	if _, err := readers.ParseOCI([]byte(foreign)); err == nil || !strings.Contains(err.Error(), "do not include") {
		t.Errorf("foreign archMap: %v", err)
	}
}
