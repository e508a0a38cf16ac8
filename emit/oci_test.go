package emit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/")

// learned returns the profile learned from testdata/recording.json.
func learned(t *testing.T, opts learn.Options) *learn.Profile {
	t.Helper()
	rec, err := recording.ReadFile(filepath.Join("testdata", "recording.json"))
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(rec, opts)
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func ociBytes(t *testing.T, p *learn.Profile, opts emit.OCIOptions) []byte {
	t.Helper()
	doc, err := emit.OCI(p, opts)
	if err != nil {
		t.Fatal(err)
	}
	var b bytes.Buffer
	if err := emit.WriteOCI(&b, doc); err != nil {
		t.Fatal(err)
	}
	return b.Bytes()
}

// TestOCIGolden: the OCI document for a fixed profile.
func TestOCIGolden(t *testing.T) {
	testenv.Golden(t, "recording.oci.json", ociBytes(t, learned(t, learn.Options{}), emit.OCIOptions{}), *update)
	kill := learn.KillProcess
	testenv.Golden(t, "recording-kill-log.oci.json", ociBytes(t,
		learned(t, learn.Options{Args: learn.ArgsNone, DefaultAction: &kill}),
		emit.OCIOptions{Flags: []specs.LinuxSeccompFlag{"SECCOMP_FILTER_FLAG_LOG"}}), *update)
}

// TestTextGolden: the human table for the same profile.
func TestTextGolden(t *testing.T) {
	var b bytes.Buffer
	text, err := emit.LookupFormat("text")
	if err != nil {
		t.Fatal(err)
	}
	if err := text.Emit(&b, learned(t, learn.Options{}), emit.Options{Runtime: learn.LoaderNone}); err != nil {
		t.Fatal(err)
	}
	testenv.Golden(t, "recording.txt", b.Bytes(), *update)
}

// TestOCIStructure: one entry per rule, conditions of a rule in one entry,
// never two conditions on one index in an entry (runc would OR them).
func TestOCIStructure(t *testing.T) {
	p := learned(t, learn.Options{})
	doc, err := emit.OCI(p, emit.OCIOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if doc.DefaultAction != specs.ActErrno || doc.DefaultErrnoRet == nil || *doc.DefaultErrnoRet != uint(unix.EPERM) {
		t.Errorf("default action %s errno %v", doc.DefaultAction, doc.DefaultErrnoRet)
	}
	if len(doc.Architectures) != 1 || doc.Architectures[0] != "SCMP_ARCH_X86_64" {
		t.Errorf("architectures %v", doc.Architectures)
	}
	rules := 0
	for _, s := range p.Syscalls {
		rules += len(s.Rules)
	}
	conditional := 0
	for i, e := range doc.Syscalls {
		if len(e.Args) == 0 {
			continue
		}
		conditional++
		if len(e.Names) != 1 {
			t.Errorf("syscalls[%d]: conditional entry with names %v", i, e.Names)
		}
		idx := map[uint]bool{}
		for _, a := range e.Args {
			if idx[a.Index] {
				t.Errorf("syscalls[%d] (%s): two conditions on arg %d", i, e.Names[0], a.Index)
			}
			idx[a.Index] = true
		}
	}
	if conditional != rules {
		t.Errorf("%d conditional entries for %d rules", conditional, rules)
	}
}

// TestOCIRoundTrip: ParseOCI(OCI(p)) is p, rule for rule, and gives the
// same verdicts.
func TestOCIRoundTrip(t *testing.T) {
	for _, opts := range []learn.Options{{}, {Runtime: learn.LoaderRunc}, {Args: learn.ArgsNone}} {
		p := learned(t, opts)
		back, err := emit.ParseOCI(ociBytes(t, p, emit.OCIOptions{}))
		if err != nil {
			t.Fatal(err)
		}
		if back.Arch != p.Arch || back.DefaultAction != p.DefaultAction {
			t.Errorf("arch %s default %s, want %s %s", back.Arch, back.DefaultAction, p.Arch, p.DefaultAction)
		}
		if len(back.Syscalls) != len(p.Syscalls) {
			t.Fatalf("%d syscalls back, want %d", len(back.Syscalls), len(p.Syscalls))
		}
		for i, s := range p.Syscalls {
			b := back.Syscalls[i]
			if b.Name != s.Name || b.Action != s.Action || rulesText(b.Rules) != rulesText(s.Rules) {
				t.Errorf("%s %s %s came back as %s %s %s", s.Name, s.Action, rulesText(s.Rules), b.Name, b.Action, rulesText(b.Rules))
			}
			if b.Origin != learn.OriginImported {
				t.Errorf("%s: origin %q", b.Name, b.Origin)
			}
		}
	}
}

func rulesText(rs []learn.Rule) string {
	var parts []string
	for _, r := range rs {
		parts = append(parts, r.String())
	}
	return strings.Join(parts, " || ")
}

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
	p, err := emit.ParseOCI([]byte(doc))
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
			_, err := emit.ParseOCI([]byte(tc.doc))
			if err == nil {
				t.Fatal("accepted")
			}
			if !errors.Is(err, emit.ErrProfile) {
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

// TestReadOCIFile: the path is named in errors; a missing file is
// os.ErrNotExist.
func TestReadOCIFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := emit.ReadOCIFile(filepath.Join(dir, "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{}"), 0o644)
	if _, err := emit.ReadOCIFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want an error naming %s", err, bad)
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, ociBytes(t, learned(t, learn.Options{}), emit.OCIOptions{}), 0o644)
	p, err := emit.ReadOCIFile(good)
	if err != nil {
		t.Fatal(err)
	}
	if p.Lookup("socket") == nil {
		t.Error("socket missing")
	}
}

// TestOCIValidJSON: the document has the fields runtimes read.
func TestOCIValidJSON(t *testing.T) {
	var v map[string]any
	if err := json.Unmarshal(ociBytes(t, learned(t, learn.Options{}), emit.OCIOptions{}), &v); err != nil {
		t.Fatal(err)
	}
	for _, k := range []string{"defaultAction", "defaultErrnoRet", "architectures", "syscalls"} {
		if _, ok := v[k]; !ok {
			t.Errorf("no %q in the document", k)
		}
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
	p, err := emit.ParseOCI([]byte(doc))
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
	if _, err := emit.ParseOCI([]byte(foreign)); err == nil || !strings.Contains(err.Error(), "do not include") {
		t.Errorf("foreign archMap: %v", err)
	}
}
