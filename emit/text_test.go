package emit_test

import (
	"bytes"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
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

// TestTextRuntime: the text format says which runtime's own calls were
// added, naming those it added, or that none was.
func TestTextRuntime(t *testing.T) {
	text, err := emit.LookupFormat("text")
	if err != nil {
		t.Fatal(err)
	}
	for _, rt := range []learn.Loader{learn.LoaderNone, learn.LoaderRunc, learn.LoaderCrun} {
		p := learned(t, learn.Options{Runtime: rt})
		var b bytes.Buffer
		if err := text.Emit(&b, p, emit.Options{Runtime: rt}); err != nil {
			t.Fatal(err)
		}
		line := ""
		for _, l := range strings.Split(b.String(), "\n") {
			if strings.HasPrefix(l, "# runtime: ") {
				line = l
			}
		}
		var added []string
		for _, s := range p.Syscalls {
			if s.Origin == learn.OriginRuntime {
				added = append(added, s.Name)
			}
		}
		switch {
		case rt == learn.LoaderNone:
			if len(added) != 0 || !strings.HasPrefix(line, "# runtime: none: no container runtime's own calls were added") {
				t.Errorf("none: added %v, line %q", added, line)
			}
		case len(added) == 0:
			t.Errorf("%s: the profile has no runtime entry", rt)
		default:
			want := "# runtime: " + string(rt) + ": its own calls after loading the filter were added (" + fmt.Sprint(len(added)) + ": " + strings.Join(added, ", ") + ")"
			if line != want {
				t.Errorf("%s: line %q, want %q", rt, line, want)
			}
		}
	}
}

// TestFormatRuntimeDefaults: the formats an OCI runtime loads add runc's
// own calls by default; the others, which a program, systemd or bwrap
// loads, add none.
func TestFormatRuntimeDefaults(t *testing.T) {
	want := map[string]learn.Loader{"oci": learn.LoaderRunc, "k8s": learn.LoaderRunc}
	for _, f := range emit.Formats {
		w, ok := want[f.Name]
		if !ok {
			w = learn.LoaderNone
		}
		if f.Runtime != w {
			t.Errorf("format %s: default runtime %q, want %q", f.Name, f.Runtime, w)
		}
		if !strings.Contains(emit.FormatHelp(), "(--runtime "+string(w)+")") {
			t.Errorf("FormatHelp does not give %s's default runtime", f.Name)
		}
	}
}

// TestTextEvidenceGolden: from a recording with evidence, the text format
// has the columns FIRST, PHASES and EXES for each recorded syscall ("-"
// for the baseline), and with the serving phase's profile a line that
// says what the serving filter drops: the start-up-only calls, ptrace
// among them dangerous.
func TestTextEvidenceGolden(t *testing.T) {
	rec, err := recording.ReadFile(filepath.Join("testdata", "recording-evidence.json"))
	if err != nil {
		t.Fatal(err)
	}
	full, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	ph, err := rec.Phase(recording.PhaseServing)
	if err != nil {
		t.Fatal(err)
	}
	serving, err := learn.FromRecording(ph, learn.Options{})
	if err != nil {
		t.Fatal(err)
	}
	dangerous := func(name string) string {
		if name == "ptrace" {
			return "reads and writes another process's memory"
		}
		return ""
	}
	opts := emit.Options{Recording: rec, Serving: serving, Dangerous: dangerous, Runtime: learn.LoaderNone}
	out := write(t, "text", full, opts)
	testenv.Golden(t, "recording-evidence.txt", out, *update)
	for _, want := range []string{
		"SYSCALL          ACTION         SEEN  ORIGIN       FIRST  PHASES                EXES                     RULES\n",
		"execve           allow          1/1   recorded     0ms    startup 2             /srv/helper,/srv/server  any\n",
		"ptrace           allow          1/1   recorded     40ms   startup 1             /srv/helper +2           any\n",
		"read             allow          1/1   recorded     3ms    startup 2, serving 8  /srv/server              any\n",
		"exit             allow          -     baseline     -      -                     -                        any\n",
		"# the serving phase's filter drops 5 of the 15 syscalls allowed (10 left)",
		": bind, execve, listen, ptrace, socket; dangerous among them: ptrace; dangerous still allowed while serving: none",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("the text output lacks %q:\n%s", want, out)
		}
	}
	// Without a recording, or one without evidence: the columns of before.
	if plain := write(t, "text", full, emit.Options{}); strings.Contains(string(plain), "PHASES") || strings.Contains(string(plain), "serving phase") {
		t.Errorf("evidence columns or drops without a recording or a serving profile:\n%s", plain)
	}
}
