package emit_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"flag"
	"os"
	"path/filepath"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
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
		back, err := readers.ParseOCI(ociBytes(t, p, emit.OCIOptions{}))
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

// TestReadOCIFile: the path is named in errors; a missing file is
// os.ErrNotExist.
func TestReadOCIFile(t *testing.T) {
	dir := t.TempDir()
	if _, err := readers.ReadOCIFile(filepath.Join(dir, "none.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("missing file: %v", err)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte("{}"), 0o644)
	if _, err := readers.ReadOCIFile(bad); err == nil || !strings.Contains(err.Error(), bad) {
		t.Errorf("bad file: %v, want an error naming %s", err, bad)
	}
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, ociBytes(t, learned(t, learn.Options{}), emit.OCIOptions{}), 0o644)
	p, err := readers.ReadOCIFile(good)
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
