package main

import (
	"encoding/json"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/exitcode"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/replay"
)

var (
	launcherOnce sync.Once
	launcherErr  error
)

// buildLauncher builds the static Landlock launcher beside the test's
// profgen, where replay looks for it, and returns profgen's path.
func buildLauncher(t *testing.T) string {
	t.Helper()
	profgen := buildProfgen(t)
	launcherOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", filepath.Join(filepath.Dir(profgen), ll.LauncherName), "../profgen-landlock")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		if out, err := cmd.CombinedOutput(); err != nil {
			launcherErr = &exec.Error{Name: ll.LauncherName, Err: err}
			t.Logf("%s", out)
		}
	})
	if launcherErr != nil {
		t.Fatalf("build %s: %v", ll.LauncherName, launcherErr)
	}
	return profgen
}

// engineLandlockReplay runs profgen replay --json --runtime rt --landlock
// ruleset.json (in dir; no seccomp profile: the seccomp side is not judged
// here) with env, the engine arguments every test container needs here
// (rlimits, the host network, /usr and /etc, and binds, each at its host
// path), optionally a drive, and the image and command; it returns the
// report, the exit status and standard error.
func engineLandlockReplay(t *testing.T, rt, dir string, env, binds []string, drive, ready string, command ...string) (*replay.Report, int, string) {
	t.Helper()
	args := []string{"replay", "--json", "--runtime", rt, "--landlock", "ruleset.json", "--bind", "/usr", "--bind", "/etc:/etc",
		"--engine-arg=--network=host", "--engine-arg=-e", "--engine-arg=GODEBUG=multipathtcp=0"}
	if rt == "podman" {
		args = append(args, "--engine-arg=--ulimit=nofile=1024:1024", "--engine-arg=--ulimit=nproc=1024:1024")
	}
	for _, b := range binds {
		if strings.HasPrefix(b, "--") {
			args = append(args, b) // a flag of replay's own
			continue
		}
		args = append(args, "--bind", b)
	}
	if drive != "" {
		args = append(args, "--drive", drive, "--ready", ready)
	}
	cmd := exec.Command(buildLauncher(t), append(append(args, "--", enginetest.TestImage), command...)...)
	cmd.Dir, cmd.Env = dir, env
	res := runResult(t, cmd)
	var rep replay.Report
	if err := json.Unmarshal([]byte(res.stdout), &rep); err != nil {
		t.Fatalf("replay %v: exit %d, no report: %v\n%s\n%s", command, res.code, err, res.stdout, res.stderr)
	}
	return &rep, res.code, res.stderr
}

// httpServerLearned builds the bundled HTTP server, records it on the host
// serving a drive, and writes its ruleset.json in dir; it returns the
// server's command line on port, the other port, the drive and the
// readiness, and the binds (the server's directory and its data, at their
// host paths, which the ruleset names).
func httpServerLearned(t *testing.T, dir string) (server []string, other, drive, ready string, binds []string) {
	t.Helper()
	bin := workload.Build(t, "httpserver")
	data := filepath.Join(dir, "data")
	if err := os.Mkdir(data, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("served\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, other := freePort(t), freePort(t)
	url := "http://127.0.0.1:" + port
	ready = "tcp:127.0.0.1:" + port
	drive = curlDrive(t, dir, "drive.sh", true, url+"/hello", url+"/file", url+"/hello")
	server = []string{bin, "--addr", "127.0.0.1:" + port, "--file", filepath.Join(data, "f")}
	learnBoth(t, dir, []string{"GODEBUG=multipathtcp=0"}, drive, ready, server...)
	binds = []string{filepath.Dir(bin) + ":" + filepath.Dir(bin), data + ":" + data}
	return server, other, drive, ready, binds
}

// TestReplayLandlockPodman: the bundled HTTP server, its ruleset learned
// from a recording, is replayed in podman under the ruleset (profgen's
// launcher in front of its command): it serves the same drive with no
// denial; under the ruleset without its data, the drive fails naming the
// file; reading /etc/shadow, binding a port it never used and executing
// /bin/sh, which it never executed, are refused and named, and the replay
// fails.
func TestReplayLandlockPodman(t *testing.T) {
	env := privatePodman(t)
	dir := t.TempDir()
	server, other, drive, ready, binds := httpServerLearned(t, dir)

	rep, code, stderr := engineLandlockReplay(t, "podman", dir, env, binds, drive, ready, server...)
	if code != 0 || !rep.OK() {
		t.Fatalf("the same drive under its ruleset in podman: exit %d, landlock %+v\n%s", code, rep.Landlock, stderr)
	}

	// The ruleset without its rules for the served data: the same drive
	// fails, naming the file.
	data := filepath.Dir(server[4])
	writeWithout(t, filepath.Join(dir, "ruleset.json"), filepath.Join(dir, "narrow.json"), data)
	rep, code, _ = engineLandlockReplay(t, "podman", dir, env, append(binds, "--landlock=narrow.json"), drive, ready, server...)
	if code != exitcode.Found || !denied(rep, "read_file", server[4]) {
		t.Errorf("a ruleset without %s in podman: exit %d, landlock %+v", data, code, rep.Landlock)
	}

	shadow := curlDrive(t, dir, "shadow.sh", false, "http://"+strings.TrimPrefix(ready, "tcp:")+"/file")
	rep, code, _ = engineLandlockReplay(t, "podman", dir, env, binds, shadow, ready, server[0], server[1], server[2], "--file", "/etc/shadow")
	if code != exitcode.Found || !denied(rep, "read_file", "/etc/shadow") {
		t.Errorf("reading /etc/shadow in podman: exit %d, landlock %+v", code, rep.Landlock)
	}
	rep, code, _ = engineLandlockReplay(t, "podman", dir, env, binds, "", "", server[0], "--addr", "127.0.0.1:"+other, server[3], server[4])
	if code != exitcode.Found || !denied(rep, "bind_tcp", other) {
		t.Errorf("binding port %s in podman: exit %d, landlock %+v", other, code, rep.Landlock)
	}
	rep, code, _ = engineLandlockReplay(t, "podman", dir, env, binds, "", "", "/bin/sh", "-c", "true")
	if code != exitcode.Found || !denied(rep, "execute", "/usr/bin/dash") {
		t.Errorf("executing /bin/sh in podman: exit %d, landlock %+v", code, rep.Landlock)
	}

	// With the seccomp profile learned on the host too: the launcher
	// loads it after the ruleset, right before it execs the server, so
	// that its own calls, which the profile never saw, run before it: the
	// same drive passes under both, with no denial.
	rep, code, stderr = engineLandlockReplay(t, "podman", dir, env, append(binds, "--profile=seccomp.json"), drive, ready, server...)
	if code != 0 || !rep.OK() || len(rep.Violations) != 0 {
		t.Errorf("the host's profile with the ruleset in podman: exit %d, violations %+v, landlock %+v, notes %q\n%s", code, rep.Violations, rep.Landlock, rep.Notes, stderr)
	}
}

// writeWithout writes the ruleset (Landlock's configuration format) of
// from to to, less every path rule's parent at or beneath dir.
func writeWithout(t *testing.T, from, to, dir string) {
	t.Helper()
	data, err := os.ReadFile(from)
	if err != nil {
		t.Fatal(err)
	}
	var doc map[string]any
	if err := json.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	var kept []any
	removed := 0
	for _, rule := range doc["pathBeneath"].([]any) {
		r := rule.(map[string]any)
		var parents []any
		for _, p := range r["parent"].([]any) {
			if p := p.(string); p == dir || strings.HasPrefix(p, dir+"/") {
				removed++
				continue
			}
			parents = append(parents, p)
		}
		if len(parents) > 0 {
			r["parent"] = parents
			kept = append(kept, r)
		}
	}
	if removed == 0 {
		t.Fatalf("%s has no rule beneath %s:\n%s", from, dir, data)
	}
	doc["pathBeneath"] = kept
	if data, err = json.Marshal(doc); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(to, data, 0o644); err != nil {
		t.Fatal(err)
	}
}

// TestReplayLandlockDocker: the same through a private dockerd (the
// container descends from dockerd, its denials told apart by its cgroup):
// the server serves its drive under its learned ruleset, a Landlock denial
// on the host at the same time is not named, and it is refused
// /etc/shadow, named; with its seccomp profile learned on the host too,
// the same drive passes.
func TestReplayLandlockDocker(t *testing.T) {
	d := privateDocker(t)
	dir := t.TempDir()
	server, _, drive, ready, binds := httpServerLearned(t, dir)

	// While the container serves, a process on the host is refused
	// /etc/hostname by a ruleset of its own (the launcher, run on the
	// host): not the container's, so not named, and the replay passes.
	host := filepath.Join(dir, "host.json")
	if err := os.WriteFile(host, []byte(`{"HandledFS": 4, "Paths": [{"Path": "/usr", "Access": 4}, {"Path": "/etc/ld.so.cache", "Access": 4}], "Log": true}`), 0o644); err != nil {
		t.Fatal(err)
	}
	launcher := filepath.Join(filepath.Dir(buildLauncher(t)), ll.LauncherName)
	drive = drive + " && " + launcher + " " + host + " -- /usr/bin/cat /etc/hostname 2>&1 | grep -q 'Permission denied'"
	rep, code, stderr := engineLandlockReplay(t, "docker", dir, d.Env(), binds, drive, ready, server...)
	if code != 0 || !rep.OK() {
		t.Fatalf("the same drive under its ruleset in docker: exit %d, landlock %+v\n%s", code, rep.Landlock, stderr)
	}
	shadow := curlDrive(t, dir, "shadow.sh", false, "http://"+strings.TrimPrefix(ready, "tcp:")+"/file")
	rep, code, _ = engineLandlockReplay(t, "docker", dir, d.Env(), binds, shadow, ready, server[0], server[1], server[2], "--file", "/etc/shadow")
	if code != exitcode.Found || !denied(rep, "read_file", "/etc/shadow") {
		t.Errorf("reading /etc/shadow in docker: exit %d, landlock %+v", code, rep.Landlock)
	}
	// With the seccomp profile learned on the host too, loaded by the
	// launcher after the ruleset (docker gets seccomp=unconfined).
	rep, code, stderr = engineLandlockReplay(t, "docker", dir, d.Env(), append(binds, "--profile=seccomp.json"), drive, ready, server...)
	if code != 0 || !rep.OK() || len(rep.Violations) != 0 {
		t.Errorf("the host's profile with the ruleset in docker: exit %d, violations %+v, landlock %+v\n%s", code, rep.Violations, rep.Landlock, stderr)
	}
	if out, _ := d.Cmd("ps", "-aq").Output(); len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("containers left behind: %s", out)
	}
}

// TestReplayLandlockPodmanNginx: Debian's nginx, recorded on the host
// serving GETs and a WebDAV PUT into uploads/, is replayed in podman under
// its learned ruleset (its directory bound at the same path): the same
// drive passes; a GET of /etc/shadow (an alias), a PUT into the directory
// it serves and a proxy_pass to a port it never connected to are refused
// and named, and nothing is written there.
func TestReplayLandlockPodmanNginx(t *testing.T) {
	env := privatePodman(t)
	dir := t.TempDir()
	port, upstream := freePort(t), freePort(t)
	n := workload.LayoutNginx(t, dir, dir, port, upstream)
	defer n.LogOnFail(t)
	url := "http://127.0.0.1:" + port
	ready := "tcp:127.0.0.1:" + port
	drive := curlDrive(t, dir, "drive.sh", true, url+"/index.html", "-T "+n.Conf+" "+url+"/uploads/a.txt", url+"/index.html")
	learnBoth(t, dir, nil, drive, ready, n.Command...)
	if err := os.Remove(filepath.Join(n.WWW, "uploads", "a.txt")); err != nil {
		t.Fatal(err)
	}
	binds := []string{dir + ":" + dir + ":rw"}
	rep, code, stderr := engineLandlockReplay(t, "podman", dir, env, binds, drive, ready, n.Command...)
	if code != 0 || !rep.OK() {
		t.Fatalf("the same drive under its ruleset in podman: exit %d, landlock %+v\n%s", code, rep.Landlock, stderr)
	}
	bad := curlDrive(t, dir, "bad.sh", false, url+"/shadow", "-T "+n.Conf+" "+url+"/new.html", url+"/proxy/")
	rep, code, _ = engineLandlockReplay(t, "podman", dir, env, binds, bad, ready, n.Command...)
	if code != exitcode.Found {
		t.Errorf("forbidden accesses in podman: exit %d, want %d", code, exitcode.Found)
	}
	for _, d := range [][2]string{{"read_file", "/etc/shadow"}, {"connect_tcp", upstream}} {
		if !denied(rep, d[0], d[1]) {
			t.Errorf("no denial of %s on %s named: landlock %+v", d[0], d[1], rep.Landlock)
		}
	}
	if !denied(rep, "make_reg", n.WWW) && !denied(rep, "refer", n.WWW) {
		t.Errorf("no denial of the PUT into %s named: landlock %+v", n.WWW, rep.Landlock)
	}
	if _, err := os.Stat(filepath.Join(n.WWW, "new.html")); err == nil {
		t.Errorf("the PUT wrote new.html into the served directory")
	}
}

// TestReplayLandlockEngineBadInput: in a container, a --landlock file that
// is not a ruleset, and a profgen without its launcher beside it, are
// one-line errors (exit 2) naming what is wrong, and no container is
// left.
func TestReplayLandlockEngineBadInput(t *testing.T) {
	env := privatePodman(t)
	dir := t.TempDir()
	notRuleset := filepath.Join(dir, "seccomp.json")
	if err := os.WriteFile(notRuleset, []byte(`{"defaultAction": "SCMP_ACT_ERRNO", "syscalls": []}`), 0o644); err != nil {
		t.Fatal(err)
	}
	ruleset := filepath.Join(dir, "ruleset.json")
	if err := os.WriteFile(ruleset, []byte(`{"ruleset": [{"handledAccessFs": ["read_file"]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	// profgen alone, without profgen-landlock beside it.
	alone := filepath.Join(t.TempDir(), "profgen")
	if out, err := exec.Command("cp", buildLauncher(t), alone).CombinedOutput(); err != nil {
		t.Fatalf("cp: %v %s", err, out)
	}
	for _, tc := range []struct {
		profgen, ruleset, want string
	}{
		{buildLauncher(t), notRuleset, "seccomp.json"},
		{alone, ruleset, ll.LauncherName},
	} {
		cmd := exec.Command(tc.profgen, "replay", "--runtime", "podman", "--landlock", tc.ruleset, "--", enginetest.TestImage, "/bin/true")
		cmd.Dir, cmd.Env = dir, env
		r := runResult(t, cmd)
		if r.code != exitcode.Error || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 || !strings.Contains(r.stderr, tc.want) || r.stdout != "" {
			t.Errorf("%s --landlock %s: exit %d, stdout %q, stderr %q; want %d, one line naming %s", tc.profgen, tc.ruleset, r.code, r.stdout, r.stderr, exitcode.Error, tc.want)
		}
	}
	ps := exec.Command("podman", "ps", "-aq")
	ps.Env = env
	if out, err := ps.Output(); err != nil || len(strings.TrimSpace(string(out))) != 0 {
		t.Errorf("podman ps -a: %v %q: containers left", err, out)
	}
}
