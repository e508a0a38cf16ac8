package main

import (
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// redisServer returns a free loopback port and the command line of Debian's
// redis-server serving it in the foreground, with no persistence.
func redisServer(t *testing.T) (port string, server []string) {
	t.Helper()
	rs, err := exec.LookPath("redis-server")
	if err != nil {
		t.Skip("redis-server is not installed (make deps installs it)")
	}
	port = freePort(t)
	return port, []string{rs, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no", "--daemonize", "no", "--dir", "/tmp"}
}

// driveRedis waits (a bounded poll) until redis listens on port, sets and
// reads a key with redis-cli, then lets the server run a second (its
// background cron runs ten times a second) so that runs compare.
func driveRedis(t *testing.T, port string) {
	t.Helper()
	waitFor(t, "redis to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	b, err := exec.Command("redis-cli", "-p", port, "set", "k", "v").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "OK" {
		t.Fatalf("redis-cli set: %v\n%s", err, b)
	}
	b, err = exec.Command("redis-cli", "-p", port, "get", "k").CombinedOutput()
	if err != nil || strings.TrimSpace(string(b)) != "v" {
		t.Fatalf("redis-cli get: %v\n%s", err, b)
	}
	time.Sleep(time.Second)
}

// hostRedisCalls is what strace shows of redis-server on the host for
// driveRedis's drive.
func hostRedisCalls(t *testing.T) map[string]int {
	t.Helper()
	port, server := redisServer(t)
	run, err := workload.StartStrace(t, server, workload.WithDir(t.TempDir()))
	if err != nil {
		t.Fatal(err)
	}
	driveRedis(t, port)
	if err := run.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	host, err := run.Wait()
	if err != nil {
		t.Fatalf("redis-server under strace: %v", err)
	}
	return host
}

// checkHasHost fails t, saying where rec was recorded, when rec lacks a
// call of host (what strace saw on the host).
func checkHasHost(t *testing.T, rec *recording.Recording, host map[string]int, where string) {
	t.Helper()
	var missing []string
	for name := range host {
		if rec.Lookup(name) == nil {
			missing = append(missing, name)
		}
	}
	slices.Sort(missing)
	if len(missing) > 0 {
		t.Errorf("the recording %s misses %v, which strace saw on the host\nrecorded: %v", where, missing, rec.Names())
	}
}

// TestDockerRedisDefaultProfile records Debian's redis-server through
// dockerd WITHOUT --security-opt seccomp=unconfined, so under Docker's
// default profile, which answers clone3 with ENOSYS: the recording holds
// every syscall strace sees for the same drive on the host (clone3
// among them: the recorder ran under a log-only copy of the profile), and
// engineProfile says that Docker's default would have refused clone3
// with ENOSYS.
func TestDockerRedisDefaultProfile(t *testing.T) {
	d := needDocker(t)
	port, server := redisServer(t)
	host := hostRedisCalls(t)
	if host["clone3"] == 0 {
		t.Fatalf("redis-server made no clone3 on the host (strace: %v)", host)
	}

	cidfile := filepath.Join(t.TempDir(), "cid")
	args := append([]string{"run", "-d", "--runtime", "profgen", "--cidfile", cidfile}, dockerRunArgs("/usr/bin/x", t.TempDir())...)
	if code, outp := runCmd(t, d.run(append(append(args, testImage), server...)...)); code != 0 {
		t.Fatalf("docker run -d --runtime profgen redis-server: exit %d\n%s", code, outp)
	}
	cid, _ := os.ReadFile(cidfile)
	id := strings.TrimSpace(string(cid))
	defer d.run("rm", "-f", id).Run()
	out := filepath.Join(d.recDir, id+".json")
	driveRedis(t, port)
	if code, outp := runCmd(t, d.run("stop", id)); code != 0 {
		t.Fatalf("docker stop: exit %d\n%s", code, outp)
	}
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if c := rec.Container; c == nil || c.Engine != "docker" {
		t.Errorf("container metadata %+v", c)
	}
	if rec.Exit.Code != 0 { // redis-server exits 0 on docker stop's SIGTERM
		t.Errorf("exit %+v, want 0", rec.Exit)
	}
	checkHasHost(t, rec, host, "in docker")
	checkNoEngineCalls(t, rec)

	e := rec.EngineProfile
	if e == nil {
		t.Fatalf("no engineProfile; notes %q", rec.Notes)
	}
	t.Logf("engine profile: default %s (errno %d), refused %+v", e.DefaultAction, e.DefaultErrno, e.Refused)
	if e.DefaultAction != "SCMP_ACT_ERRNO" || e.Enforced || e.Unjudged != "" {
		t.Errorf("engine profile %+v", e)
	}
	i := slices.IndexFunc(e.Refused, func(f recording.Refusal) bool { return f.Name == "clone3" })
	if i < 0 {
		t.Fatalf("engineProfile does not say Docker's default refuses clone3: %+v", e.Refused)
	}
	if f := e.Refused[i]; f.Action != "SCMP_ACT_ERRNO" || f.Errno != 38 || f.ErrnoName != "ENOSYS" || f.Maybe || f.Count != rec.Lookup("clone3").Count {
		t.Errorf("clone3 refusal %+v, want SCMP_ACT_ERRNO ENOSYS (38) for all %d calls", f, rec.Lookup("clone3").Count)
	}
}

// TestPodmanDefaultProfile records the threads workload (glibc's
// pthread_create calls clone3) through podman WITHOUT --security-opt
// seccomp=unconfined, so under podman's default profile: the recording
// holds clone3 and every other call the host's recorder sees for it, and
// engineProfile holds podman's default action, judged (no reason it could
// not be), each refusal with its action.
func TestPodmanDefaultProfile(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "multiproc/threads.c")
	dir := t.TempDir()
	out := filepath.Join(dir, "rec.json")
	args := append([]string{"--rm"}, runArgs(bin, t.TempDir())...)
	if code, outp := e.recordRun(t, out, append(args, testImage, "/w/threads", "4")...); code != 0 {
		t.Fatalf("podman run --runtime profgen-runc threads: exit %d\n%s", code, outp)
	}
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Lookup("clone3") == nil || rec.Exit.Code != 0 {
		t.Errorf("clone3 %v, exit %+v; recorded %v", rec.Lookup("clone3"), rec.Exit, rec.Names())
	}
	checkLikeHost(t, e.profgen, rec, bin, "4")
	ep := rec.EngineProfile
	if ep == nil {
		t.Fatalf("no engineProfile; notes %q", rec.Notes)
	}
	t.Logf("podman's default: %s (errno %d), refused %+v", ep.DefaultAction, ep.DefaultErrno, ep.Refused)
	if ep.DefaultAction != "SCMP_ACT_ERRNO" || ep.Enforced || ep.Unjudged != "" {
		t.Errorf("engine profile %+v", ep)
	}
	for _, f := range ep.Refused {
		if f.Action == "" || f.Count == 0 || rec.Lookup(f.Name) == nil {
			t.Errorf("refusal %+v", f)
		}
	}
}
