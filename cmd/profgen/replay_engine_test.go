package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
)

// privatePodman is a podman store of the test's own with the test image
// imported; env points podman at it.
func privatePodman(t *testing.T) (env []string) {
	t.Helper()
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (make deps installs it)")
	}
	// podman refuses a run root longer than 50 characters.
	dir, err := os.MkdirTemp("", "pg-replay-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	tar, err := enginetest.RootfsTar(dir)
	if err != nil {
		t.Fatal(err)
	}
	p, err := enginetest.NewPodman(dir, tar)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(p.Remove)
	if env, err = p.ConfEnv(); err != nil {
		t.Fatal(err)
	}
	return env
}

// privateDocker starts a dockerd of the test's own with the test image
// imported; it is stopped when the test ends.
func privateDocker(t *testing.T) *enginetest.Docker {
	t.Helper()
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("dockerd is not installed (make deps installs it)")
	}
	dir := t.TempDir()
	tar, err := enginetest.RootfsTar(dir)
	if err != nil {
		t.Fatal(err)
	}
	d, err := enginetest.StartDocker(filepath.Join(dir, "docker"), tar, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(d.Stop)
	return d
}

func runProfgenEnv(t *testing.T, env []string, args ...string) result {
	t.Helper()
	cmd := exec.Command(buildProfgen(t), args...)
	cmd.Dir, cmd.Env = t.TempDir(), env
	return runResult(t, cmd)
}

// A server replayed in podman is stopped through podman (by the
// container's name), not by signalling the podman client: it ends on its
// SIGTERM, is not killed after --grace, and the replay passes. A
// nonexistent image is podman's own failure: exit 2, as docker's.
func TestReplayPodmanServerStops(t *testing.T) {
	env := privatePodman(t)
	bin := workload.Build(t, "httpserver")
	dir := t.TempDir()
	port := freePort(t)
	addr := "127.0.0.1:" + port
	drive := "curl -fsS http://" + addr + "/hello"
	rec, prof := filepath.Join(dir, "rec.json"), filepath.Join(dir, "p.json")
	if r := runProfgen(t, dir, "record", "-o", rec, "--ready", "tcp:"+addr, "--drive", drive, "--", bin, "--addr", addr); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "-o", prof, rec); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	base := []string{"replay", "--runtime", "podman", "--profile", prof, "--bind", "/usr", "--bind", "/etc:/etc", "--bind", filepath.Dir(bin) + ":" + filepath.Dir(bin) + ":ro",
		"--engine-arg=--ulimit=nofile=1024:1024", "--engine-arg=--ulimit=nproc=1024:1024", "--engine-arg=--network=host"}
	r := runProfgenEnv(t, env, append(base, "--ready", "tcp:"+addr, "--drive", drive, "--grace", "60s", "--", enginetest.TestImage, bin, "--addr", addr)...)
	if r.code != exitcode.OK || !strings.Contains(r.stdout, "PASS") || strings.Contains(r.stdout+r.stderr, "workload killed") ||
		!strings.Contains(r.stdout, "workload stopped, exit status 0") {
		t.Errorf("httpserver in podman: exit %d, stdout %q, stderr %q; want PASS, stopped with status 0, not killed", r.code, r.stdout, r.stderr)
	}

	r = runProfgenEnv(t, env, append(base, "--engine-arg=--pull=never", "--", "localhost/profgen-no-such-image", "/bin/true")...)
	lines := strings.Split(strings.TrimSpace(r.stderr), "\n")
	if last := lines[len(lines)-1]; r.code != exitcode.Error || !strings.HasPrefix(last, "profgen: ") || !strings.Contains(last, "podman run failed") ||
		strings.Count(r.stderr, "profgen:") != 1 {
		t.Errorf("podman replay of a nonexistent image: exit %d, stdout %q, stderr %q; want %d and podman's reason", r.code, r.stdout, r.stderr, exitcode.Error)
	}
}

// A docker replay of a nonexistent image fails as a podman one does:
// exit 2, docker's reason in one line.
func TestReplayDockerNoImage(t *testing.T) {
	d := privateDocker(t)
	prof := writeProfile(t, t.TempDir(), "p.json", "read")
	r := runProfgenEnv(t, d.Env(), "replay", "--runtime", "docker", "--profile", prof, "--", "localhost/profgen-no-such-image", "/bin/true")
	if r.code != exitcode.Error || !strings.Contains(r.stderr, "docker create failed") {
		t.Errorf("docker replay of a nonexistent image: exit %d, stdout %q, stderr %q; want %d and docker's reason", r.code, r.stdout, r.stderr, exitcode.Error)
	}
}
