package main

import (
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/profgen/profgen/recording"
)

// baseRecording is a small amd64 recording: read, write, and socket with
// AF_INET stream and AF_UNIX stream shapes.
func baseRecording() *recording.Recording {
	return &recording.Recording{
		Version: recording.Version, Tool: "profgen test", Kernel: "6.18.0", Arch: "amd64",
		Backend: recording.BackendEBPF, Scope: recording.ScopeCgroup, Command: []string{"./server"},
		Start: time.Date(2026, 11, 26, 12, 0, 0, 0, time.UTC), End: time.Date(2026, 11, 26, 12, 0, 1, 0, time.UTC),
		ArgShapes: true, Inputs: 1,
		Syscalls: []recording.Syscall{
			{Name: "read", Number: 0, Count: 10, Seen: 1},
			{Name: "socket", Number: 41, Count: 3, Seen: 1, Args: []recording.Arg{
				{Index: 0, Name: "domain", Kind: recording.KindEnum, Mask: 0xffffffff},
				{Index: 1, Name: "type", Kind: recording.KindEnum, Mask: 0xfff7f7ff},
				{Index: 2, Name: "protocol", Kind: recording.KindEnum, Mask: 0xffffffff},
			}, Shapes: []recording.Shape{
				{Values: []recording.Hex{2, 1, 0}, Count: 2, Seen: 1},
				{Values: []recording.Hex{1, 1, 0}, Count: 1, Seen: 1},
			}},
			{Name: "write", Number: 1, Count: 5, Seen: 1},
		},
	}
}

// writeRecording writes baseRecording, changed by edit, to dir/name.
func writeRecording(t *testing.T, dir, name string, edit func(*recording.Recording)) string {
	t.Helper()
	r := baseRecording()
	if edit != nil {
		edit(r)
	}
	r.Normalize()
	path := filepath.Join(dir, name)
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	return path
}

func addSyscall(name string, nr int) func(*recording.Recording) {
	return func(r *recording.Recording) {
		r.Syscalls = append(r.Syscalls, recording.Syscall{Name: name, Number: nr, Count: 1, Seen: 1})
	}
}

// TestMergeOutput: merge -o writes the union with coverage counts and
// prints nothing but the coverage curve on standard error (nothing with
// -q).
func TestMergeOutput(t *testing.T) {
	dir := t.TempDir()
	a := writeRecording(t, dir, "a.json", nil)
	b := writeRecording(t, dir, "b.json", func(r *recording.Recording) {
		r.Syscalls[1].Shapes = append(r.Syscalls[1].Shapes, recording.Shape{Values: []recording.Hex{10, 2, 0}, Count: 4, Seen: 1})
		r.Syscalls[1].Count += 4
		addSyscall("getuid", 102)(r)
	})
	out := filepath.Join(dir, "merged.json")
	res := runProfgen(t, dir, "merge", "-o", out, a, b)
	if res.code != 0 || res.stdout != "" || !strings.Contains(res.stderr, "input 2 "+b+": +1 syscall(s), +1 argument shape(s): getuid, socket(domain=AF_INET6 type=SOCK_DGRAM protocol=IPPROTO_IP) (then 4 syscalls, 3 shapes)\nnot saturated: the last input (2) still added something\n") {
		t.Fatalf("merge: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	if res := runProfgen(t, dir, "merge", "-q", "-o", out, a, b); res.code != 0 || res.stdout != "" || res.stderr != "" {
		t.Fatalf("merge -q: exit %d, stdout %q, stderr %q", res.code, res.stdout, res.stderr)
	}
	m, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if m.Inputs != 2 || strings.Join(m.Names(), " ") != "getuid read socket write" {
		t.Errorf("inputs %d syscalls %v", m.Inputs, m.Names())
	}
	s := m.Lookup("socket")
	if len(s.Shapes) != 3 || s.Seen != 2 || s.Count != 10 {
		t.Errorf("socket: %d shapes seen %d count %d, want 3, 2, 10", len(s.Shapes), s.Seen, s.Count)
	}
	if g := m.Lookup("getuid"); g.Seen != 1 {
		t.Errorf("getuid seen %d, want 1", g.Seen)
	}
	// Without -o the merged recording goes to standard output.
	res = runProfgen(t, dir, "merge", a, b)
	if res.code != 0 {
		t.Fatalf("merge to stdout: exit %d: %s", res.code, res.stderr)
	}
	if r, err := recording.Parse([]byte(res.stdout)); err != nil || r.Inputs != 2 {
		t.Errorf("stdout is not the merged recording: %v", err)
	}
}

// TestMergeCoverage: --coverage shows per syscall and per shape how many
// inputs saw it.
func TestMergeCoverage(t *testing.T) {
	dir := t.TempDir()
	a := writeRecording(t, dir, "a.json", nil)
	b := writeRecording(t, dir, "b.json", addSyscall("getuid", 102))
	c := writeRecording(t, dir, "c.json", func(r *recording.Recording) {
		r.Syscalls[1].Shapes = r.Syscalls[1].Shapes[:1] // AF_INET only
	})
	res := runProfgen(t, dir, "merge", "--coverage", "-o", filepath.Join(dir, "m.json"), a, b, c)
	if res.code != 0 {
		t.Fatalf("exit %d: %s", res.code, res.stderr)
	}
	if !strings.Contains(res.stdout, "# 3 input(s), architecture amd64\n") {
		t.Errorf("no header:\n%s", res.stdout)
	}
	for _, fields := range [][]string{
		{"getuid", "1/3", "1", "-"},
		{"read", "3/3", "30", "-"},
		{"socket", "3/3", "9", "-"},
		{"3/3", "6", "domain=0x2 type=0x1 protocol=0x0"},
		{"2/3", "2", "domain=0x1 type=0x1 protocol=0x0"},
	} {
		if !hasRow(res.stdout, fields...) {
			t.Errorf("coverage has no row %q:\n%s", fields, res.stdout)
		}
	}
	if _, err := os.Stat(filepath.Join(dir, "m.json")); err != nil {
		t.Error(err)
	}
}

// TestMergeBadInput: one line on stderr, non-zero exit, no output file.
func TestMergeBadInput(t *testing.T) {
	in := t.TempDir()
	a := writeRecording(t, in, "a.json", nil)
	x86 := writeRecording(t, in, "x86.json", func(r *recording.Recording) {
		r.Arch = "x86"
		r.Syscalls = []recording.Syscall{{Name: "read", Number: 3, Count: 1, Seen: 1}}
	})
	corrupt := filepath.Join(in, "corrupt.json")
	os.WriteFile(corrupt, []byte("{\"version\": 1,\n\"arch\": \n"), 0o644)
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{a, x86}, "input 2 is for architecture x86, input 1 for amd64"},
		{[]string{a, filepath.Join(in, "missing.json")}, "no such file"},
		{[]string{corrupt}, "line 3 column 1"},
		{nil, "requires at least 1 arg"},
	} {
		out := t.TempDir()
		res := runProfgen(t, out, append([]string{"merge", "-o", filepath.Join(out, "merged.json")}, tc.args...)...)
		assertFailedCleanly(t, res, out, tc.want)
	}
}

// assertFailedCleanly checks a failed run: non-zero exit, one line on
// stderr saying want, nothing on stdout, and no file in dir.
func assertFailedCleanly(t *testing.T, r result, dir, want string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit code 0, want non-zero (stderr %q)", r.stderr)
	}
	if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); len(lines) != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want one line containing %q", r.stderr, want)
	}
	if r.stdout != "" {
		t.Errorf("stdout = %q, want nothing", r.stdout)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("file %s written on failure", e.Name())
	}
}

// hasRow reports whether a line of a table in out holds fields, in order,
// separated by spaces only.
func hasRow(out string, fields ...string) bool {
	quoted := make([]string, len(fields))
	for i, f := range fields {
		quoted[i] = regexp.QuoteMeta(f)
	}
	return regexp.MustCompile(`(?m)^ *` + strings.Join(quoted, ` +`) + ` *$`).MatchString(out)
}
