package main

import (
	"os"
	"path/filepath"
	"strings"
	"syscall"
	"testing"

	"github.com/profgen/profgen/recording"
)

// TestMonitorFragmentKeepsPinned: a syscall the --base profile allows only
// with argument rules (openat, pinned to some flags) that shows up in the
// audit records is not put into the --to-profile fragment by name: the
// records carry no argument values, so emit of the fragment would allow it
// with any. The fragment names it in a note (which emit prints), and the
// profile emit learns keeps the base's rule for it.
func TestMonitorFragmentKeepsPinned(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	// openat only with O_CLOEXEC among its flags set (masked-equal).
	if err := os.WriteFile(base, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[
		{"names":["getppid"],"action":"SCMP_ACT_ALLOW"},
		{"names":["openat"],"action":"SCMP_ACT_ALLOW","args":[{"index":2,"value":4294967295,"valueTwo":524288,"op":"SCMP_CMP_MASKED_EQ"}]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mon := startMonitorCmd(t, dir, "--comm", "true", "-o", "mon.json", "--to-profile", "seen.json", "--base", "base.json")
	// The log backend runs true under a filter that logs every call,
	// its openat calls too.
	if r := runProfgen(t, dir, "record", "--backend", "log", "-o", "rec.json", "--", "true"); r.code != 0 {
		t.Fatalf("record: %s", r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(rec.Names(), " "), "openat") {
		t.Fatalf("true made no openat (recorded %v): the test needs one", rec.Names())
	}
	waitFor(t, func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "mon.json"))
		return strings.Contains(string(data), `"name":"openat"`) && strings.Contains(string(data), `"name":"exit_group"`)
	})
	mon.Process.Signal(syscall.SIGTERM)
	if err := mon.Wait(); err != nil {
		t.Fatalf("monitor after SIGTERM: %v", err)
	}
	seen, err := recording.ReadFile(filepath.Join(dir, "seen.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range seen.Names() {
		if name == "openat" {
			t.Errorf("the fragment allows openat by name, which the base pins: %v", seen.Names())
		}
	}
	if !slicesContainsPrefix(seen.Notes, "left out openat (") {
		t.Errorf("no note names the left-out openat: %q", seen.Notes)
	}
	if len(seen.Syscalls) == 0 || seen.Lookup("exit_group") == nil {
		t.Errorf("the fragment lost what the base does not pin: %v", seen.Names())
	}
	r := runProfgen(t, dir, "emit", "--format", "text", "seen.json")
	if r.code != 0 {
		t.Fatalf("emit of the fragment: %s", r.stderr)
	}
	if !strings.Contains(r.stderr, "left out openat (") {
		t.Errorf("emit does not print the fragment's note: %q", r.stderr)
	}
	if !hasRow(r.stdout, "openat", "allow", "1/2", "imported", "flags & 0xffffffff == O_CLOEXEC") {
		t.Errorf("openat is not the base's pinned rule:\n%s", r.stdout)
	}
}

func slicesContainsPrefix(xs []string, prefix string) bool {
	for _, x := range xs {
		if strings.HasPrefix(x, prefix) {
			return true
		}
	}
	return false
}
