package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// newCallGo is a file added to the httpserver workload: the build that has
// it makes sysinfo at start and can make setns, behind an argument no test
// gives.
const newCallGo = `package main

import (
	"os"
	"syscall"

	"golang.org/x/sys/unix"
)

func init() {
	var info syscall.Sysinfo_t
	syscall.Sysinfo(&info)
	if len(os.Args) > 1 && os.Args[1] == "--setns" {
		syscall.Syscall(unix.SYS_SETNS, 0, 0, 0)
	}
}
`

// buildTwoServers builds the httpserver workload twice, each in a directory
// of its own: as it is (OLD) and with newCallGo added (NEW).
func buildTwoServers(t *testing.T) (string, string) {
	t.Helper()
	old := workload.BuildGoWith(t, "httpserver", "", nil)
	cur := workload.BuildGoWith(t, "httpserver", "", map[string][]byte{"newcall.go": []byte(newCallGo)})
	return old, cur
}

// diffJSON decodes diff --json's output.
func diffJSON(t *testing.T, out string) diffReport {
	t.Helper()
	var rep diffReport
	if err := json.Unmarshal([]byte(out), &rep); err != nil {
		t.Fatalf("diff --json: %v\n%s", err, out)
	}
	return rep
}

// changeNamed returns the change of name in cs, or nil.
func changeNamed(cs []reachChange, name string) *reachChange {
	i := slices.IndexFunc(cs, func(c reachChange) bool { return c.Name == name })
	if i < 0 {
		return nil
	}
	return &cs[i]
}

// TestDiffReachableExes: diff --reachable on two builds of a workload, the
// second adding a syscall: what it adds is newly reachable (setns named
// dangerous), and with the sides swapped no longer reachable; executables
// get no drift check and exit 0.
func TestDiffReachableExes(t *testing.T) {
	old, cur := buildTwoServers(t)
	dir := t.TempDir()
	res := runProfgen(t, dir, "diff", "--reachable", "--json", old, cur)
	if res.code != 0 {
		t.Fatalf("exit %d, want 0: %s", res.code, res.stderr)
	}
	rep := diffJSON(t, res.stdout)
	r := rep.Reachable
	if r == nil || rep.NoDriftCheck == "" || rep.Drifted || rep.Difference != nil {
		t.Fatalf("report %+v: want the reachable comparison and no drift check", rep)
	}
	if !slices.Equal(r.Old.Programs, []string{old}) || !slices.Equal(r.New.Programs, []string{cur}) {
		t.Errorf("programs OLD %v NEW %v", r.Old.Programs, r.New.Programs)
	}
	setns, sysinfo := changeNamed(r.Added, "setns"), changeNamed(r.Added, "sysinfo")
	if setns == nil || sysinfo == nil {
		t.Fatalf("newly reachable %+v: want setns and sysinfo", r.Added)
	}
	if !strings.Contains(setns.Dangerous, "namespace") || sysinfo.Dangerous != "" || setns.Purpose == "" {
		t.Errorf("setns %+v, sysinfo %+v: want setns alone dangerous, with a purpose", setns, sysinfo)
	}
	if len(r.Removed) != 0 {
		t.Errorf("no longer reachable %+v: NEW only adds code", r.Removed)
	}
	if r.New.Reachable != r.Old.Reachable+len(r.Added) {
		t.Errorf("NEW reaches %d, OLD %d, %d added", r.New.Reachable, r.Old.Reachable, len(r.Added))
	}

	// Swapped, the same calls are no longer reachable.
	res = runProfgen(t, dir, "diff", "--reachable", "--json", cur, old)
	if res.code != 0 {
		t.Fatalf("swapped: exit %d: %s", res.code, res.stderr)
	}
	back := diffJSON(t, res.stdout).Reachable
	if len(back.Added) != 0 || changeNamed(back.Removed, "setns") == nil || changeNamed(back.Removed, "sysinfo") == nil {
		t.Errorf("swapped: added %+v, removed %+v", back.Added, back.Removed)
	}

	// The text output says the same.
	res = runProfgen(t, dir, "diff", "--reachable", old, cur)
	if res.code != 0 {
		t.Fatalf("text: exit %d: %s", res.code, res.stderr)
	}
	for _, want := range []string{
		"--- executable " + old + "\n+++ executable " + cur + "\n",
		"newly reachable (NEW's code can make them, OLD's could not): ",
		"  dangerous (1):\n    setns  joins another namespace",
		"no longer reachable (OLD's code could make them, NEW's cannot): 0\n",
		"NO DRIFT CHECK: ",
	} {
		if !strings.Contains(res.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, res.stdout)
		}
	}
}

// TestDiffReachableRecordings records both builds serving the same drive:
// diff --reachable shows sysinfo (which NEW made at start) and setns
// (which it never made) as newly reachable, and keeps diff's exit status:
// sysinfo is drift (exit 1).
func TestDiffReachableRecordings(t *testing.T) {
	old, cur := buildTwoServers(t)
	driver := workload.Build(t, "httpserver/driver")
	dir := t.TempDir()
	for name, exe := range map[string]string{"old.json": old, "new.json": cur} {
		addr := "127.0.0.1:" + freePort(t)
		if r := runProfgen(t, dir, "record", "-o", name, "--ready", "tcp:"+addr,
			"--drive", driver+" --addr "+addr+" --rounds 1", "--", exe, "--addr", addr); r.code != 0 {
			t.Fatalf("record %s: exit %d: %s", name, r.code, r.stderr)
		}
	}
	res := runProfgen(t, dir, "diff", "--reachable", "--json", "old.json", "new.json")
	if res.code != 1 {
		t.Fatalf("exit %d, want 1 (drift: sysinfo): %s", res.code, res.stderr)
	}
	rep := diffJSON(t, res.stdout)
	if !rep.Drifted || rep.NoDriftCheck != "" || rep.Reachable == nil {
		t.Fatalf("report %+v: want drift and the reachable comparison", rep)
	}
	if !slices.ContainsFunc(rep.Drift, func(d learn.Drift) bool { return d.Syscall == "sysinfo" }) {
		t.Errorf("drift %+v: want sysinfo", rep.Drift)
	}
	r := rep.Reachable
	if !slices.Equal(r.Old.Programs, []string{old}) || !slices.Equal(r.New.Programs, []string{cur}) {
		t.Errorf("programs OLD %v NEW %v, want the recorded executables", r.Old.Programs, r.New.Programs)
	}
	setns, sysinfo := changeNamed(r.Added, "setns"), changeNamed(r.Added, "sysinfo")
	if setns == nil || sysinfo == nil {
		t.Fatalf("newly reachable %+v: want setns and sysinfo", r.Added)
	}
	if setns.Dangerous == "" || setns.RecordedByNew || !sysinfo.RecordedByNew {
		t.Errorf("setns %+v (dangerous, never made), sysinfo %+v (made by NEW)", setns, sysinfo)
	}

	// Without --reachable, diff's output has no such field and the same
	// exit status.
	plain := runProfgen(t, dir, "diff", "--json", "old.json", "new.json")
	if plain.code != 1 || strings.Contains(plain.stdout, `"reachable"`) {
		t.Errorf("without --reachable: exit %d, output:\n%s", plain.code, plain.stdout)
	}
	text := runProfgen(t, dir, "diff", "--reachable", "old.json", "new.json")
	for _, want := range []string{"  recorded by NEW (", "sysinfo", "DRIFT: NEW needs what OLD does not allow:\n"} {
		if !strings.Contains(text.stdout, want) {
			t.Errorf("text output lacks %q:\n%s", want, text.stdout)
		}
	}
	if i, j := strings.Index(text.stdout, "newly reachable"), strings.Index(text.stdout, "DRIFT:"); text.code != 1 || i < 0 || j < i {
		t.Errorf("text: exit %d; want 1, the verdict last:\n%s", text.code, text.stdout)
	}

	// Bad input: each a one-line error, exit 2, nothing on standard output.
	script := filepath.Join(dir, "run.sh")
	if err := os.WriteFile(script, []byte("#!/bin/sh\nexec true\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	profile := filepath.Join(dir, "profile.json")
	if err := os.WriteFile(profile, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	noExes := writeRecording(t, dir, "noexes.json", nil)
	// NEW's recording as a container's whose bundle is gone.
	rec, err := recording.ReadFile(filepath.Join(dir, "new.json"))
	if err != nil {
		t.Fatal(err)
	}
	rec.Container = &recording.Container{ID: "c1", Bundle: filepath.Join(dir, "gone-bundle"), Engine: "podman", Runtime: "/usr/bin/runc"}
	if err := rec.WriteFile(filepath.Join(dir, "container.json")); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"old.json", "old.json"}, "name the same executable files (" + old + ")"},
		{[]string{profile, "new.json"}, "OLD (" + profile + "): a profile names no executable"},
		{[]string{"old.json", noExes}, "NEW (" + noExes + "): the recording names no executable"},
		{[]string{"old.json", "container.json"}, "NEW (container.json): container c1: its bundle's " + filepath.Join(dir, "gone-bundle", "config.json") + " is not on the host (no such file or directory): the image's root filesystem is not reachable; give the executables (profgen diff --reachable OLD-EXE NEW-EXE)\n"},
		{[]string{old, script}, "NEW (" + script + "): nothing could be analysed"},
		{[]string{old, filepath.Join(dir, "missing")}, "missing: no such file"},
	} {
		r := runProfgen(t, dir, append([]string{"diff", "--reachable"}, tc.args...)...)
		if r.code != 2 || r.stdout != "" || !strings.Contains(r.stderr, tc.want) || strings.Count(r.stderr, "\n") != 1 || !strings.HasPrefix(r.stderr, "profgen: ") {
			t.Errorf("diff --reachable %v: exit %d, stdout %q, stderr %q; want exit 2, one line with %q", tc.args, r.code, r.stdout, r.stderr, tc.want)
		}
	}
}
