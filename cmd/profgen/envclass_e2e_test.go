package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// envprobeContainer is what envprobe prints in a container replay: its
// standard output a pipe, no PWD (getcwd), the memory returned, pid 1.
const envprobeContainer = "envprobe: stdout pipe, cwd from getcwd, memory returned, pid 1 ok"

// envprobeProfile records envprobe on the host the way a user on a build
// host does: standard output a file, PWD set to the working directory, a
// run in which the memory was kept. It checks that the recording shows
// none of the calls the container run makes (ioctl, getcwd,
// madvise(MADV_NOHUGEPAGE/MADV_DONTNEED)), and returns envprobe and the
// profile emitted from the recording for runc with no_new_privs: runc then
// loads the filter just before execve and makes no getcwd of its own
// under it (learn/runtime.go), so the profile's getcwd is the class's.
func envprobeProfile(t *testing.T) (bin, prof string) {
	t.Helper()
	bin = workload.Build(t, "envprobe")
	dir := t.TempDir()
	out, err := os.Create(filepath.Join(dir, "out"))
	if err != nil {
		t.Fatal(err)
	}
	defer out.Close()
	rec := exec.Command(buildProfgen(t), "record", "-o", filepath.Join(dir, "rec.json"), "--", bin)
	rec.Dir, rec.Stdout, rec.Stderr = dir, out, out
	rec.Env = append(os.Environ(), "PWD="+dir)
	if err := rec.Run(); err != nil {
		b, _ := os.ReadFile(out.Name())
		t.Fatalf("record on the host: %v\n%s", err, b)
	}
	if b, _ := os.ReadFile(out.Name()); !strings.Contains(string(b), "envprobe: stdout file, cwd from PWD, memory kept") {
		t.Fatalf("envprobe on the host did not see a file, PWD and kept memory: %s", b)
	}
	r, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	for _, name := range []string{"ioctl", "getcwd"} {
		if r.Lookup(name) != nil {
			t.Fatalf("the host recording has %s: the environments do not differ", name)
		}
	}
	m := r.Lookup("madvise")
	if m == nil {
		t.Fatalf("no madvise recorded: %v", r.Names())
	}
	for _, e := range m.Events() {
		if !e.HasArgs || e.Args[2] != unix.MADV_HUGEPAGE {
			t.Fatalf("the host recording has madvise %#x (args known %v), want MADV_HUGEPAGE only", e.Args, e.HasArgs)
		}
	}
	prof = filepath.Join(dir, "seccomp.json")
	if res := runProfgen(t, dir, "emit", "--no-new-privileges", "-o", prof, "rec.json"); res.code != 0 {
		t.Fatalf("emit: %d %s", res.code, res.stderr)
	}
	return bin, prof
}

// TestEnvClassesRunc: envprobe learned on the host (stdout a file, PWD
// set, memory kept) replays in runc, where its standard output is a pipe,
// it has no PWD, its cwd is /, it is pid 1 and it returns its memory
// (ioctl FIONBIO/FIOCLEX, getcwd, madvise MADV_NOHUGEPAGE/MADV_DONTNEED):
// no denial, because learn allows the environment classes whose triggers
// the host recording shows (learn/environment.go).
func TestEnvClassesRunc(t *testing.T) {
	bin, prof := envprobeProfile(t)
	r := runProfgen(t, "", "replay", "--no-new-privileges", "--profile", prof, "--", bin, "--return-memory")
	if r.code != exitcode.OK || !strings.Contains(r.stdout+r.stderr, envprobeContainer) {
		t.Errorf("replay in runc: exit %d, want %d and %q\nstdout: %s\nstderr: %s", r.code, exitcode.OK, envprobeContainer, r.stdout, r.stderr)
	}
}

// TestEnvClassesPodman is TestEnvClassesRunc through podman.
func TestEnvClassesPodman(t *testing.T) {
	env := privatePodman(t)
	bin, prof := envprobeProfile(t)
	r := runProfgenEnv(t, env, "replay", "--runtime", "podman", "--no-new-privileges", "--profile", prof,
		"--bind", "/usr", "--bind", "/etc:/etc", "--bind", filepath.Dir(bin)+":"+filepath.Dir(bin)+":ro",
		"--engine-arg=--ulimit=nofile=1024:1024", "--engine-arg=--ulimit=nproc=1024:1024",
		"--", enginetest.TestImage, bin, "--return-memory")
	if r.code != exitcode.OK || !strings.Contains(r.stdout+r.stderr, envprobeContainer) {
		t.Errorf("replay in podman: exit %d, want %d and %q\nstdout: %s\nstderr: %s", r.code, exitcode.OK, envprobeContainer, r.stdout, r.stderr)
	}
}
