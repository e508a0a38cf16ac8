package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/monitor"
	"github.com/profgen/profgen/recording"
)

// startMonitorCmd starts profgen monitor with args in dir and returns once
// it listens (testenv.StartMonitor).
func startMonitorCmd(t *testing.T, dir string, args ...string) *exec.Cmd {
	t.Helper()
	cmd := exec.Command(buildProfgen(t), append([]string{"monitor"}, args...)...)
	cmd.Dir = dir
	testenv.StartMonitor(t, cmd)
	return cmd
}

// TestMonitorToProfile: monitor sees a run under a logging filter, stops
// cleanly on SIGTERM, and its --to-profile fragment is a recording that
// emit (with the --base it names) and merge read.
func TestMonitorToProfile(t *testing.T) {
	dir := t.TempDir()
	base := filepath.Join(dir, "base.json")
	if err := os.WriteFile(base, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["getppid"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	mon := startMonitorCmd(t, dir, "--comm", "true", "-o", "mon.json", "--to-profile", "seen.json", "--base", "base.json")
	if r := runProfgen(t, dir, "record", "--backend", "log", "-o", "rec.json", "--", "true"); r.code != 0 {
		t.Fatalf("record: %s", r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	// Wait until the monitor wrote the run's exit_group.
	waitFor(t, func() bool {
		data, _ := os.ReadFile(filepath.Join(dir, "mon.json"))
		return strings.Contains(string(data), `"name":"exit_group"`)
	})
	mon.Process.Signal(syscall.SIGTERM)
	if err := mon.Wait(); err != nil {
		t.Fatalf("monitor after SIGTERM: %v", err)
	}
	data, err := os.ReadFile(filepath.Join(dir, "mon.json"))
	if err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimRight(string(data), "\n"), "\n")
	var final monitor.LostLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || !final.Final {
		t.Errorf("last line %q is not the final lost line", lines[len(lines)-1])
	}
	seen, err := recording.ReadFile(filepath.Join(dir, "seen.json"))
	if err != nil {
		t.Fatal(err)
	}
	// What the monitor saw of true is what the log backend recorded,
	// but execve: the launcher's thread, named profgen-launch, makes it,
	// so --comm true does not select it.
	for _, name := range rec.Names() {
		if seen.Lookup(name) == nil && name != "execve" {
			t.Errorf("%s recorded by the log backend but not in the monitor's fragment %v", name, seen.Names())
		}
	}
	if seen.Base == "" || !strings.HasSuffix(seen.Base, "base.json") {
		t.Errorf("fragment base %q", seen.Base)
	}
	if r := runProfgen(t, dir, "emit", "--format", "text", "-o", "next.txt", "seen.json"); r.code != 0 {
		t.Fatalf("emit of the fragment: %s", r.stderr)
	}
	next, _ := os.ReadFile(filepath.Join(dir, "next.txt"))
	for _, name := range []string{"getppid", "brk", "exit_group"} { // the base's and the fragment's
		if !strings.Contains(string(next), name) {
			t.Errorf("emitted profile lacks %s:\n%s", name, next)
		}
	}
	if r := runProfgen(t, dir, "merge", "-o", "merged.json", "rec.json", "seen.json"); r.code != 0 {
		t.Errorf("merge with the fragment: %s", r.stderr)
	}
}

func TestMonitorBadFlags(t *testing.T) {
	dir := t.TempDir()
	assertOneLineError(t, runProfgen(t, dir, "monitor", "--max-size", "512K", "-o", "x.json"), dir, "--max-size")
	assertOneLineError(t, runProfgen(t, dir, "monitor", "--compress"), dir, "--compress needs --output")
	assertOneLineError(t, runProfgen(t, dir, "monitor", "--cgroup", "relative/path"), dir, "--cgroup")
	assertOneLineError(t, runProfgen(t, dir, "monitor", "--base", "p.json"), dir, "--base needs --to-profile")
	assertOneLineError(t, runProfgen(t, dir, "monitor", "--to-profile", "x.json", "--base", "missing.json"), dir, "missing.json")
	assertOneLineError(t, runProfgen(t, dir, "monitor", "-o", "no/such/dir/x.json"), dir, "no/such/dir")

	// Without CAP_AUDIT_READ: one line naming it, and no output file.
	cmd := exec.Command("setpriv", "--inh-caps=-audit_read", "--bounding-set=-audit_read", buildProfgen(t), "monitor", "-o", "mon.json")
	cmd.Dir = dir
	out, err := cmd.CombinedOutput()
	if err == nil || !strings.Contains(string(out), "needs CAP_AUDIT_READ") || strings.Count(strings.TrimSpace(string(out)), "\n") != 0 {
		t.Errorf("without CAP_AUDIT_READ: %v, %q", err, out)
	}
	if _, err := os.Stat(filepath.Join(dir, "mon.json")); err == nil {
		t.Error("mon.json left behind by a monitor that could not start")
	}
}

// waitFor polls cond for at most a minute.
func waitFor(t *testing.T, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		if cond() {
			return
		}
	}
	t.Fatal("condition not met within a minute")
}
