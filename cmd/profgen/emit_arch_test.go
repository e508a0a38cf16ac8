package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
)

// archRecording is an x86_64 recording of calls aarch64 does not have.
var archRecording, _ = filepath.Abs(filepath.Join("..", "..", "learn", "testdata", "arch-x86_64.json"))

// TestEmitArch: --arch writes the profile for the architectures named,
// warning on stderr about each syscall left out or replaced; --arch-fill
// adds the replacements.
func TestEmitArch(t *testing.T) {
	dir := t.TempDir()
	out := filepath.Join(dir, "seccomp.json")
	for _, tc := range []struct {
		args        []string
		arches      []specs.Arch
		open, fill  bool
		stderrWants []string
	}{
		{[]string{"--arch", "aarch64"}, []specs.Arch{specs.ArchAARCH64}, false, false,
			[]string{"warning: aarch64 has no open: left out; openat covers it there", "add it with --arch-fill", "aarch64 has no arch_prctl"}},
		{[]string{"--arch", "aarch64", "--arch-fill"}, []specs.Arch{specs.ArchAARCH64}, false, true,
			[]string{"warning: aarch64 has no open: openat allowed instead, with open's rules"}},
		{[]string{"--arch", "x86_64,aarch64", "--arch-fill"}, []specs.Arch{specs.ArchX86_64, specs.ArchAARCH64}, true, true,
			[]string{"one document for x86_64, aarch64: the rules of openat differ"}},
	} {
		r := runProfgen(t, dir, append([]string{"emit", "-o", out}, append(tc.args, archRecording)...)...)
		if r.code != 0 || r.stdout != "" {
			t.Fatalf("%v: exit %d, stdout %q, stderr %q", tc.args, r.code, r.stdout, r.stderr)
		}
		for _, w := range tc.stderrWants {
			if !strings.Contains(r.stderr, w) {
				t.Errorf("%v: stderr lacks %q:\n%s", tc.args, w, r.stderr)
			}
		}
		data, err := os.ReadFile(out)
		if err != nil {
			t.Fatal(err)
		}
		var doc specs.LinuxSeccomp
		if err := json.Unmarshal(data, &doc); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(doc.Architectures, tc.arches) {
			t.Errorf("%v: architectures %v", tc.args, doc.Architectures)
		}
		names := map[string]bool{}
		for _, e := range doc.Syscalls {
			for _, n := range e.Names {
				names[n] = true
			}
		}
		if names["open"] != tc.open || names["epoll_pwait"] != tc.fill || names["newfstatat"] != true {
			t.Errorf("%v: open %v, epoll_pwait %v", tc.args, names["open"], names["epoll_pwait"])
		}
	}
	// Without --arch nothing changes: the recording's own architecture.
	r := runProfgen(t, dir, "emit", "--format", "text", archRecording)
	if r.code != 0 || strings.Contains(r.stderr, "warning") || !strings.Contains(r.stdout, "profile for amd64") {
		t.Errorf("no --arch: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestEmitArchBadInput: a bad --arch is one line on stderr, a non-zero
// exit and no file.
func TestEmitArchBadInput(t *testing.T) {
	for _, tc := range []struct {
		name string
		args []string
		want string
	}{
		{"unknown", []string{"--arch", "vax"}, `--arch: unknown architecture "vax" (want x86_64, aarch64)`},
		{"not checked", []string{"--arch", "riscv64"}, `--arch: architecture "riscv64": libseccomp knows it, but profgen does not know its argument values`},
		{"empty entry", []string{"--arch", "x86_64,"}, `--arch: unknown architecture ""`},
		{"twice", []string{"--arch", "aarch64,arm64"}, `listed twice`},
		{"one-arch format", []string{"--arch", "x86_64,aarch64", "--format", "bpf", "--runtime", "none"}, "--format bpf holds one architecture"},
		{"fill alone", []string{"--arch-fill"}, "--arch-fill needs --arch"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out := t.TempDir()
			res := runProfgen(t, out, append([]string{"emit", "-o", filepath.Join(out, "seccomp.json")}, append(tc.args, archRecording)...)...)
			assertFailedCleanly(t, res, out, tc.want)
		})
	}
}
