package main

import (
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// TestRecordLogBase is issue 4's incremental learning. A base profile is
// learned with eBPF from argshapes' normal mode; the log backend with
// --base then records the dumpable variant, and records exactly what the
// variant adds (prctl, with an option the base does not allow); the profile
// emitted from that recording is the base plus prctl, and runs both modes
// in runc with no denial, where the base alone denies the variant.
func TestRecordLogBase(t *testing.T) {
	bin := workload.Build(t, "argshapes")
	dir := t.TempDir()
	run := func(args ...string) result {
		t.Helper()
		r := runProfgen(t, dir, args...)
		return r
	}
	must := func(args ...string) {
		t.Helper()
		if r := run(args...); r.code != 0 {
			t.Fatalf("profgen %s: exit %d\nstdout: %s\nstderr: %s", strings.Join(args, " "), r.code, r.stdout, r.stderr)
		}
	}
	must("record", "-o", "a.json", "--", bin)
	must("emit", "-o", "base.json", "a.json")
	if r := run("replay", "--profile", "base.json", "--", bin, "--variant", "dumpable"); r.code != exitcode.Found {
		t.Fatalf("the base profile does not deny the variant: exit %d\n%s%s", r.code, r.stdout, r.stderr)
	}

	must("record", "--backend", "log", "--base", "base.json", "-o", "b.json", "--", bin, "--variant", "dumpable")
	rec, err := recording.ReadFile(filepath.Join(dir, "b.json"))
	if err != nil {
		t.Fatal(err)
	}
	if got := rec.Names(); !slices.Equal(got, []string{"prctl"}) {
		t.Errorf("log --base recorded %v, want exactly [prctl]", got)
	}
	if want, _ := filepath.Abs(filepath.Join(dir, "base.json")); rec.Base != want {
		t.Errorf("recording base %q, want %q", rec.Base, want)
	}

	must("emit", "-o", "both.json", "b.json")
	for _, mode := range [][]string{nil, {"--variant", "dumpable"}} {
		args := append([]string{"replay", "--profile", "both.json", "--", bin}, mode...)
		if r := run(args...); r.code != exitcode.OK {
			t.Errorf("base + new profile, argshapes %v: exit %d\n%s%s", mode, r.code, r.stdout, r.stderr)
		}
	}
	// The other variants stay denied: the base's pinned rules were kept.
	if r := run("replay", "--profile", "both.json", "--", bin, "--variant", "netlink"); r.code != exitcode.Found {
		t.Errorf("base + new profile allows the netlink variant: exit %d\n%s", r.code, r.stdout)
	}
}

// TestRecordLogBaseBadProfile: a base profile that does not parse, or names
// a syscall libseccomp does not know, is refused before the target starts.
func TestRecordLogBaseBadProfile(t *testing.T) {
	dir := t.TempDir()
	for name, body := range map[string]string{
		"corrupt.json": `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [`,
		"unknown.json": `{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": [{"names": ["read", "no_such_call"], "action": "SCMP_ACT_ALLOW"}]}`,
	} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o644); err != nil {
			t.Fatal(err)
		}
		marker := filepath.Join(dir, "ran-"+name)
		r := runProfgen(t, dir, "record", "--backend", "log", "--base", name, "-o", "out.json", "--", "touch", marker)
		if r.code == 0 || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, name) {
			t.Errorf("%s: exit %d, stderr %q: want a non-zero exit and one line naming the file", name, r.code, r.stderr)
		}
		if name == "unknown.json" && !strings.Contains(r.stderr, "no_such_call") {
			t.Errorf("%s: stderr %q does not name the unknown syscall", name, r.stderr)
		}
		if _, err := os.Stat(marker); err == nil {
			t.Errorf("%s: the target ran", name)
		}
		if _, err := os.Stat(filepath.Join(dir, "out.json")); err == nil {
			t.Errorf("%s: a recording was written", name)
		}
	}
	if err := os.WriteFile(filepath.Join(dir, "ok.json"), []byte(`{"defaultAction": "SCMP_ACT_ERRNO"}`), 0o644); err != nil {
		t.Fatal(err)
	}
	if r := runProfgen(t, dir, "record", "--base", "ok.json", "--", "true"); r.code == 0 || !strings.Contains(r.stderr, "--base needs --backend log") {
		t.Errorf("--base with the ebpf backend: exit %d, stderr %q", r.code, r.stderr)
	}
}
