package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// TestEmitBadInput: each bad input gives one line on stderr, a non-zero
// exit, nothing on stdout, and no output file with -o.
func TestEmitBadInput(t *testing.T) {
	in := t.TempDir()
	good := writeRecording(t, in, "good.json", nil)
	x86 := writeRecording(t, in, "x86.json", func(r *recording.Recording) {
		r.Arch = "x86"
		r.Syscalls = []recording.Syscall{{Name: "read", Number: 3, Count: 1, Seen: 1}}
	})
	corrupt := filepath.Join(in, "corrupt.json")
	os.WriteFile(corrupt, []byte("{\n  \"version\": 1,\n  \"arch\": amd64\n}\n"), 0o644)
	future := filepath.Join(in, "future.json")
	data, _ := os.ReadFile(good)
	os.WriteFile(future, []byte(strings.Replace(string(data), `"version": 3`, `"version": 4`, 1)), 0o644)
	unknown := filepath.Join(in, "unknown.json")
	os.WriteFile(unknown, []byte(strings.Replace(string(data), `"name": "write"`, `"name": "wrait"`, 1)), 0o644)
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"no such file", []string{filepath.Join(in, "missing.json")}, "no such file"},
		{"default recording missing", nil, "profgen-recording.json"},
		{"corrupt JSON", []string{corrupt}, "line 3 column 11"},
		{"future version", []string{future}, "format version 4 is newer than this profgen reads (3); upgrade profgen"},
		{"unknown syscall", []string{unknown}, `unknown syscall "wrait"`},
		{"unknown format", []string{"--format", "yaml", good}, `unknown --format "yaml"`},
		{"unknown runtime", []string{"--runtime", "docker", good}, `unknown runtime "docker"`},
		{"unknown default action", []string{"--default-action", "maybe", good}, `unknown default action "maybe"`},
		{"unknown args mode", []string{"--args", "paths", good}, `--args: unknown argument mode "paths" (want shapes or none)`},
		{"unknown args mode before the input", []string{"--args", "paths", filepath.Join(in, "missing.json")}, `--args: unknown argument mode "paths"`},
		{"different architectures", []string{good, x86}, "input 2 is for architecture x86, input 1 for amd64"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			res := runProfgen(t, out, append([]string{"emit", "-o", filepath.Join(out, "seccomp.json")}, tc.args...)...)
			assertFailedCleanly(t, res, out, tc.want)
		})
	}
}

// TestEmitFormats: oci is loadable back, text is the table; --args none
// drops the rules.
func TestEmitFormats(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", nil)
	prof := filepath.Join(dir, "seccomp.json")
	if r := runProfgen(t, dir, "emit", "-o", prof, rec); r.code != 0 || r.stdout != "" {
		t.Fatalf("emit: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	p, err := readers.ReadOCIFile(prof)
	if err != nil {
		t.Fatal(err)
	}
	if s := p.Lookup("socket"); s == nil || len(s.Rules) != 2 {
		t.Errorf("socket rules in the emitted profile: %v", s)
	}
	text := runProfgen(t, dir, "emit", "--format", "text", "--runtime", "none", rec)
	if text.code != 0 || !strings.Contains(text.stdout, "domain ∈ {AF_UNIX, AF_INET}, type & ~(SOCK_NONBLOCK|SOCK_CLOEXEC) = SOCK_STREAM") {
		t.Errorf("text: exit %d\n%s", text.code, text.stdout)
	}
	none := runProfgen(t, dir, "emit", "--format", "text", "--args", "none", rec)
	if none.code != 0 || strings.Contains(none.stdout, "arg0") || !hasRow(none.stdout, "socket", "allow", "1/1", "recorded", "any") {
		t.Errorf("--args none: exit %d\n%s", none.code, none.stdout)
	}
}

// TestEmitBinaryToTerminal: --format bpf is refused when standard output
// is a terminal, as dump's raw format is, before any input is read; text
// formats are written there.
func TestEmitBinaryToTerminal(t *testing.T) {
	in := t.TempDir()
	rec := writeRecording(t, in, "rec.json", nil)
	for _, args := range [][]string{
		{"emit", "--format", "bpf", "--runtime", "none", rec},
		{"emit", "--format", "bpf", "--runtime", "none", "-o", "-", rec},
		{"emit", "--format", "bpf", "--runtime", "none", filepath.Join(in, "missing.json")},
	} {
		out := t.TempDir()
		assertFailedCleanly(t, runProfgenTTY(t, out, args...), out, "--format bpf writes binary: give -o FILE or redirect standard output")
	}
	if r := runProfgenTTY(t, "", "emit", "--format", "text", rec); r.code != 0 || !strings.Contains(r.stdout, "write") {
		t.Errorf("--format text to a terminal: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	// To a file it is written.
	out := t.TempDir()
	if r := runProfgenTTY(t, out, "emit", "--format", "bpf", "--runtime", "none", "-o", "f.bpf", rec); r.code != 0 || r.stdout != "" {
		t.Errorf("--format bpf -o f.bpf: exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	if st, err := os.Stat(filepath.Join(out, "f.bpf")); err != nil || st.Size() == 0 || st.Size()%8 != 0 {
		t.Errorf("f.bpf: %v, %v", st, err)
	}
}
