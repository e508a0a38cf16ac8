package main

import (
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// dockerEnv is a private dockerd with profgen-runc registered as the
// runtime "profgen", recording into recDir (Docker 20.10 passes no
// annotations), and the test image imported.
type dockerEnv struct {
	*podmanEnv // the built binaries
	*enginetest.Docker
	recDir string
}

var (
	dockerOnce sync.Once
	dockerd    *dockerEnv
	dockerErr  error
)

func needDocker(t *testing.T) *dockerEnv {
	t.Helper()
	e := needPodman(t)
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("dockerd is not installed (make deps installs docker.io)")
	}
	dockerOnce.Do(func() { dockerd, dockerErr = startDocker(e) })
	if dockerErr != nil {
		t.Fatal(dockerErr)
	}
	return dockerd
}

func startDocker(e *podmanEnv) (*dockerEnv, error) {
	dir := filepath.Join(e.dir, "docker")
	d := &dockerEnv{podmanEnv: e, recDir: filepath.Join(dir, "recordings")}
	if err := os.MkdirAll(d.recDir, 0o755); err != nil {
		return nil, err
	}
	var err error
	d.Docker, err = enginetest.StartDocker(dir, e.tar, map[string]enginetest.DockerRuntime{
		"profgen": {Path: e.wrapper, Args: []string{"--profgen-record-dir", d.recDir}}})
	return d, err
}

// run returns a docker command on the private daemon.
func (d *dockerEnv) run(args ...string) *exec.Cmd { return d.Cmd(args...) }

func dockerRunArgs(bin, data string) []string { return enginetest.DockerRunArgs(bin, data) }

// TestDockerRecord records cfiletcp through dockerd with profgen-runc as a
// registered runtime: the recording (DIR/ID.json) has the host's calls and
// none of the engine's, and its profile runs the workload under docker's
// seccomp, where without listen it fails.
func TestDockerRecord(t *testing.T) {
	d := needDocker(t)
	bin := workload.Build(t, "cfiletcp")
	cidfile := filepath.Join(t.TempDir(), "cid")
	args := append([]string{"run", "--rm", "--runtime", "profgen", "--cidfile", cidfile, "--security-opt", "seccomp=unconfined"}, dockerRunArgs(bin, t.TempDir())...)
	if code, out := runCmd(t, d.run(append(args, testImage, "/w/cfiletcp", "/data")...)); code != 0 {
		t.Fatalf("docker run --runtime profgen: exit %d\n%s", code, out)
	}
	cid, _ := os.ReadFile(cidfile)
	id := strings.TrimSpace(string(cid))
	out := filepath.Join(d.recDir, id+".json")
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := rec.Container; c == nil || c.ID != id || c.Engine != "docker" || c.Runtime != d.runc {
		t.Errorf("container metadata %+v", c)
	}
	if !slices.Equal(rec.Command, []string{"/w/cfiletcp", "/data"}) || rec.Lost != 0 {
		t.Errorf("command %v, lost %d", rec.Command, rec.Lost)
	}
	checkNoEngineCalls(t, rec)
	checkLikeHost(t, d.profgen, rec, bin, t.TempDir())

	prof := filepath.Join(t.TempDir(), "seccomp.json")
	if b, err := exec.Command(d.profgen, "emit", "-o", prof, out).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit: %v\n%s", err, b)
	}
	enforce := func(profile string) (int, string) {
		args := append([]string{"run", "--rm", "--security-opt", "seccomp=" + profile}, dockerRunArgs(bin, t.TempDir())...)
		return runCmd(t, d.run(append(args, testImage, "/w/cfiletcp", "/data")...))
	}
	if code, outp := enforce(prof); code != 0 {
		t.Fatalf("the workload under its emitted profile in docker: exit %d\n%s", code, outp)
	}
	less := filepath.Join(t.TempDir(), "less.json")
	enginetest.WithoutSyscall(t, prof, less, "listen")
	if code, outp := enforce(less); code == 0 || !strings.Contains(outp, "listen") {
		t.Errorf("without listen the workload should fail naming it: exit %d\n%s", code, outp)
	}
}

// TestDockerKill: a container killed by docker kill is recorded, and its
// recorder exits.
func TestDockerKill(t *testing.T) {
	d := needDocker(t)
	args := append([]string{"run", "-d", "--runtime", "profgen", "--security-opt", "seccomp=unconfined"}, dockerRunArgs("/usr/bin/x", t.TempDir())...)
	code, outp := runCmd(t, d.run(append(args, testImage, "/usr/bin/sleep", "1000")...))
	if code != 0 {
		t.Fatalf("docker run -d: exit %d\n%s", code, outp)
	}
	id := strings.TrimSpace(outp)
	defer d.run("rm", "-f", id).Run()
	out := filepath.Join(d.recDir, id+".json")
	if n := len(recorderPids(out)); n != 1 {
		t.Fatalf("%d recorders of %s, want one", n, out)
	}
	code, pid := runCmd(t, d.run("inspect", "-f", "{{.State.Pid}}", id))
	if code != 0 {
		t.Fatalf("docker inspect: %s", pid)
	}
	waitSleeping(t, strings.TrimSpace(pid))
	if code, outp := runCmd(t, d.run("kill", id)); code != 0 {
		t.Fatalf("docker kill: exit %d\n%s", code, outp)
	}
	killedSleepRecording(t, out)
}

// TestReplayDocker: profgen replay --runtime docker runs the image in
// dockerd under the profile learned through profgen-runc with no denial,
// and names the syscall when one needed syscall is removed; the container
// descends from dockerd, so its records are found by its cgroup.
func TestReplayDocker(t *testing.T) {
	d := needDocker(t)
	bin := workload.Build(t, "cfiletcp")
	dir := t.TempDir()
	cidfile := filepath.Join(dir, "cid")
	args := append([]string{"run", "--rm", "--runtime", "profgen", "--cidfile", cidfile, "--security-opt", "seccomp=unconfined"}, dockerRunArgs(bin, t.TempDir())...)
	if code, out := runCmd(t, d.run(append(args, testImage, "/w/cfiletcp", "/data")...)); code != 0 {
		t.Fatalf("docker run --runtime profgen: exit %d\n%s", code, out)
	}
	cid, _ := os.ReadFile(cidfile)
	prof := filepath.Join(dir, "seccomp.json")
	if b, err := exec.Command(d.profgen, "emit", "-o", prof, filepath.Join(d.recDir, strings.TrimSpace(string(cid))+".json")).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit: %v\n%s", err, b)
	}
	less := filepath.Join(dir, "less.json")
	enginetest.WithoutSyscall(t, prof, less, "listen")
	replay := func(profile string, extra ...string) (int, string) {
		args := append([]string{"replay", "--runtime", "docker", "--profile", profile}, extra...)
		args = append(args, "--bind", "/usr", "--bind", "/etc", "--bind", filepath.Dir(bin),
			"--engine-arg=--network=host", "--engine-arg=-v", "--engine-arg="+t.TempDir()+":/data",
			"--", testImage, bin, "/data")
		cmd := exec.Command(d.profgen, args...)
		cmd.Env = d.Env()
		return runCmd(t, cmd)
	}
	code, outp := replay(prof)
	t.Logf("replay of the learned profile:\n%s", outp)
	if code != 0 || !strings.Contains(outp, "log-only run") {
		t.Errorf("replay --runtime docker of the learned profile: exit %d, want 0 after an enforced and a log-only run\n%s", code, outp)
	}
	code, outp = replay(less)
	t.Logf("replay without listen:\n%s", outp)
	if code != 1 || !regexp.MustCompile(`(?m)^\s*listen\s+50\s`).MatchString(outp) {
		t.Errorf("replay --runtime docker without listen: exit %d, want 1 naming listen\n%s", code, outp)
	}
	// Log-only, the workload runs on past the call and exits 0; the
	// report still names it.
	code, outp = replay(less, "--log-only")
	if code != 1 || !regexp.MustCompile(`(?m)^\s*listen\s+50\s`).MatchString(outp) {
		t.Errorf("replay --runtime docker --log-only without listen: exit %d, want 1 naming listen\n%s", code, outp)
	}
	if code, outp := runCmd(t, d.run("ps", "-aq")); code != 0 || strings.TrimSpace(outp) != "" {
		t.Errorf("replay left containers: %q", outp)
	}
}

// TestReplayDockerBadInput: a docker command that cannot reach its daemon,
// an image the daemon does not have (nothing pulled) and a daemon not on
// this machine fail with one line that carries
// docker's own reason, exit status 2.
func TestReplayDockerBadInput(t *testing.T) {
	d := needDocker(t)
	prof := filepath.Join(t.TempDir(), "seccomp.json")
	if err := os.WriteFile(prof, []byte(`{"defaultAction":"SCMP_ACT_ERRNO","architectures":["SCMP_ARCH_X86_64"],"syscalls":[{"names":["read"],"action":"SCMP_ACT_ALLOW"}]}`), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, tc := range []struct {
		name, host, image, want string
	}{
		{"no daemon", "unix:///nonexistent/docker.sock", testImage, "docker create failed: Cannot connect to the Docker daemon at unix:///nonexistent/docker.sock"},
		{"no image", d.Host(), "localhost/profgen-no-such-image", "docker create failed: Error response from daemon: No such image: localhost/profgen-no-such-image"},
		{"remote daemon", "tcp://192.0.2.1:2375", testImage, "the docker daemon at tcp://192.0.2.1:2375 is not reached through a socket on this machine"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			cmd := exec.Command(d.profgen, "replay", "--runtime", "docker", "--profile", prof, "--engine-arg=--pull=never", "--", tc.image, "/usr/bin/true")
			cmd.Env = append(os.Environ(), "DOCKER_HOST="+tc.host)
			code, outp := runCmd(t, cmd)
			lines := strings.Split(strings.TrimSpace(outp), "\n")
			if code != 2 || len(lines) != 1 || !strings.Contains(outp, tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant exit 2 and one line naming %q", code, outp, tc.want)
			}
		})
	}
}

// TestReplayDockerIoctlFamilies: fdprobe recorded on the host with its
// standard input a file runs under the learned profile in docker with its
// standard input a pipe (--engine-arg=-i attaches it) with no denial.
func TestReplayDockerIoctlFamilies(t *testing.T) {
	d := needDocker(t)
	bin, prof := fdprobeProfile(t, d.profgen)
	cmd := exec.Command(d.profgen, "replay", "--runtime", "docker", "--profile", prof,
		"--bind", "/usr", "--bind", "/etc", "--bind", filepath.Dir(bin), "--engine-arg=-i",
		"--", testImage, bin)
	cmd.Env = d.Env()
	cmd.Stdin = strings.NewReader("x\n")
	code, outp := runCmd(t, cmd)
	if code != 0 || !strings.Contains(outp, "fdprobe: pipe ok") {
		t.Errorf("replay --runtime docker with stdin a pipe: exit %d\n%s", code, outp)
	}
}

// TestReplayDockerShortLived: /usr/bin/true lives a millisecond or so, and
// its audit records may arrive after it is gone. Learned on the host, its
// profile passes in docker; without mmap, replay --runtime docker names
// mmap every time, each record placed by its process's cgroup.
func TestReplayDockerShortLived(t *testing.T) {
	d := needDocker(t)
	dir := t.TempDir()
	rec, prof, less := filepath.Join(dir, "rec.json"), filepath.Join(dir, "seccomp.json"), filepath.Join(dir, "less.json")
	if b, err := exec.Command(d.profgen, "record", "-o", rec, "--", "/usr/bin/true").CombinedOutput(); err != nil {
		t.Fatalf("record: %v\n%s", err, b)
	}
	if b, err := exec.Command(d.profgen, "emit", "-o", prof, rec).CombinedOutput(); err != nil {
		t.Fatalf("emit: %v\n%s", err, b)
	}
	enginetest.WithoutSyscall(t, prof, less, "mmap")
	replay := func(profile string) (int, string) {
		cmd := exec.Command(d.profgen, "replay", "--runtime", "docker", "--profile", profile, "--bind", "/usr", "--", testImage, "/usr/bin/true")
		cmd.Env = d.Env()
		return runCmd(t, cmd)
	}
	if code, outp := replay(prof); code != 0 {
		t.Errorf("under its learned profile: exit %d\n%s", code, outp)
	}
	for i := range 3 {
		code, outp := replay(less)
		if code != 1 || !regexp.MustCompile(`(?m)^\s*mmap\s+9\s`).MatchString(outp) {
			t.Errorf("run %d without mmap: exit %d, want 1 naming mmap\n%s", i, code, outp)
		}
	}
}

// TestReplayDockerServer: memcached, a real Debian server, learned with
// profgen record --drive on the host, serves the same drive under
// replay --runtime docker --ready --drive with no denial (stopped with
// docker kill --signal TERM when the driver is done); without accept4 the
// driver fails and replay names accept4.
func TestReplayDockerServer(t *testing.T) {
	d := needDocker(t)
	dir := t.TempDir()
	port, server := memcachedServer(t)
	// Without accept4 the server never answers: timeout ends the driver.
	drive := "timeout 30 bash -c '" + strings.ReplaceAll(memcachedDrive, "'", `'\''`) + "' drive " + port + " | grep -q 'VALUE k 0 1'"
	rec, prof, less := filepath.Join(dir, "host.json"), filepath.Join(dir, "seccomp.json"), filepath.Join(dir, "less.json")
	if b, err := exec.Command(d.profgen, append([]string{"record", "-o", rec, "--ready", "tcp:127.0.0.1:" + port, "--drive", drive, "--"}, server...)...).CombinedOutput(); err != nil {
		t.Fatalf("profgen record memcached on the host: %v\n%s", err, b)
	}
	if b, err := exec.Command(d.profgen, "emit", "-o", prof, rec).CombinedOutput(); err != nil {
		t.Fatalf("emit: %v\n%s", err, b)
	}
	enginetest.WithoutSyscall(t, prof, less, "accept4")
	replay := func(profile string) (int, string) {
		args := append([]string{"replay", "--runtime", "docker", "--profile", profile, "--bind", "/usr", "--bind", "/etc",
			"--engine-arg=--network=host", "--ready", "tcp:127.0.0.1:" + port, "--drive", drive, "--", testImage}, server...)
		cmd := exec.Command(d.profgen, args...)
		cmd.Env = d.Env()
		return runCmd(t, cmd)
	}
	code, outp := replay(prof)
	t.Logf("memcached under its profile in docker:\n%s", outp)
	if code != 0 {
		t.Errorf("replay --runtime docker of memcached: exit %d\n%s", code, outp)
	}
	code, outp = replay(less)
	if code != 1 || !regexp.MustCompile(`(?m)^\s*accept4\s+288\s`).MatchString(outp) {
		t.Errorf("replay --runtime docker of memcached without accept4: exit %d, want 1 naming accept4\n%s", code, outp)
	}
	if code, outp := runCmd(t, d.run("ps", "-aq")); code != 0 || strings.TrimSpace(outp) != "" {
		t.Errorf("replay left containers: %q", outp)
	}
}

// TestDockerServerRecord records a real Debian server (memcached) through
// dockerd with profgen-runc as a registered runtime while a client stores
// and reads a key, stopped by docker stop: its recording names the same
// syscalls as profgen record of the same drive on the host, and none of
// the engine's.
func TestDockerServerRecord(t *testing.T) {
	d := needDocker(t)
	dir := t.TempDir()
	port, server := memcachedServer(t)
	hrec := recordMemcachedOnHost(t, d.profgen, dir, port, server)

	cidfile := filepath.Join(t.TempDir(), "cid")
	args := append([]string{"run", "-d", "--runtime", "profgen", "--cidfile", cidfile, "--security-opt", "seccomp=unconfined"}, dockerRunArgs("/usr/bin/x", t.TempDir())...)
	if code, outp := runCmd(t, d.run(append(append(args, testImage), server...)...)); code != 0 {
		t.Fatalf("docker run -d --runtime profgen memcached: exit %d\n%s", code, outp)
	}
	cid, _ := os.ReadFile(cidfile)
	id := strings.TrimSpace(string(cid))
	defer d.run("rm", "-f", id).Run()
	out := filepath.Join(d.recDir, id+".json")
	if b, err := driveMemcached(t, port); err != nil {
		t.Fatalf("drive: %v\n%s", err, b)
	}
	if code, outp := runCmd(t, d.run("stop", id)); code != 0 {
		t.Fatalf("docker stop: exit %d\n%s", code, outp)
	}
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := rec.Container; c == nil || c.ID != id || c.Engine != "docker" {
		t.Errorf("container metadata %+v", c)
	}
	checkNoEngineCalls(t, rec)
	if got, want := rec.Names(), hrec.Names(); !slices.Equal(got, want) {
		t.Errorf("memcached in docker:\n  %v\non the host:\n  %v", got, want)
	}
}
