package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// engineCalls are what podman, conmon and runc (and runc's init before the
// entrypoint's execve) call; none is the workload's.
var engineCalls = []string{"pivot_root", "mount", "umount2", "setns", "unshare", "sethostname", "chroot", "keyctl", "capset"}

// podmanEnv is a private podman store (--root, --runroot, --tmpdir) with a
// test image imported from an empty rootfs whose bin, lib, lib64 and sbin
// link into usr/, run with the host's /usr and /etc bound read-only.
type podmanEnv struct {
	dir     string
	wrapper string // profgen-runc
	profgen string
	runc    string
	store   *enginetest.Podman
	tar     string // the test image's rootfs
}

const testImage = enginetest.TestImage

var (
	envOnce sync.Once
	env     *podmanEnv
	envErr  error
)

func TestMain(m *testing.M) {
	code := m.Run()
	if cri != nil {
		if err := cri.Stop(); err != nil {
			fmt.Fprintln(os.Stderr, "stop containerd:", err)
		}
	}
	if dockerd != nil {
		dockerd.Stop()
	}
	if env != nil {
		env.store.Remove()
		os.RemoveAll(env.dir)
	}
	os.Exit(code)
}

// needPodman returns the shared podman environment, made once.
func needPodman(t *testing.T) *podmanEnv {
	t.Helper()
	if os.Geteuid() != 0 {
		t.Skip("recording containers needs root (eBPF and the container's cgroup)")
	}
	if _, err := exec.LookPath("podman"); err != nil {
		t.Skip("podman is not installed (make deps installs it)")
	}
	envOnce.Do(func() { env, envErr = newPodmanEnv() })
	if envErr != nil {
		t.Fatal(envErr)
	}
	return env
}

func newPodmanEnv() (*podmanEnv, error) {
	dir, err := os.MkdirTemp("", "profgen-runc-test-")
	if err != nil {
		return nil, err
	}
	e := &podmanEnv{dir: dir, wrapper: filepath.Join(dir, "profgen-runc"), profgen: filepath.Join(dir, "profgen")}
	if e.runc, err = exec.LookPath("runc"); err != nil {
		return nil, err
	}
	for out, pkg := range map[string]string{e.wrapper: ".", e.profgen: "../profgen"} {
		if b, err := exec.Command("go", "build", "-o", out, pkg).CombinedOutput(); err != nil {
			return nil, fmt.Errorf("build %s: %v\n%s", pkg, err, b)
		}
	}
	if e.tar, err = enginetest.RootfsTar(dir); err != nil {
		return nil, err
	}
	if e.store, err = enginetest.NewPodman(dir, e.tar); err != nil {
		return nil, err
	}
	return e, nil
}

// podman returns a podman command on the private store.
func (e *podmanEnv) podman(args ...string) *exec.Cmd { return e.store.Cmd(args...) }

// runArgs are the arguments of `podman run` that every test container
// needs here, binding dir (the workload's executables) at /w and data at
// /data.
func runArgs(bin, data string) []string { return enginetest.PodmanRunArgs(bin, data) }

// recordRun runs `podman --runtime profgen-runc run` with the record
// annotation and returns the exit status and combined output.
func (e *podmanEnv) recordRun(t *testing.T, out string, podmanArgs ...string) (int, string) {
	t.Helper()
	args := append([]string{"--runtime", e.wrapper, "run", "--annotation", AnnotationRecord + "=" + out}, podmanArgs...)
	return runCmd(t, e.podman(args...))
}

func runCmd(t *testing.T, cmd *exec.Cmd) (int, string) {
	t.Helper()
	return enginetest.Run(t, cmd)
}

func checkNoEngineCalls(t *testing.T, rec *recording.Recording) {
	t.Helper()
	for _, n := range engineCalls {
		if rec.Lookup(n) != nil {
			t.Errorf("the recording has the engine's %s: %v", n, rec.Names())
		}
	}
}

// TestPodmanRecord records cfiletcp through podman and checks that the
// recording holds what the eBPF recorder sees for the same program on the
// host and none of the engine's calls; that the emitted profile runs the
// workload under podman's seccomp with no denial; and that with one needed
// syscall removed it fails.
func TestPodmanRecord(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "cfiletcp")
	dir := t.TempDir()
	out := filepath.Join(dir, "rec.json")
	cidfile := filepath.Join(dir, "cid")
	args := append([]string{"--rm", "--cidfile", cidfile, "--security-opt", "seccomp=unconfined"}, runArgs(bin, t.TempDir())...)
	args = append(args, testImage, "/w/cfiletcp", "/data")
	if code, outp := e.recordRun(t, out, args...); code != 0 {
		t.Fatalf("podman run with profgen-runc: exit %d\n%s", code, outp)
	}
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	cid, _ := os.ReadFile(cidfile)
	want := recording.Container{ID: strings.TrimSpace(string(cid)), Engine: "podman", Runtime: e.runc}
	if rec.Container == nil || rec.Container.ID != want.ID || rec.Container.Engine != want.Engine || rec.Container.Runtime != want.Runtime {
		t.Errorf("container metadata %+v, want %+v", rec.Container, want)
	} else if st, err := os.Stat(rec.Container.Bundle); err == nil && st.IsDir() {
		t.Errorf("bundle %s still exists after podman run --rm", rec.Container.Bundle)
	} else if !strings.Contains(rec.Container.Bundle, want.ID) {
		t.Errorf("bundle %s is not the container's", rec.Container.Bundle)
	}
	if !slices.Equal(rec.Command, []string{"/w/cfiletcp", "/data"}) || rec.Scope != recording.ScopeCgroup || rec.Lost != 0 || rec.Interrupted {
		t.Errorf("command %v, scope %s, lost %d, interrupted %v", rec.Command, rec.Scope, rec.Lost, rec.Interrupted)
	}
	checkNoEngineCalls(t, rec)
	checkContainerPaths(t, rec)

	checkLikeHost(t, e.profgen, rec, bin, t.TempDir())

	// The emitted profile runs the workload in podman (runc) under
	// enforcement; without listen the workload fails.
	prof := filepath.Join(dir, "seccomp.json")
	if b, err := exec.Command(e.profgen, "emit", "-o", prof, out).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit: %v\n%s", err, b)
	}
	enforce := func(profile string) (int, string) {
		args := append([]string{"run", "--rm", "--security-opt", "seccomp=" + profile}, runArgs(bin, t.TempDir())...)
		return runCmd(t, e.podman(append(args, testImage, "/w/cfiletcp", "/data")...))
	}
	if code, outp := enforce(prof); code != 0 {
		t.Fatalf("the workload under its emitted profile in podman: exit %d\n%s", code, outp)
	}
	less := filepath.Join(dir, "less.json")
	enginetest.WithoutSyscall(t, prof, less, "listen")
	if code, outp := enforce(less); code == 0 || !strings.Contains(outp, "listen") {
		t.Errorf("without listen the workload should fail naming it: exit %d\n%s", code, outp)
	}
}

// checkContainerPaths checks the recording's landlock section: the paths
// are the container's (the workload executed as /w/cfiletcp, its files
// under /data, its libraries from the image), never the host's.
func checkContainerPaths(t *testing.T, rec *recording.Recording) {
	t.Helper()
	raw, ok := rec.Sections[recording.LandlockKind]
	if !ok {
		t.Fatalf("no landlock section: notes %q", rec.Notes)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		t.Fatal(err)
	}
	have := map[[2]string]bool{}
	for _, a := range sec.Accesses {
		if a.OK == 0 {
			continue
		}
		have[[2]string{a.Path, a.Right}] = true
		if strings.HasPrefix(a.Path, os.TempDir()) || strings.Contains(a.Path, "overlay") {
			t.Errorf("a host path in the container's recording: %+v", a)
		}
	}
	for _, want := range [][2]string{{"/w/cfiletcp", "execute"}, {"/w/cfiletcp", "read_file"}} {
		if !have[want] {
			t.Errorf("%s %s not recorded", want[0], want[1])
		}
	}
	data := false
	for k := range have {
		data = data || (strings.HasPrefix(k[0], "/data/") && k[1] == "make_reg")
	}
	if !data || len(sec.TCPBind) == 0 || len(sec.TCPConnect) == 0 {
		b, _ := json.MarshalIndent(sec, "", " ")
		t.Errorf("no file made under /data, or no TCP port:\n%s", b)
	}
}

// checkLikeHost compares the names recorded in a container with what
// profgen record sees for the same command on the host.
func checkLikeHost(t *testing.T, profgen string, rec *recording.Recording, argv ...string) {
	t.Helper()
	host := filepath.Join(t.TempDir(), "host.json")
	if b, err := exec.Command(profgen, append([]string{"record", "-o", host, "--"}, argv...)...).CombinedOutput(); err != nil {
		t.Fatalf("profgen record on the host: %v\n%s", err, b)
	}
	hrec, err := recording.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	if got, want := rec.Names(), hrec.Names(); !slices.Equal(got, want) {
		t.Errorf("recorded in the container:\n  %v\non the host:\n  %v", got, want)
	}
}

// recorderPids returns the pids of running recorders of the recording out.
func recorderPids(out string) []int {
	var pids []int
	entries, _ := os.ReadDir("/proc")
	for _, d := range entries {
		var pid int
		if _, err := fmt.Sscanf(d.Name(), "%d", &pid); err != nil {
			continue
		}
		envb, err := os.ReadFile(filepath.Join("/proc", d.Name(), "environ"))
		if err != nil {
			continue
		}
		for _, kv := range bytes.Split(envb, []byte{0}) {
			if v, ok := bytes.CutPrefix(kv, []byte(recorderEnv+"=")); ok && bytes.Contains(v, []byte(`"out":"`+out+`"`)) {
				pids = append(pids, pid)
			}
		}
	}
	return pids
}

// waitFor polls cond for up to a minute (a guard against hanging, not a
// timing assertion).
func waitFor(t *testing.T, what string, cond func() bool) {
	t.Helper()
	for deadline := time.Now().Add(time.Minute); !cond(); time.Sleep(20 * time.Millisecond) {
		if time.Now().After(deadline) {
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// waitSleeping waits until process pid runs sleep and sleeps in it (its
// execve and clock_nanosleep were made).
func waitSleeping(t *testing.T, pid string) {
	t.Helper()
	waitFor(t, "sleep to sleep", func() bool {
		exe, _ := os.Readlink("/proc/" + pid + "/exe")
		stat, _ := os.ReadFile("/proc/" + pid + "/stat")
		i := bytes.LastIndexByte(stat, ')')
		return filepath.Base(exe) == "sleep" && i > 0 && len(stat) > i+2 && stat[i+2] == 'S'
	})
}

// TestPodmanKill: a container killed by podman kill is recorded up to its
// end, and its recorder exits (so nothing of it stays loaded).
func TestPodmanKill(t *testing.T) {
	e := needPodman(t)
	dir := t.TempDir()
	out := filepath.Join(dir, "rec.json")
	name := "profgen-kill"
	args := append([]string{"-d", "--name", name, "--security-opt", "seccomp=unconfined"}, runArgs("/usr/bin/x", t.TempDir())...)
	args = append(args, testImage, "/usr/bin/sleep", "1000")
	if code, outp := e.recordRun(t, out, args...); code != 0 {
		t.Fatalf("podman run -d: exit %d\n%s", code, outp)
	}
	defer e.podman("rm", "-f", name).Run()
	if len(recorderPids(out)) != 1 {
		t.Fatalf("recorders of %s: %v, want one", out, recorderPids(out))
	}
	if _, err := os.Stat(out); err == nil {
		t.Fatal("the recording was written while the container runs")
	}
	code, pid := runCmd(t, e.podman("inspect", "-f", "{{.State.Pid}}", name))
	if code != 0 {
		t.Fatalf("podman inspect: %s", pid)
	}
	waitSleeping(t, strings.TrimSpace(pid))
	if code, outp := runCmd(t, e.podman("kill", name)); code != 0 {
		t.Fatalf("podman kill: exit %d\n%s", code, outp)
	}
	rec := killedSleepRecording(t, out)
	if _, err := os.Stat(lockPath(rec.Container.ID)); err == nil {
		t.Errorf("the recorder left its lock file %s", lockPath(rec.Container.ID))
	}
}

// TestPodmanDaemon: the processes the entrypoint forks are recorded too.
func TestPodmanDaemon(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "multiproc/daemon.c")
	dir := t.TempDir()
	out := filepath.Join(dir, "rec.json")
	args := append([]string{"--rm", "--pid", "host", "--security-opt", "seccomp=unconfined"}, runArgs(bin, t.TempDir())...)
	args = append(args, testImage, "/w/daemon", "/data/done", "0")
	if code, outp := e.recordRun(t, out, args...); code != 0 {
		t.Fatalf("podman run: exit %d\n%s", code, outp)
	}
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	// setsid and umask are the daemon's (the forked grandchild's) alone.
	for _, n := range []string{"setsid", "umask", "getppid"} {
		if rec.Lookup(n) == nil {
			t.Errorf("the daemon's %s is not recorded: %v", n, rec.Names())
		}
	}
	checkNoEngineCalls(t, rec)
}

// TestPodmanConcurrent records four containers at once: each recording
// holds its own container's calls only (manycalls N makes exactly N getppid
// calls).
func TestPodmanConcurrent(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "manycalls")
	dir := t.TempDir()
	var wg sync.WaitGroup
	errs := make([]string, 4)
	for i := range 4 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			out := filepath.Join(dir, fmt.Sprintf("rec%d.json", i))
			args := append([]string{"--rm", "--security-opt", "seccomp=unconfined"}, runArgs(bin, t.TempDir())...)
			args = append(args, testImage, "/w/manycalls", fmt.Sprint(1000*(i+1)))
			cmd := e.podman(append([]string{"--runtime", e.wrapper, "run", "--annotation", AnnotationRecord + "=" + out}, args...)...)
			if b, err := cmd.CombinedOutput(); err != nil {
				errs[i] = fmt.Sprintf("container %d: %v\n%s", i, err, b)
			}
		}()
	}
	wg.Wait()
	for i := range 4 {
		if errs[i] != "" {
			t.Error(errs[i])
			continue
		}
		rec, err := recording.ReadFile(filepath.Join(dir, fmt.Sprintf("rec%d.json", i)))
		if err != nil {
			t.Error(err)
			continue
		}
		if s := rec.Lookup("getppid"); s == nil || s.Count != uint64(1000*(i+1)) {
			t.Errorf("container %d: getppid %+v, want count %d", i, s, 1000*(i+1))
		}
		if s := rec.Lookup("personality"); s == nil || s.Count != 1 {
			t.Errorf("container %d: personality %+v, want count 1", i, s)
		}
		checkNoEngineCalls(t, rec)
	}
}

// TestPodmanBadInput: a runtime that does not exist and a recording that
// cannot be written make podman fail with the wrapper's one-line reason,
// and no container runs.
func TestPodmanBadInput(t *testing.T) {
	e := needPodman(t)
	dir := t.TempDir()
	for _, tc := range []struct {
		name  string
		extra []string // podman global flags
		out   string
		want  string
	}{
		{"no runtime", []string{"--runtime-flag", "profgen-runtime=/nonexistent/runc"}, filepath.Join(dir, "a.json"),
			"profgen-runc: --profgen-runtime /nonexistent/runc: no such executable"},
		{"unwritable", nil, "/nonexistent/dir/out.json", "recording /nonexistent/dir/out.json cannot be written: no such file or directory"},
		{"relative", nil, "out.json", "the recording's path must be absolute"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := append(append([]string{"--runtime", e.wrapper}, tc.extra...), "run", "--rm", "--annotation", AnnotationRecord+"="+tc.out)
			args = append(append(args, runArgs("/usr/bin/x", t.TempDir())...), testImage, "/usr/bin/true")
			code, outp := runCmd(t, e.podman(args...))
			if code == 0 || !strings.Contains(outp, tc.want) {
				t.Errorf("exit %d, output:\n%s\nwant a failure naming %q", code, outp, tc.want)
			}
			if _, err := os.Stat(tc.out); err == nil {
				t.Errorf("%s was written", tc.out)
			}
		})
	}
	if code, outp := runCmd(t, e.podman("ps", "-aq")); code != 0 || strings.TrimSpace(outp) != "" {
		t.Errorf("containers left: %q", outp)
	}
}

// memcachedDrive is a shell command that stores and reads one key from the
// memcached on 127.0.0.1:$1, then quits (memcached closes the connection).
const memcachedDrive = `exec 3<>/dev/tcp/127.0.0.1/$1; printf 'set k 0 0 1\r\nv\r\nget k\r\nquit\r\n' >&3; cat <&3`

// freePort returns a loopback TCP port nothing listens on.
func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return fmt.Sprint(l.Addr().(*net.TCPAddr).Port)
}

// memcachedServer returns a free loopback port and the command line of
// memcached serving it (two threads, no UDP, as root); it skips when
// memcached is not installed.
func memcachedServer(t *testing.T) (port string, server []string) {
	t.Helper()
	mc, err := exec.LookPath("memcached")
	if err != nil {
		t.Skip("memcached is not installed (make deps installs it)")
	}
	port = freePort(t)
	return port, []string{mc, "-u", "root", "-l", "127.0.0.1", "-p", port, "-U", "0", "-t", "2"}
}

// TestPodmanServer records a real Debian server (memcached) through podman
// while a client stores and reads a key, stopped by podman stop, and
// compares it with profgen record of the same drive on the host.
func TestPodmanServer(t *testing.T) {
	e := needPodman(t)
	dir := t.TempDir()
	port, server := memcachedServer(t)
	hrec := recordMemcachedOnHost(t, e.profgen, dir, port, server)

	out := filepath.Join(dir, "rec.json")
	name := "profgen-memcached"
	args := append([]string{"-d", "--name", name, "--security-opt", "seccomp=unconfined"}, runArgs("/usr/bin/x", t.TempDir())...)
	if code, outp := e.recordRun(t, out, append(append(args, testImage), server...)...); code != 0 {
		t.Fatalf("podman run -d memcached: exit %d\n%s", code, outp)
	}
	defer e.podman("rm", "-f", name).Run()
	if b, err := driveMemcached(t, port); err != nil {
		t.Fatalf("drive: %v\n%s", err, b)
	}
	if code, outp := runCmd(t, e.podman("stop", name)); code != 0 {
		t.Fatalf("podman stop: exit %d\n%s", code, outp)
	}
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	checkNoEngineCalls(t, rec)
	for _, n := range []string{"accept4", "epoll_wait", "sendmsg"} {
		if rec.Lookup(n) == nil {
			t.Errorf("memcached's %s (serving the client) is not recorded: %v", n, rec.Names())
		}
	}
	if got, want := rec.Names(), hrec.Names(); !slices.Equal(got, want) {
		t.Errorf("memcached in podman:\n  %v\non the host:\n  %v", got, want)
	}

	// Its profile serves the same drive under podman's enforcement.
	prof := filepath.Join(dir, "seccomp.json")
	if b, err := exec.Command(e.profgen, "emit", "-o", prof, out).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit: %v\n%s", err, b)
	}
	enforced := name + "-enforced"
	args = append([]string{"run", "-d", "--name", enforced, "--security-opt", "seccomp=" + prof}, runArgs("/usr/bin/x", t.TempDir())...)
	if code, outp := runCmd(t, e.podman(append(append(args, testImage), server...)...)); code != 0 {
		t.Fatalf("podman run memcached under its profile: exit %d\n%s", code, outp)
	}
	defer e.podman("rm", "-f", enforced).Run()
	if b, err := driveMemcached(t, port); err != nil {
		t.Errorf("drive under the profile: %v\n%s", err, b)
	}
	if code, outp := runCmd(t, e.podman("stop", enforced)); code != 0 {
		t.Fatalf("podman stop: exit %d\n%s", code, outp)
	}
	if code, outp := runCmd(t, e.podman("inspect", "-f", "{{.State.ExitCode}}", enforced)); code != 0 || strings.TrimSpace(outp) != "0" {
		t.Errorf("memcached under its profile exited %q (podman inspect exit %d)", strings.TrimSpace(outp), code)
	}
}

// TestPodmanExec: a process podman exec runs in a recorded container is
// recorded from its execve on; the calls runc makes for it before (its
// runc init joins the container's cgroup, then loads the filter, drops
// capabilities and execs) are not.
func TestPodmanExec(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "manycalls")
	out := filepath.Join(t.TempDir(), "rec.json")
	name := "profgen-exec"
	args := append([]string{"-d", "--name", name, "--security-opt", "seccomp=unconfined"}, runArgs(bin, t.TempDir())...)
	if code, outp := e.recordRun(t, out, append(args, testImage, "/usr/bin/sleep", "1000")...); code != 0 {
		t.Fatalf("podman run -d: exit %d\n%s", code, outp)
	}
	defer e.podman("rm", "-f", name).Run()
	if code, outp := runCmd(t, e.podman("--runtime", e.wrapper, "exec", name, "/w/manycalls", "77")); code != 0 {
		t.Fatalf("podman exec: exit %d\n%s", code, outp)
	}
	if code, outp := runCmd(t, e.podman("--runtime", e.wrapper, "kill", name)); code != 0 {
		t.Fatalf("podman kill: exit %d\n%s", code, outp)
	}
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if s := rec.Lookup("getppid"); s == nil || s.Count != 77 {
		t.Errorf("the exec'd manycalls' getppid %+v, want count 77", s)
	}
	checkNoEngineCalls(t, rec)
	for _, n := range []string{"seccomp", "setuid", "setgid", "setgroups", "prctl", "capget"} {
		if rec.Lookup(n) != nil {
			t.Errorf("runc's %s for the exec is recorded: %v", n, rec.Names())
		}
	}
}

// podmanConfEnv returns the environment that points podman at the private
// store through its configuration files, as the podman flags do.
func (e *podmanEnv) podmanConfEnv(t *testing.T) []string {
	t.Helper()
	env, err := e.store.ConfEnv()
	if err != nil {
		t.Fatal(err)
	}
	return env
}

// TestReplayPodman: profgen replay --runtime podman runs the image under
// the profile learned through profgen-runc with no denial, and names the
// syscall when one needed syscall is removed.
func TestReplayPodman(t *testing.T) {
	e := needPodman(t)
	bin := workload.Build(t, "cfiletcp")
	dir := t.TempDir()
	out := filepath.Join(dir, "rec.json")
	args := append([]string{"--rm", "--security-opt", "seccomp=unconfined"}, runArgs(bin, t.TempDir())...)
	if code, outp := e.recordRun(t, out, append(args, testImage, "/w/cfiletcp", "/data")...); code != 0 {
		t.Fatalf("podman run with profgen-runc: exit %d\n%s", code, outp)
	}
	prof := filepath.Join(dir, "seccomp.json")
	if b, err := exec.Command(e.profgen, "emit", "-o", prof, out).CombinedOutput(); err != nil {
		t.Fatalf("profgen emit: %v\n%s", err, b)
	}
	less := filepath.Join(dir, "less.json")
	enginetest.WithoutSyscall(t, prof, less, "listen")
	replay := func(profile string) (int, string) {
		cmd := exec.Command(e.profgen, "replay", "--runtime", "podman", "--profile", profile,
			"--bind", "/usr", "--bind", "/etc", "--bind", filepath.Dir(bin),
			"--engine-arg=--ulimit=nofile=1024:1024", "--engine-arg=--ulimit=nproc=1024:1024", "--engine-arg=--network=host",
			"--engine-arg=-v", "--engine-arg="+t.TempDir()+":/data",
			"--", testImage, bin, "/data")
		cmd.Env = e.podmanConfEnv(t)
		return runCmd(t, cmd)
	}
	if code, outp := replay(prof); code != 0 {
		t.Errorf("replay --runtime podman of the learned profile: exit %d\n%s", code, outp)
	}
	code, outp := replay(less)
	t.Logf("replay without listen:\n%s", outp)
	if code != 1 || !regexp.MustCompile(`(?m)^\s*listen\s+50\s`).MatchString(outp) {
		t.Errorf("replay --runtime podman without listen: exit %d, want 1 naming listen\n%s", code, outp)
	}
}

// TestReplayPodmanIoctlFamilies: fdprobe recorded on the host with its
// standard input a file (ioctl FIOCLEX) runs in podman, where its standard
// input is a pipe (ioctl FIONBIO), under the learned profile with no
// denial: the descriptor-flags family (learn/families.go).
func TestReplayPodmanIoctlFamilies(t *testing.T) {
	e := needPodman(t)
	bin, prof := fdprobeProfile(t, e.profgen)
	cmd := exec.Command(e.profgen, "replay", "--runtime", "podman", "--profile", prof,
		"--bind", "/usr", "--bind", "/etc", "--bind", filepath.Dir(bin),
		"--engine-arg=-i", "--engine-arg=--ulimit=nofile=1024:1024", "--engine-arg=--ulimit=nproc=1024:1024",
		"--", testImage, bin)
	cmd.Env = e.podmanConfEnv(t)
	cmd.Stdin = strings.NewReader("x\n")
	code, outp := runCmd(t, cmd)
	if code != 0 || !strings.Contains(outp, "fdprobe: pipe ok") {
		t.Errorf("replay --runtime podman with stdin a pipe: exit %d\n%s", code, outp)
	}
}

// fdprobeProfile records fdprobe on the host with its standard input a
// file (ioctl FIOCLEX) with the profgen binary, and returns fdprobe and
// the profile emitted from the recording.
func fdprobeProfile(t *testing.T, profgen string) (bin, prof string) {
	t.Helper()
	bin = workload.Build(t, "fdprobe")
	dir := t.TempDir()
	in, err := os.Open("/etc/hostname")
	if err != nil {
		t.Fatal(err)
	}
	defer in.Close()
	rec := exec.Command(profgen, "record", "-o", filepath.Join(dir, "rec.json"), "--", bin)
	rec.Stdin = in
	if b, err := rec.CombinedOutput(); err != nil || !strings.Contains(string(b), "fdprobe: file ok") {
		t.Fatalf("record with stdin a file: %v\n%s", err, b)
	}
	prof = filepath.Join(dir, "seccomp.json")
	if b, err := exec.Command(profgen, "emit", "-o", prof, filepath.Join(dir, "rec.json")).CombinedOutput(); err != nil {
		t.Fatalf("emit: %v\n%s", err, b)
	}
	return bin, prof
}

// driveMemcached waits (a bounded poll) until memcached listens on port,
// then stores and reads a key with memcachedDrive; the error says what
// failed, with the driver's output.
func driveMemcached(t *testing.T, port string) (string, error) {
	t.Helper()
	waitFor(t, "memcached to listen", func() bool {
		c, err := net.Dial("tcp", "127.0.0.1:"+port)
		if err == nil {
			c.Close()
		}
		return err == nil
	})
	b, err := exec.Command("bash", "-c", memcachedDrive, "drive", port).CombinedOutput()
	if err == nil && !strings.Contains(string(b), "VALUE k 0 1") {
		err = errors.New("the key was not read back")
	}
	return string(b), err
}

// killedSleepRecording waits until the recorder of out exited after its
// container (sleep) was killed, and checks the recording: sleep's execve
// and its sleep, none of the engine's calls.
func killedSleepRecording(t *testing.T, out string) *recording.Recording {
	t.Helper()
	waitFor(t, "the recorder to exit", func() bool { return len(recorderPids(out)) == 0 })
	rec, err := recording.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	if rec.Lookup("execve") == nil || rec.Lookup("clock_nanosleep") == nil && rec.Lookup("nanosleep") == nil {
		t.Errorf("sleep's recording lacks execve or its sleep: %v", rec.Names())
	}
	checkNoEngineCalls(t, rec)
	return rec
}

// recordMemcachedOnHost records server (memcachedServer) on the host with
// profgen record while memcachedDrive stores and reads a key, into
// DIR/host.json.
func recordMemcachedOnHost(t *testing.T, profgen, dir, port string, server []string) *recording.Recording {
	t.Helper()
	host := filepath.Join(dir, "host.json")
	drive := "bash -c '" + strings.ReplaceAll(memcachedDrive, "'", `'\''`) + "' drive " + port
	if b, err := exec.Command(profgen, append([]string{"record", "-o", host, "--ready", "tcp:127.0.0.1:" + port, "--drive", drive, "--"}, server...)...).CombinedOutput(); err != nil {
		t.Fatalf("profgen record memcached on the host: %v\n%s", err, b)
	}
	rec, err := recording.ReadFile(host)
	if err != nil {
		t.Fatal(err)
	}
	return rec
}
