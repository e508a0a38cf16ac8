package main

import (
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/replay"
)

// curlDrive writes a drive script: each request a curl command line
// (arguments after curl -s -o /dev/null), none of which may fail to
// connect; with check, each must answer 2xx.
func curlDrive(t *testing.T, dir, name string, check bool, requests ...string) string {
	t.Helper()
	var b strings.Builder
	b.WriteString("#!/bin/sh\nset -e\n")
	for _, r := range requests {
		if check {
			fmt.Fprintf(&b, "curl -sf -o /dev/null %s\n", r)
		} else {
			fmt.Fprintf(&b, "curl -s -o /dev/null %s\n", r)
		}
	}
	p := filepath.Join(dir, name)
	if err := os.WriteFile(p, []byte(b.String()), 0o755); err != nil {
		t.Fatal(err)
	}
	return p
}

// landlockReplay runs profgen replay --runtime none under dir's
// ruleset.json alone (the seccomp side is not judged here) and returns the
// report and exit status.
func landlockReplay(t *testing.T, dir string, env []string, drive, ready string, command ...string) (*replay.Report, int, string) {
	t.Helper()
	args := []string{"replay", "--json", "--runtime", "none", "--landlock", "ruleset.json"}
	if drive != "" {
		args = append(args, "--drive", drive, "--ready", ready)
	}
	cmd := exec.Command(buildProfgen(t), append(append(args, "--"), command...)...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	res := runResult(t, cmd)
	var rep replay.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("replay %v: exit %d, no report: %v\n%s\n%s", command, res.code, err, res.stdout, res.stderr)
	}
	return &rep, res.code, res.stderr
}

// learnBoth records command with drive and writes its seccomp profile
// (seccomp.json) and Landlock ruleset (ruleset.json) in dir.
func learnBoth(t *testing.T, dir string, env []string, drive, ready string, command ...string) {
	t.Helper()
	args := append([]string{"record", "-o", "rec.json", "--ready", ready, "--drive", drive, "--"}, command...)
	cmd := exec.Command(buildProfgen(t), args...)
	cmd.Dir, cmd.Env = dir, append(os.Environ(), env...)
	if res := runResult(t, cmd); res.code != 0 {
		t.Fatalf("record: exit %d\n%s", res.code, res.stderr)
	}
	for _, a := range [][]string{{"emit", "-o", "seccomp.json", "rec.json"}, {"emit", "--format", "landlock", "-o", "ruleset.json", "rec.json"}} {
		if res := runProfgen(t, dir, a...); res.code != 0 {
			t.Fatalf("%v: exit %d\n%s", a, res.code, res.stderr)
		}
	}
}

// denied reports whether rep names a Landlock denial of access on what
// (a path, or a port as a decimal string).
func denied(rep *replay.Report, access, what string) bool {
	for _, v := range rep.Landlock {
		if v.Access == access && (v.Path == what || fmt.Sprint(v.Port) == what) {
			return true
		}
	}
	return false
}

// TestLandlockHTTPServer: the bundled HTTP server is recorded, its seccomp
// profile and Landlock ruleset emitted, and it serves the same drive under
// both with no denial; under its ruleset it cannot read /etc/shadow, bind
// a port it never used, and /bin/sh (which it never executed) cannot be
// executed: each denial named by replay.
func TestLandlockHTTPServer(t *testing.T) {
	dir := t.TempDir()
	server, other, drive, ready, _ := httpServerLearned(t, dir)
	bin, port := server[0], strings.TrimPrefix(ready, "tcp:127.0.0.1:")
	url := "http://127.0.0.1:" + port
	env := []string{"GODEBUG=multipathtcp=0"}

	rep, code, stderr := landlockReplay(t, dir, env, drive, ready, server...)
	if code != 0 || !rep.OK() || len(rep.Landlock) != 0 {
		t.Fatalf("the same drive under its ruleset: exit %d, landlock %+v, seccomp %+v\n%s", code, rep.Landlock, rep.Violations, stderr)
	}

	shadow := curlDrive(t, dir, "shadow.sh", false, url+"/file")
	rep, code, _ = landlockReplay(t, dir, env, shadow, ready, bin, "--addr", "127.0.0.1:"+port, "--file", "/etc/shadow")
	if code != 1 || !denied(rep, "read_file", "/etc/shadow") {
		t.Errorf("reading /etc/shadow: exit %d, landlock %+v", code, rep.Landlock)
	}

	rep, code, _ = landlockReplay(t, dir, env, "", "", bin, "--addr", "127.0.0.1:"+other, server[3], server[4])
	if code != 1 || !denied(rep, "bind_tcp", other) {
		t.Errorf("binding port %s: exit %d, landlock %+v", other, code, rep.Landlock)
	}

	rep, code, _ = landlockReplay(t, dir, nil, "", "", "/bin/sh", "-c", "true")
	if code != 1 || !denied(rep, "execute", "/usr/bin/dash") {
		t.Errorf("executing /bin/sh: exit %d, landlock %+v", code, rep.Landlock)
	}
}

// TestLandlockNginx: Debian's nginx (as root, one worker, in the
// foreground) is recorded serving GETs, and serves them under its learned
// ruleset with no denial; under it, it cannot read /etc/shadow (an alias),
// write into the directory it serves (WebDAV PUT) or connect to a port it
// never used (proxy_pass): each denial named by replay.
func TestLandlockNginx(t *testing.T) {
	dir := t.TempDir()
	port, upstream := freePort(t), freePort(t)
	n := workload.LayoutNginx(t, dir, dir, port, upstream)
	www, conf, server := n.WWW, n.Conf, n.Command
	url := "http://127.0.0.1:" + port
	ready := "tcp:127.0.0.1:" + port
	// The drive uploads into uploads/ (so that the seccomp profile allows
	// what a PUT calls, and Landlock is what refuses a PUT elsewhere).
	drive := curlDrive(t, dir, "drive.sh", true, url+"/index.html", "-T "+conf+" "+url+"/uploads/a.txt", url+"/index.html")
	learnBoth(t, dir, nil, drive, ready, server...)
	defer n.LogOnFail(t)

	if err := os.Remove(filepath.Join(www, "uploads", "a.txt")); err != nil {
		t.Fatal(err)
	}
	rep, code, stderr := landlockReplay(t, dir, nil, drive, ready, server...)
	if code != 0 || !rep.OK() || len(rep.Landlock) != 0 {
		t.Fatalf("the same drive under its ruleset: exit %d, landlock %+v, seccomp %+v\n%s", code, rep.Landlock, rep.Violations, stderr)
	}
	bad := curlDrive(t, dir, "bad.sh", false, url+"/shadow", "-T "+conf+" "+url+"/new.html", url+"/proxy/")
	rep, code, _ = landlockReplay(t, dir, nil, bad, ready, server...)
	for _, d := range [][2]string{{"read_file", "/etc/shadow"}, {"connect_tcp", upstream}} {
		if !denied(rep, d[0], d[1]) {
			t.Errorf("no denial of %s on %s named: exit %d, landlock %+v", d[0], d[1], code, rep.Landlock)
		}
	}
	// nginx's PUT makes its file in the served directory (make_reg), or
	// moves its temporary file there (refer).
	if !denied(rep, "make_reg", www) && !denied(rep, "refer", www) {
		t.Errorf("no denial of the PUT into %s named: landlock %+v", www, rep.Landlock)
	}
	entries, err := os.ReadDir(www)
	if err != nil {
		t.Fatal(err)
	}
	for _, e := range entries {
		if e.Name() != "index.html" && e.Name() != "uploads" {
			t.Errorf("the PUT wrote %s into the served directory", e.Name())
		}
	}
}

// TestLandlockRenameReplace: a program that saves a file atomically into
// another directory (writes tmp/f.new, renames it over state/f) runs
// again under the ruleset learned from its recording: Landlock requires
// remove_file on state/ for the entry the rename replaces, which the
// recording carries (docs/recording.md#paths), with its note. perl's
// isatty(3) on the /dev/null it opens fails with ENOTTY, past Landlock's
// ioctl_dev check: the ruleset grants it, or perl would get EACCES.
func TestLandlockRenameReplace(t *testing.T) {
	dir := t.TempDir()
	reset := func() {
		t.Helper()
		for _, d := range []string{"tmp", "state"} {
			if err := os.MkdirAll(filepath.Join(dir, d), 0o755); err != nil {
				t.Fatal(err)
			}
		}
		if err := os.WriteFile(filepath.Join(dir, "state", "f"), []byte("old\n"), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	// perl (Debian's perl-base, always there) calls rename(2) itself.
	save := []string{"perl", "-e", `open(F, ">tmp/f.new") or die "open: $!"; print F "new\n"; close F; rename("tmp/f.new", "state/f") or die "rename: $!\n"`}
	reset()
	if res := runProfgen(t, dir, append([]string{"record", "-o", "rec.json", "--"}, save...)...); res.code != 0 {
		t.Fatalf("record: exit %d\n%s", res.code, res.stderr)
	}
	if b, _ := os.ReadFile(filepath.Join(dir, "rec.json")); !strings.Contains(string(b), "renames (without RENAME_NOREPLACE) record remove_file") {
		t.Errorf("the recording has no note of the remove_file its rename records")
	}
	if res := runProfgen(t, dir, "emit", "--format", "landlock", "-o", "ruleset.json", "rec.json"); res.code != 0 {
		t.Fatalf("emit: exit %d\n%s", res.code, res.stderr)
	}
	reset()
	rep, code, stderr := landlockReplay(t, dir, nil, "", "", save...)
	if code != 0 || len(rep.Landlock) != 0 {
		t.Fatalf("the save under its ruleset: exit %d, landlock %+v\n%s", code, rep.Landlock, stderr)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "state", "f")); err != nil || string(b) != "new\n" {
		t.Errorf("state/f after the save: %q, %v", b, err)
	}
}
