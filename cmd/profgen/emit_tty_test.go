package main

import (
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
)

// TestEmitWroteLineOnTerminal: with standard error a terminal, emit ends
// with one line saying what it wrote and how many syscalls the profile
// allows; with standard error not a terminal, or --quiet, or on failure,
// no such line.
func TestEmitWroteLineOnTerminal(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", nil)
	r := runProfgenOnTerminal(t, dir, 2, "emit", "-o", "seccomp.json", rec)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	p, err := readers.ReadOCIFile(filepath.Join(dir, "seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for _, s := range p.Syscalls {
		if s.Action == learn.Allow {
			allowed++
		}
	}
	want := fmt.Sprintf("profgen: wrote seccomp.json: oci profile for amd64, %d syscalls allowed (runtime runc)\n", allowed)
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	// To standard output, text: says so.
	if r := runProfgenOnTerminal(t, dir, 2, "emit", "--format", "text", rec); r.code != 0 || !strings.HasPrefix(r.stderr, "profgen: wrote standard output: text profile for amd64, ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("text to standard output: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runProfgenOnTerminal(t, dir, 2, "emit", "--quiet", "-o", "q.json", rec); r.code != 0 || r.stderr != "" {
		t.Errorf("--quiet: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runProfgenOnTerminal(t, dir, 2, "emit", "-o", "bad.json", filepath.Join(dir, "missing.json")); r.code == 0 || strings.Contains(r.stderr, "wrote") {
		t.Errorf("failure: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "-o", "notty.json", rec); r.code != 0 || r.stderr != "" {
		t.Errorf("stderr not a terminal: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestVersionFlag: profgen --version prints what profgen version prints.
func TestVersionFlag(t *testing.T) {
	cmd := runProfgen(t, "", "version")
	flag := runProfgen(t, "", "--version")
	if cmd.code != 0 || flag.code != 0 || flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "profgen ") || strings.Count(flag.stdout, "\n") != 1 {
		t.Errorf("version: %d %q; --version: %d %q %q", cmd.code, cmd.stdout, flag.code, flag.stdout, flag.stderr)
	}
}
