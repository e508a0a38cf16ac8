package main

import (
	"debug/elf"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
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

// writeRuleset writes, as dir/rs.json, a ruleset that handles read_file
// and execute (0x5) and allows /usr, the loader's cache and /etc/hostname.
func writeRuleset(t *testing.T, dir string) string {
	t.Helper()
	rs := filepath.Join(dir, "rs.json")
	if err := os.WriteFile(rs, []byte(`{"HandledFS":5,"HandledNet":0,"Scoped":0,"Paths":[{"Path":"/usr","Access":5},{"Path":"/etc/ld.so.cache","Access":4},{"Path":"/etc/hostname","Access":4}],"Ports":null,"Log":false}`), 0o644); err != nil {
		t.Fatal(err)
	}
	return rs
}

// TestLaunch: the launcher applies the ruleset and execs; what it denies
// is refused, a bad ruleset is exit 125 and nothing runs.
func TestLaunch(t *testing.T) {
	bin := buildStatic(t)
	dir := t.TempDir()
	rs := writeRuleset(t, dir)
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

// TestLaunchSeccomp: with -seccomp the launcher loads the filter after the
// ruleset, right before the execve: a filter that kills on every Landlock
// call (what a workload's profile lacks) still lets the ruleset apply, and
// then binds the command (mkdir refused by the filter, /etc/shadow by the
// ruleset). A filter that cannot be read or loaded is exit 125, and the
// command never runs.
func TestLaunchSeccomp(t *testing.T) {
	bin := buildStatic(t)
	dir := t.TempDir()
	rs := writeRuleset(t, dir)
	native, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	p := &learn.Profile{Arch: native, DefaultAction: learn.Allow}
	for _, s := range []learn.Syscall{
		{Name: "landlock_create_ruleset", Action: learn.KillProcess},
		{Name: "landlock_add_rule", Action: learn.KillProcess},
		{Name: "landlock_restrict_self", Action: learn.KillProcess},
		{Name: "mkdir", Action: learn.Errno(unix.EPERM)},
		{Name: "mkdirat", Action: learn.Errno(unix.EPERM)},
	} {
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	prog, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	bpf := filepath.Join(dir, "seccomp.bpf")
	if err := os.WriteFile(bpf, seccomp.EncodeFilter(prog), 0o644); err != nil {
		t.Fatal(err)
	}
	launch := func(filterFile string, cmd ...string) (int, string) {
		t.Helper()
		c := exec.Command(bin, append([]string{"-seccomp", filterFile, "-seccomp-flags", "0", rs, "--"}, cmd...)...)
		out, _ := c.CombinedOutput()
		return c.ProcessState.ExitCode(), string(out)
	}
	if code, out := launch(bpf, "cat", "/etc/hostname"); code != 0 {
		t.Fatalf("allowed read under ruleset and filter: exit %d\n%s", code, out)
	}
	if code, out := launch(bpf, "cat", "/etc/shadow"); code == 0 || !strings.Contains(out, "Permission denied") {
		t.Errorf("read of /etc/shadow: exit %d\n%s", code, out)
	}
	made := filepath.Join(dir, "made")
	if code, out := launch(bpf, "mkdir", made); code == 0 || !strings.Contains(out, "Operation not permitted") {
		t.Errorf("mkdir under the filter: exit %d\n%s", code, out)
	}
	if _, err := os.Stat(made); err == nil {
		t.Error("mkdir made its directory under the filter")
	}
	// Without the filter mkdir works: the refusal above is the filter's.
	if out, err := exec.Command(bin, rs, "--", "mkdir", made).CombinedOutput(); err != nil {
		t.Errorf("mkdir without the filter: %v\n%s", err, out)
	}

	short := filepath.Join(dir, "short.bpf")
	os.WriteFile(short, []byte("garbled"), 0o644)
	invalid := filepath.Join(dir, "invalid.bpf")
	// One instruction the kernel refuses: an unknown opcode.
	os.WriteFile(invalid, seccomp.EncodeFilter([]unix.SockFilter{{Code: 0xffff}}), 0o644)
	marker := filepath.Join(dir, "ran")
	for file, want := range map[string]string{
		short:                      "is not a program",
		invalid:                    "invalid argument",
		filepath.Join(dir, "none"): "no such file",
	} {
		code, out := launch(file, "touch", marker)
		if code != 125 || !strings.Contains(out, "seccomp filter "+file) || !strings.Contains(out, want) {
			t.Errorf("filter %s: exit %d, want 125 naming it with %q\n%s", filepath.Base(file), code, want, out)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Fatalf("filter %s: the command ran", filepath.Base(file))
		}
	}
}
