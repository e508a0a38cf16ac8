package main

import (
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/internal/enginetest"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

var launcherOnce sync.Once

// needLauncher builds the static profgen-landlock beside the test's
// profgen-runc, where the wrapper looks for it.
func needLauncher(t *testing.T, e *podmanEnv) {
	t.Helper()
	var err error
	var out []byte
	launcherOnce.Do(func() {
		cmd := exec.Command("go", "build", "-o", filepath.Join(filepath.Dir(e.wrapper), LandlockLauncher), "../profgen-landlock")
		cmd.Env = append(os.Environ(), "CGO_ENABLED=0")
		out, err = cmd.CombinedOutput()
	})
	if err != nil {
		t.Fatalf("build %s: %v\n%s", LandlockLauncher, err, out)
	}
}

// httpGet fetches url, retrying until the server listens.
func httpGet(t *testing.T, url string) (int, string) {
	t.Helper()
	var last error
	for deadline := time.Now().Add(20 * time.Second); time.Now().Before(deadline); time.Sleep(100 * time.Millisecond) {
		resp, err := http.Get(url)
		if err != nil {
			last = err
			continue
		}
		body, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		return resp.StatusCode, string(body)
	}
	t.Fatalf("GET %s: %v", url, last)
	return 0, ""
}

// TestPodmanLandlock: with io.profgen.landlock, the container's server
// runs under the ruleset (profgen-landlock in front of its command): it
// serves the file the ruleset lets it read, is refused /etc/shadow, and
// cannot bind a port the ruleset does not list.
func TestPodmanLandlock(t *testing.T) {
	e := needPodman(t)
	needLauncher(t, e)
	bin := workload.Build(t, "httpserver")
	dir := t.TempDir()
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("served under landlock\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, other := freePort(t), freePort(t)
	rs := filepath.Join(dir, "ruleset.json")
	if err := os.WriteFile(rs, []byte(`{"abi": 6,
 "ruleset": [{"handledAccessFs": ["abi.all"], "handledAccessNet": ["abi.all"], "scoped": ["abi.all"]}],
 "pathBeneath": [
  {"allowedAccess": ["execute", "read_file"], "parent": ["/w/httpserver"]},
  {"allowedAccess": ["read_file", "read_dir"], "parent": ["/data"]}],
 "netPort": [{"allowedAccess": ["bind_tcp"], "port": [`+port+`]}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	run := func(name string, server ...string) {
		t.Helper()
		// Plain TCP: Go listens with MPTCP by default, which Landlock does
		// not govern (docs/landlock.md).
		args := append([]string{"-d", "--name", name, "--annotation", AnnotationLandlock + "=" + rs, "-e", "GODEBUG=multipathtcp=0"}, runArgs(bin, data)...)
		if code, outp := e.recordRun(t, filepath.Join(dir, name+".json"), append(append(args, testImage), server...)...); code != 0 {
			t.Fatalf("podman run %s: exit %d\n%s", name, code, outp)
		}
		t.Cleanup(func() { e.podman("rm", "-f", name).Run() })
	}

	run("profgen-ll-serve", "/w/httpserver", "--addr", "127.0.0.1:"+port, "--file", "/data/f")
	if code, body := httpGet(t, "http://127.0.0.1:"+port+"/file"); code != 200 || body != "served under landlock\n" {
		t.Errorf("GET /file: %d %q", code, body)
	}
	if code, outp := runCmd(t, e.podman("stop", "profgen-ll-serve")); code != 0 {
		t.Fatalf("podman stop: exit %d\n%s", code, outp)
	}

	run("profgen-ll-shadow", "/w/httpserver", "--addr", "127.0.0.1:"+port, "--file", "/etc/shadow")
	if code, body := httpGet(t, "http://127.0.0.1:"+port+"/file"); code != 500 || !strings.Contains(body, "permission denied") {
		t.Errorf("GET /file of /etc/shadow: %d %q", code, body)
	}
	if code, outp := runCmd(t, e.podman("stop", "profgen-ll-shadow")); code != 0 {
		t.Fatalf("podman stop: exit %d\n%s", code, outp)
	}

	run("profgen-ll-port", "/w/httpserver", "--addr", "127.0.0.1:"+other, "--file", "/data/f")
	waitFor(t, "the server on a port the ruleset lacks to exit", func() bool {
		_, outp := runCmd(t, e.podman("inspect", "-f", "{{.State.Running}}", "profgen-ll-port"))
		return strings.TrimSpace(outp) == "false"
	})
	if _, outp := runCmd(t, e.podman("logs", "profgen-ll-port")); !strings.Contains(outp, "listen: listen tcp 127.0.0.1:"+other+": bind: permission denied") {
		t.Errorf("the server's log lacks the refused bind:\n%s", outp)
	}
}

// TestPlanLandlockBadInput: a relative path, a bad ruleset and a missing
// launcher are one-line errors naming the annotation, before anything
// changes.
func TestPlanLandlockBadInput(t *testing.T) {
	dir := t.TempDir()
	good := filepath.Join(dir, "good.json")
	os.WriteFile(good, []byte(`{"ruleset": [{"handledAccessFs": ["read_file"]}]}`), 0o644)
	bad := filepath.Join(dir, "bad.json")
	os.WriteFile(bad, []byte(`{"ruleset": [{"handledAccessFs": ["read_everything"]}]}`), 0o644)
	if p, err := planLandlock(map[string]string{}); p != nil || err != nil {
		t.Errorf("no annotation: %v %v", p, err)
	}
	for file, want := range map[string]string{
		"rel.json": "the ruleset's path must be absolute",
		bad:        `unknown Landlock right "read_everything"`,
		good:       "build it beside profgen-runc",
	} {
		_, err := planLandlock(map[string]string{AnnotationLandlock: file})
		if err == nil || !strings.Contains(err.Error(), want) || !strings.HasPrefix(err.Error(), "annotation "+AnnotationLandlock+"=") || strings.Contains(err.Error(), "\n") {
			t.Errorf("%s: %v (want one line with %q)", file, err, want)
		}
	}
}

// TestPodmanLandlockLearned: the bundled HTTP server recorded in podman
// through profgen-runc (the landlock section with the container's paths),
// its ruleset emitted by profgen emit --format landlock and applied with
// io.profgen.landlock: the container serves the same drive under it, and
// is refused /etc/shadow and a port it never bound.
func TestPodmanLandlockLearned(t *testing.T) {
	e := needPodman(t)
	needLauncher(t, e)
	bin := workload.Build(t, "httpserver")
	dir := t.TempDir()
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("served under its learned ruleset\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port, other := freePort(t), freePort(t)
	url := "http://127.0.0.1:" + port
	start := func(name string, annotations []string, server ...string) {
		t.Helper()
		args := append([]string{"-e", "GODEBUG=multipathtcp=0"}, annotations...)
		args = append(append(args, runArgs(bin, data)...), testImage)
		e.startRecorded(t, dir, name, append(args, server...)...)
	}
	stop := func(name string) { t.Helper(); e.stop(t, name) }
	drive := func() {
		t.Helper()
		for _, p := range []string{"/hello", "/file", "/hello"} {
			if code, _ := httpGet(t, url+p); code != 200 {
				t.Errorf("GET %s: %d", p, code)
			}
		}
	}
	server := []string{"/w/httpserver", "--addr", "127.0.0.1:" + port, "--file", "/data/f"}

	// Record.
	start("profgen-ll-rec", nil, server...)
	drive()
	stop("profgen-ll-rec")
	rs := e.emitLandlock(t, filepath.Join(dir, "profgen-ll-rec.json"), "/w/httpserver", data)
	ll := []string{"--annotation", AnnotationLandlock + "=" + rs}

	// The same drive under the learned ruleset.
	start("profgen-ll-learned", ll, server...)
	drive()
	if code, body := httpGet(t, url+"/file"); code != 200 || body != "served under its learned ruleset\n" {
		t.Errorf("GET /file under the ruleset: %d %q", code, body)
	}
	stop("profgen-ll-learned")

	// What it never did.
	start("profgen-ll-learned-shadow", ll, "/w/httpserver", "--addr", "127.0.0.1:"+port, "--file", "/etc/shadow")
	if code, body := httpGet(t, url+"/file"); code != 500 || !strings.Contains(body, "permission denied") {
		t.Errorf("GET /file of /etc/shadow under the ruleset: %d %q", code, body)
	}
	stop("profgen-ll-learned-shadow")
	start("profgen-ll-learned-port", ll, "/w/httpserver", "--addr", "127.0.0.1:"+other, "--file", "/data/f")
	waitFor(t, "the server on a port it never bound to exit", func() bool {
		_, outp := runCmd(t, e.podman("inspect", "-f", "{{.State.Running}}", "profgen-ll-learned-port"))
		return strings.TrimSpace(outp) == "false"
	})
	if _, outp := runCmd(t, e.podman("logs", "profgen-ll-learned-port")); !strings.Contains(outp, "bind: permission denied") {
		t.Errorf("the server's log lacks the refused bind:\n%s", outp)
	}
}

// startRecorded starts the detached container name through profgen-runc
// (podman run -d --name name ARGS, ARGS ending with the image and its
// command), recording into dir/NAME.json; the container is removed when
// the test ends.
func (e *podmanEnv) startRecorded(t *testing.T, dir, name string, args ...string) {
	t.Helper()
	if code, outp := e.recordRun(t, filepath.Join(dir, name+".json"), append([]string{"-d", "--name", name}, args...)...); code != 0 {
		t.Fatalf("podman run %s: exit %d\n%s", name, code, outp)
	}
	t.Cleanup(func() { e.podman("rm", "-f", name).Run() })
}

// stop stops the container name.
func (e *podmanEnv) stop(t *testing.T, name string) {
	t.Helper()
	if code, outp := runCmd(t, e.podman("stop", name)); code != 0 {
		t.Fatalf("podman stop %s: exit %d\n%s", name, code, outp)
	}
}

// emitLandlock waits for the recording rec, writes its ruleset (profgen
// emit --format landlock) beside it and returns the ruleset's path; the
// ruleset must name the container's path want and never the host's
// directory host.
func (e *podmanEnv) emitLandlock(t *testing.T, rec, want, host string) string {
	t.Helper()
	waitFor(t, "the recording", func() bool { _, err := os.Stat(rec); return err == nil })
	rs := filepath.Join(filepath.Dir(rec), "ruleset.json")
	if b, err := exec.Command(e.profgen, "emit", "--format", "landlock", "-o", rs, rec).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit --format landlock: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(rs); !strings.Contains(string(b), `"`+want+`"`) || strings.Contains(string(b), host) {
		t.Errorf("the ruleset lacks the container's path %s, or names the host's %s:\n%s", want, host, b)
	}
	return rs
}

// httpPut puts body at url and returns the status.
func httpPut(t *testing.T, url, body string) int {
	t.Helper()
	req, err := http.NewRequest(http.MethodPut, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("PUT %s: %v", url, err)
	}
	io.Copy(io.Discard, resp.Body)
	resp.Body.Close()
	return resp.StatusCode
}

// TestPodmanLandlockNginx: Debian's nginx (the host's /usr bound into the
// test image; as root, one worker, in the foreground, its pid file and log
// in /data/run apart from the served /data/www, workload.LayoutNginx) is
// recorded in podman through profgen-runc serving GETs and a WebDAV PUT
// into /data/www/uploads, its ruleset emitted by profgen emit --format
// landlock and applied with io.profgen.landlock: the container serves the
// same drive under it, and is refused /etc/shadow (an alias) and a PUT
// into the directory it serves, both of which it was allowed unconfined.
func TestPodmanLandlockNginx(t *testing.T) {
	e := needPodman(t)
	needLauncher(t, e)
	dir, data := t.TempDir(), t.TempDir()
	port, upstream := freePort(t), freePort(t)
	n := workload.LayoutNginx(t, data, "/data", port, upstream)
	defer n.LogOnFail(t)
	url := "http://127.0.0.1:" + port
	// /w is an empty directory: nginx is the host's, under /usr.
	args := append(runArgs(filepath.Join(t.TempDir(), "nginx"), data), testImage)
	args = append(args, n.Command...)
	drive := func(what string) {
		t.Helper()
		if code, body := httpGet(t, url+"/index.html"); code != 200 || body != "served by nginx\n" {
			t.Errorf("%s: GET /index.html: %d %q", what, code, body)
		}
		if code := httpPut(t, url+"/uploads/a.txt", "put\n"); code != http.StatusCreated {
			t.Errorf("%s: PUT /uploads/a.txt: %d", what, code)
		}
		if code, _ := httpGet(t, url+"/index.html"); code != 200 {
			t.Errorf("%s: GET /index.html again: %d", what, code)
		}
		if err := os.Remove(filepath.Join(n.WWW, "uploads", "a.txt")); err != nil {
			t.Errorf("%s: the PUT's file: %v", what, err)
		}
	}
	// forbidden GETs /shadow and PUTs /new.html, and returns their statuses
	// and whether new.html was written.
	forbidden := func() (shadow, put int, written bool) {
		t.Helper()
		shadow, _ = httpGet(t, url+"/shadow")
		put = httpPut(t, url+"/new.html", "not yours\n")
		written = os.Remove(filepath.Join(n.WWW, "new.html")) == nil
		return shadow, put, written
	}

	// Unconfined (runc, not recorded): what the ruleset will refuse is
	// allowed, so that a refusal below is the ruleset's.
	if code, outp := runCmd(t, e.podman(append([]string{"run", "-d", "--name", "profgen-ll-nginx-free"}, args...)...)); code != 0 {
		t.Fatalf("podman run profgen-ll-nginx-free: exit %d\n%s", code, outp)
	}
	t.Cleanup(func() { e.podman("rm", "-f", "profgen-ll-nginx-free").Run() })
	if shadow, put, written := forbidden(); shadow != 200 || put != http.StatusCreated || !written {
		t.Fatalf("unconfined nginx: GET /shadow %d, PUT /new.html %d (written %v); want 200, 201, written", shadow, put, written)
	}
	e.stop(t, "profgen-ll-nginx-free")

	// Record.
	e.startRecorded(t, dir, "profgen-ll-nginx-rec", args...)
	drive("recorded")
	e.stop(t, "profgen-ll-nginx-rec")
	rs := e.emitLandlock(t, filepath.Join(dir, "profgen-ll-nginx-rec.json"), "/data/nginx.conf", data)

	// The same drive under the learned ruleset; what it never did.
	e.startRecorded(t, dir, "profgen-ll-nginx-learned", append([]string{"--annotation", AnnotationLandlock + "=" + rs}, args...)...)
	drive("under its ruleset")
	if shadow, put, written := forbidden(); shadow == 200 || put < 400 || written {
		t.Errorf("nginx under its ruleset: GET /shadow %d, PUT /new.html %d (written %v); want both refused", shadow, put, written)
	}
	e.stop(t, "profgen-ll-nginx-learned")
	if b, err := os.ReadFile(n.ErrorLog); err != nil || !strings.Contains(string(b), `"/etc/shadow" failed (13: Permission denied)`) {
		t.Errorf("nginx's error log does not say /etc/shadow was refused (%v):\n%s", err, b)
	}
}

// TestPodmanLandlockSeccomp: the bundled HTTP server recorded in podman
// through profgen-runc, its OCI seccomp profile (profgen emit) and its
// Landlock ruleset (emit --format landlock) emitted, then run with both
// (--security-opt seccomp=PROFILE, io.profgen.landlock, the profile kept
// in force by io.profgen.keep-seccomp): profgen-runc moves the filter into
// the launcher, which loads it after the ruleset, so the launcher's own
// calls (absent from the profile) run before it and the container serves
// its drive. Under both, a syscall the profile lacks (fstat, removed from
// it: GET /file stats the file) is still denied, with the profile's
// EPERM, and a forbidden file is still refused.
func TestPodmanLandlockSeccomp(t *testing.T) {
	e := needPodman(t)
	needLauncher(t, e)
	bin := workload.Build(t, "httpserver")
	dir := t.TempDir()
	data := t.TempDir()
	if err := os.WriteFile(filepath.Join(data, "f"), []byte("served under its profile and ruleset\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	port := freePort(t)
	url := "http://127.0.0.1:" + port
	start := func(name string, extra []string, server ...string) {
		t.Helper()
		args := append([]string{"-e", "GODEBUG=multipathtcp=0"}, extra...)
		args = append(append(args, runArgs(bin, data)...), testImage)
		e.startRecorded(t, dir, name, append(args, server...)...)
	}
	drive := func(what string) {
		t.Helper()
		for _, p := range []string{"/hello", "/file", "/hello"} {
			if code, body := httpGet(t, url+p); code != 200 {
				t.Errorf("%s: GET %s: %d %q", what, p, code, body)
			}
		}
	}
	server := []string{"/w/httpserver", "--addr", "127.0.0.1:" + port, "--file", "/data/f"}

	// Record, with no profile and no ruleset.
	start("profgen-llsc-rec", []string{"--security-opt", "seccomp=unconfined"}, server...)
	drive("recorded")
	e.stop(t, "profgen-llsc-rec")
	rec := filepath.Join(dir, "profgen-llsc-rec.json")
	rs := e.emitLandlock(t, rec, "/w/httpserver", data)
	prof := filepath.Join(dir, "profile.json")
	if b, err := exec.Command(e.profgen, "emit", "-o", prof, rec).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit: %v\n%s", err, b)
	}
	both := func(profile string) []string {
		return []string{"--security-opt", "seccomp=" + profile, "--annotation", AnnotationKeepSeccomp + "=true", "--annotation", AnnotationLandlock + "=" + rs}
	}

	// The same drive under both.
	start("profgen-llsc-both", both(prof), server...)
	drive("under its profile and ruleset")
	if code, body := httpGet(t, url+"/file"); code != 200 || body != "served under its profile and ruleset\n" {
		t.Errorf("GET /file under both: %d %q", code, body)
	}
	// The filter is the launcher's: the container's process runs under
	// exactly one filter, and no_new_privs.
	pid := containerPid(t, e, "profgen-llsc-both")
	if st, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid)); err != nil || !strings.Contains(string(st), "Seccomp_filters:\t1\n") || !strings.Contains(string(st), "NoNewPrivs:\t1\n") {
		t.Errorf("the server's status (%v) lacks one filter and no_new_privs:\n%s", err, st)
	}
	e.stop(t, "profgen-llsc-both")

	// A forbidden file under both.
	start("profgen-llsc-shadow", both(prof), "/w/httpserver", "--addr", "127.0.0.1:"+port, "--file", "/etc/shadow")
	if code, body := httpGet(t, url+"/file"); code != 500 || !strings.Contains(body, "permission denied") {
		t.Errorf("GET /file of /etc/shadow under both: %d %q", code, body)
	}
	e.stop(t, "profgen-llsc-shadow")

	// A syscall outside the profile under both.
	noFstat := filepath.Join(dir, "no-fstat.json")
	enginetest.WithoutSyscall(t, prof, noFstat, "fstat")
	start("profgen-llsc-nofstat", both(noFstat), server...)
	if code, body := httpGet(t, url+"/hello"); code != 200 {
		t.Errorf("GET /hello without fstat: %d %q", code, body)
	}
	if code, body := httpGet(t, url+"/file"); code != 500 || !strings.Contains(body, "operation not permitted") {
		t.Errorf("GET /file without fstat in the profile: %d %q, want 500 operation not permitted", code, body)
	}
	e.stop(t, "profgen-llsc-nofstat")

	// A filter the launcher cannot load, as the container's entrypoint
	// (plain runc, the launcher bound by hand): exit 125, and the command
	// never runs.
	garbled := filepath.Join(dir, "garbled.bpf")
	if err := os.WriteFile(garbled, []byte("not a classic-BPF program"), 0o644); err != nil {
		t.Fatal(err)
	}
	// The ruleset as the launcher reads it: read_file handled, / readable.
	kernelRuleset := filepath.Join(dir, "kernel-ruleset.json")
	if err := os.WriteFile(kernelRuleset, []byte(`{"HandledFS":4,"Paths":[{"Path":"/","Access":4}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	launcher := filepath.Join(filepath.Dir(e.wrapper), LandlockLauncher)
	args := append([]string{"run", "--rm", "-v", launcher + ":" + ll.ContainerLauncher + ":ro", "-v", kernelRuleset + ":" + ll.ContainerRuleset + ":ro",
		"-v", garbled + ":" + ll.ContainerSeccomp + ":ro", "--entrypoint", ll.ContainerLauncher}, runArgs(bin, data)...)
	args = append(args, testImage)
	args = append(args, ll.LauncherArgsFilter([]string{"/usr/bin/touch", "/data/ran"}, 0)[1:]...)
	code, outp := runCmd(t, e.podman(args...))
	if code != 125 || !strings.Contains(outp, "profgen-landlock: seccomp filter "+ll.ContainerSeccomp) {
		t.Errorf("a garbled filter in the container: exit %d, want 125 naming it\n%s", code, outp)
	}
	if _, err := os.Stat(filepath.Join(data, "ran")); err == nil {
		t.Error("the command ran without its filter")
	}
}

// containerPid returns the pid of podman container name's process.
func containerPid(t *testing.T, e *podmanEnv, name string) int {
	t.Helper()
	_, out := runCmd(t, e.podman("inspect", "-f", "{{.State.Pid}}", name))
	pid, err := strconv.Atoi(strings.TrimSpace(out))
	if err != nil || pid <= 0 {
		t.Fatalf("podman inspect %s: pid %q", name, out)
	}
	return pid
}

// TestApplyLandlockSeccomp: with a ruleset, a linux.seccomp profgen can
// compile leaves config.json for the launcher (compiled into the bundle,
// mounted beside the ruleset, its flags on the launcher's command line);
// a notify profile stays with the runtime, and the note says so.
func TestApplyLandlockSeccomp(t *testing.T) {
	plan := &landlockPlan{launcher: "/host/profgen-landlock", ruleset: []byte(`{}`)}
	for _, c := range []struct {
		what, seccomp string
		moved         bool
	}{
		{"errno profile", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"flags":["SECCOMP_FILTER_FLAG_LOG"],"syscalls":[{"names":["read","execve"],"action":"SCMP_ACT_ALLOW"}]}`, true},
		{"i386 names", `{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64","SCMP_ARCH_X86"],"syscalls":[{"names":["read","execve","socketcall"],"action":"SCMP_ACT_ALLOW"}]}`, true},
		{"notify profile", `{"defaultAction":"SCMP_ACT_ALLOW","listenerPath":"/run/agent.sock","syscalls":[{"names":["mount"],"action":"SCMP_ACT_NOTIFY"}]}`, false},
	} {
		bundle := t.TempDir()
		config := filepath.Join(bundle, "config.json")
		if err := os.WriteFile(config, []byte(`{"ociVersion":"1.0.2","process":{"args":["/app","-v"]},"linux":{"namespaces":[{"type":"pid"}],"seccomp":`+c.seccomp+`}}`), 0o644); err != nil {
			t.Fatal(err)
		}
		moved, note, err := applyLandlock(config, bundle, plan)
		if err != nil {
			t.Fatalf("%s: %v", c.what, err)
		}
		if moved != c.moved {
			t.Errorf("%s: moved %v", c.what, moved)
		}
		data, _ := os.ReadFile(config)
		var spec specs.Spec
		if err := json.Unmarshal(data, &spec); err != nil {
			t.Fatal(err)
		}
		var mounted []string
		for _, m := range spec.Mounts {
			mounted = append(mounted, m.Destination)
		}
		if spec.Linux == nil || len(spec.Linux.Namespaces) != 1 {
			t.Errorf("%s: linux lost its other fields: %s", c.what, data)
		}
		if c.moved {
			want := []string{"/.profgen/profgen-landlock", "-seccomp", "/.profgen/seccomp.bpf", "-seccomp-flags", "2", "/.profgen/landlock.json", "--", "/app", "-v"}
			if c.what == "i386 names" {
				want[4] = "0"
			}
			// A name of another architecture only is said to be left out.
			if (note != "") != (c.what == "i386 names") || (note != "" && !strings.Contains(note, "socketcall")) {
				t.Errorf("%s: note %q", c.what, note)
			}
			if spec.Linux.Seccomp != nil || !slices.Equal(spec.Process.Args, want) || !slices.Contains(mounted, "/.profgen/seccomp.bpf") {
				t.Errorf("%s: not moved into the launcher (note %q):\n%s", c.what, note, data)
			}
			if st, err := os.Stat(filepath.Join(bundle, "profgen-seccomp.bpf")); err != nil || st.Size() == 0 || st.Size()%8 != 0 {
				t.Errorf("%s: the compiled filter: %v", c.what, err)
			}
			continue
		}
		if spec.Linux.Seccomp == nil || spec.Linux.Seccomp.ListenerPath == "" || slices.Contains(spec.Process.Args, "-seccomp") || slices.Contains(mounted, "/.profgen/seccomp.bpf") ||
			!strings.Contains(note, "stays with the runtime") || !strings.Contains(note, "SCMP_ACT_NOTIFY") {
			t.Errorf("%s: not left to the runtime (note %q):\n%s", c.what, note, data)
		}
	}
}

// TestJudgeWithoutLauncherCalls: with the filter in the launcher, the calls
// only the launcher made before loading it (landlock_create_ruleset) are
// not judged by the engine's profile; its execve, made under the filter,
// and the calls the workload made too are.
func TestJudgeWithoutLauncherCalls(t *testing.T) {
	launcher := []string{"/.profgen/profgen-landlock"}
	rec := &recording.Recording{Syscalls: []recording.Syscall{
		{Name: "execve", Number: 59, Count: 1, Evidence: recording.Evidence{Exes: launcher}},
		{Name: "landlock_create_ruleset", Number: 444, Count: 2, Evidence: recording.Evidence{Exes: launcher}},
		{Name: "mkdirat", Number: 258, Count: 1, Evidence: recording.Evidence{Exes: append([]string{"/w/app"}, launcher...)}},
		{Name: "unlinkat", Number: 263, Count: 1},
	}}
	raw := json.RawMessage(`{"defaultAction":"SCMP_ACT_ERRNO","syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`)
	refused := func(r *recording.Recording) []string {
		var names []string
		for _, f := range judge(r, raw, false).Refused {
			names = append(names, f.Name)
		}
		return names
	}
	if got := refused(rec); !slices.Equal(got, []string{"execve", "landlock_create_ruleset", "mkdirat", "unlinkat"}) {
		t.Fatalf("every call judged: refused %q", got)
	}
	if got := refused(withoutLauncherCalls(rec)); !slices.Equal(got, []string{"execve", "mkdirat", "unlinkat"}) {
		t.Errorf("without the launcher's own calls: refused %q", got)
	}
	if len(rec.Syscalls) != 4 {
		t.Error("withoutLauncherCalls changed the recording")
	}
}
