package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// buildStatic builds the launcher with CGO_ENABLED=0.
func buildStatic(t *testing.T) string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "profgen-landlock")
	cmd := exec.Command("go", "build", "-o", out, ".")
	cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("build: %v\n%s", err, b)
	}
	return out
}

// TestStatic: the launcher builds without cgo into a static executable
// (no program interpreter), so that it runs in any image.
func TestStatic(t *testing.T) {
	f, err := elf.Open(buildStatic(t))
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	for _, p := range f.Progs {
		if p.Type == elf.PT_INTERP {
			t.Fatal("the launcher has a program interpreter: it is not static")
		}
	}
}

// TestLaunch: the launcher applies the ruleset and execs; what it denies
// is refused, a bad ruleset is exit 125 and nothing runs.
func TestLaunch(t *testing.T) {
	bin := buildStatic(t)
	dir := t.TempDir()
	rs := filepath.Join(dir, "rs.json")
	// read_file|execute (0x5) handled; /usr allowed; the loader's cache.
	if err := os.WriteFile(rs, []byte(`{"HandledFS":5,"HandledNet":0,"Scoped":0,"Paths":[{"Path":"/usr","Access":5},{"Path":"/etc/ld.so.cache","Access":4},{"Path":"/etc/hostname","Access":4}],"Ports":null,"Log":false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command(bin, rs, "--", "cat", "/etc/hostname").CombinedOutput()
	if err != nil {
		t.Fatalf("allowed read: %v\n%s", err, out)
	}
	out, err = exec.Command(bin, rs, "--", "cat", "/etc/shadow").CombinedOutput()
	if err == nil || !strings.Contains(string(out), "Permission denied") {
		t.Errorf("read of /etc/shadow: %v\n%s", err, out)
	}
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"HandledFS": "x"}`), 0o644)
	marker := filepath.Join(dir, "ran")
	cmd := exec.Command(bin, bad, "--", "touch", marker)
	out, _ = cmd.CombinedOutput()
	if cmd.ProcessState.ExitCode() != 125 || !strings.Contains(string(out), "bad.json") {
		t.Errorf("bad ruleset: exit %d\n%s", cmd.ProcessState.ExitCode(), out)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the command ran")
	}
}
