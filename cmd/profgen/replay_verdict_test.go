package main

import (
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
)

// setgidProfile records setpriv setting its group to 65534 on the host,
// once allowed to (root) and once refused (as uid 65534, EPERM), and emits
// the profile of both: it allows every call of either outcome.
func setgidProfile(t *testing.T, dir string) string {
	t.Helper()
	setgid := []string{"setpriv", "--regid", "65534", "--clear-groups", "true"}
	ok, fail := filepath.Join(dir, "ok.json"), filepath.Join(dir, "fail.json")
	if r := runProfgen(t, dir, append([]string{"record", "-o", ok, "--"}, setgid...)...); r.code != 0 {
		t.Fatalf("record %v: exit %d: %s", setgid, r.code, r.stderr)
	}
	refused := append([]string{"record", "-o", fail, "--", "setpriv", "--reuid", "65534", "--"}, setgid...)
	if r := runProfgen(t, dir, refused...); r.code == 0 {
		t.Fatalf("record %v as uid 65534: exit 0, want a refused setgid: %s", setgid, r.stderr)
	}
	merged, prof := filepath.Join(dir, "merged.json"), filepath.Join(dir, "p.json")
	if r := runProfgen(t, dir, "merge", "-o", merged, ok, fail); r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "-o", prof, merged); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	return prof
}

// A workload that calls setgid passes in runc, which grants Docker's
// default capabilities; with CAP_SETGID dropped its setgid fails (EPERM),
// it exits 127 (setpriv's status for a refused change), and although the profile allowed every call it made the
// verdict is NO VERDICT, naming the workload and its status. The same
// failure while a driver succeeds is not a PASS either.
func TestReplayRuncWorkloadFails(t *testing.T) {
	dir := t.TempDir()
	prof := setgidProfile(t, dir)
	setgid := []string{"--", "setpriv", "--regid", "65534", "--clear-groups", "true"}

	r := runProfgen(t, dir, append([]string{"replay", "--runtime", "runc", "--profile", prof}, setgid...)...)
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS") {
		t.Errorf("setgid in runc with Docker's capabilities: exit %d, stdout %q, stderr %q; want PASS", r.code, r.stdout, r.stderr)
	}

	r = runProfgen(t, dir, append([]string{"replay", "--runtime", "runc", "--cap-drop", "setgid", "--profile", prof}, setgid...)...)
	if r.code != exitcode.NoVerdict || !strings.Contains(r.stdout, "NO VERDICT") ||
		!strings.Contains(r.stderr, "the workload (setpriv) exited with status 127, expected 0") {
		t.Errorf("setgid in runc without CAP_SETGID: exit %d, stdout %q, stderr %q; want %d naming setpriv's status 127", r.code, r.stdout, r.stderr, exitcode.NoVerdict)
	}
	// What it exited with on the host when refused, expected: a pass.
	r = runProfgen(t, dir, append([]string{"replay", "--runtime", "runc", "--cap-drop", "CAP_SETGID", "--expect-exit", "127", "--profile", prof}, setgid...)...)
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS") {
		t.Errorf("setgid refused, --expect-exit 127: exit %d, stdout %q, stderr %q; want PASS", r.code, r.stdout, r.stderr)
	}

	// The driver succeeds while the workload fails.
	r = runProfgen(t, dir, append([]string{"replay", "--runtime", "runc", "--cap-drop", "SETGID", "--drive", "sleep 1", "--profile", prof}, setgid...)...)
	if r.code != exitcode.NoVerdict || strings.Contains(r.stdout, "PASS") ||
		!strings.Contains(r.stderr, "the workload (setpriv) exited with status 127") || !strings.Contains(r.stdout, "driver exit status 0") {
		t.Errorf("failing workload, driver succeeding: exit %d, stdout %q, stderr %q; want %d naming the workload", r.code, r.stdout, r.stderr, exitcode.NoVerdict)
	}
}

// A failing driver is named as the driver, not as the workload; a
// workload that exits before it is ready is named with its status, not
// reported as a driver that did not run.
func TestReplayDriverFails(t *testing.T) {
	dir := t.TempDir()
	_, prof := recordAndEmit(t, dir, "sh", "-c", "sleep 0.1; exit 6")
	for _, rt := range []string{"runc", "none"} {
		r := runProfgen(t, dir, "replay", "--runtime", rt, "--profile", prof, "--drive", "exit 5", "--grace", "1s", "--", "sh", "-c", "sleep 0.1")
		if r.code != exitcode.NoVerdict || !strings.Contains(r.stderr, "the driver exited with status 5") ||
			strings.Contains(r.stderr, "workload exited with status 5") || strings.Contains(r.stdout, "workload exit status 5") {
			t.Errorf("%s, driver exit 5: exit %d, stdout %q, stderr %q; want %d naming the driver's status 5", rt, r.code, r.stdout, r.stderr, exitcode.NoVerdict)
		}
	}
	r := runProfgen(t, dir, "replay", "--runtime", "runc", "--profile", prof, "--ready", "tcp:127.0.0.1:1", "--drive", "true", "--", "sh", "-c", "sleep 0.1; exit 6")
	if r.code != exitcode.NoVerdict || !strings.Contains(r.stderr, "the workload (sh) exited with status 6 before it was ready") {
		t.Errorf("workload gone before ready: exit %d, stdout %q, stderr %q; want %d naming its status 6", r.code, r.stdout, r.stderr, exitcode.NoVerdict)
	}
}

// Flags may follow the recordings of --static, as with other commands;
// after --, arguments stay the command's.
func TestReplayStaticFlagsAfterRecording(t *testing.T) {
	dir := t.TempDir()
	rec, prof := recordAndEmit(t, dir, "sh", "-c", "exit 0")
	for _, args := range [][]string{
		{"replay", "--static", rec, "--profile", prof},
		{"replay", rec, "--static", "--profile", prof},
		{"replay", "--static", "--profile", prof, rec},
	} {
		r := runProfgen(t, dir, args...)
		if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS: static") {
			t.Errorf("%v: exit %d, stdout %q, stderr %q; want PASS", args, r.code, r.stdout, r.stderr)
		}
	}
	// The command's own flags after --: sh -c is sh's.
	r := runProfgen(t, dir, "replay", "--runtime", "none", "--profile", prof, "--", "sh", "-c", "exit 0")
	if r.code != exitcode.OK {
		t.Errorf("replay -- sh -c 'exit 0': exit %d, stderr %q", r.code, r.stderr)
	}
}

// A denial in runc names the process that was denied: pid, comm and
// executable.
func TestReplayDenialNamesProcess(t *testing.T) {
	dir := t.TempDir()
	_, prof := recordAndEmit(t, dir, "sh", "-c", "exit 0")
	r := runProfgen(t, dir, "replay", "--runtime", "runc", "--profile", prof, "--", "cat", "/etc/passwd")
	if r.code != exitcode.Found || !strings.Contains(r.stdout, "PID") || !strings.Contains(r.stdout, "COMM") {
		t.Fatalf("cat under sh's profile: exit %d, stdout %q, stderr %q; want a FAIL table with PID and COMM", r.code, r.stdout, r.stderr)
	}
	named := false
	for _, line := range strings.Split(r.stdout, "\n") {
		f := strings.Fields(line)
		if len(f) == 7 && f[5] == "cat" && f[6] == "/usr/bin/cat" && f[4] != "0" {
			named = true
		}
	}
	if !named {
		t.Errorf("no denial names cat (pid, comm cat, exe /usr/bin/cat):\n%s", r.stdout)
	}
}

// Bad --bind, --cap-add and --cap-drop values fail in one line naming
// the value, exit 2, with nothing run.
func TestReplayBadContainerFlags(t *testing.T) {
	good := writeProfile(t, t.TempDir(), "good.json", "read")
	run := []string{"--", "sh", "-c", "touch ran"}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"--cap-add", "FLY"}, `--cap-add: unknown capability "FLY"`},
		{[]string{"--cap-drop", "CAP_NOPE"}, `--cap-drop: unknown capability "CAP_NOPE"`},
		{[]string{"--bind", "/tmp:rel:rw"}, `--bind: bind "/tmp:rel:rw": the container path "rel" is not absolute`},
		{[]string{"--bind", "/tmp:/x:rx"}, `unknown mode "rx"`},
		{[]string{"--bind", "/nonexistent/profgen:/x"}, "/nonexistent/profgen"},
		{[]string{"--runtime", "none", "--cap-add", "KILL"}, "need a container"},
		{[]string{"--expect-exit", "300"}, "--expect-exit 300"},
	} {
		dir := t.TempDir()
		r := runProfgen(t, dir, append(append([]string{"replay", "--profile", good}, tc.args...), run...)...)
		assertOneLineError(t, r, dir, tc.want)
		if r.code != exitcode.Error {
			t.Errorf("%v: exit %d, want %d", tc.args, r.code, exitcode.Error)
		}
	}
}
