package workload

import (
	"bufio"
	"bytes"
	"debug/elf"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"golang.org/x/sys/unix"
)

// run runs argv and returns its stdout, stderr and exit status.
func runCmd(t *testing.T, argv ...string) (string, string, int) {
	t.Helper()
	var stdout, stderr bytes.Buffer
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout = &stdout
	cmd.Stderr = &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	switch {
	case err == nil:
		return stdout.String(), stderr.String(), 0
	case errors.As(err, &ee):
		return stdout.String(), stderr.String(), ee.ExitCode()
	}
	t.Fatalf("%v: %v", argv, err)
	return "", "", 0
}

func TestBuildCachesPerProcess(t *testing.T) {
	p1 := Build(t, "manycalls")
	fi1, err := os.Stat(p1)
	if err != nil {
		t.Fatal(err)
	}
	p2 := Build(t, "manycalls/manycalls.c")
	if p2 != p1 {
		t.Errorf("manycalls and manycalls/manycalls.c built to %s and %s, want one path", p1, p2)
	}
	p3 := Build(t, "manycalls")
	fi3, err := os.Stat(p3)
	if err != nil {
		t.Fatal(err)
	}
	if p3 != p1 || !os.SameFile(fi1, fi3) {
		t.Errorf("second Build rebuilt %s", p1)
	}
	if want := filepath.Join(Dir(t), "manycalls", "bin", "manycalls"); p1 != want {
		t.Errorf("Build = %s, want %s", p1, want)
	}
	if fi1.Mode()&0o111 == 0 {
		t.Errorf("%s is not executable: %v", p1, fi1.Mode())
	}
}

func TestBuildBadNames(t *testing.T) {
	root, dir := Root(t), Dir(t)
	for name, want := range map[string]string{
		"multiproc":           "2 C files",
		"nonexistent":         "no such file",
		"multiproc/README.md": "neither a C file",
		"../internal":         "bad workload name",
	} {
		_, err := plan(root, dir, name)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("build %q: error %v, want one containing %q", name, err, want)
		}
	}
}

func TestPath(t *testing.T) {
	p := Path(t, "multiproc/pipeline.sh")
	if !filepath.IsAbs(p) {
		t.Errorf("Path = %s, not absolute", p)
	}
	if _, err := os.Stat(filepath.Join(Root(t), "go.mod")); err != nil {
		t.Errorf("Root %s holds no go.mod: %v", Root(t), err)
	}
}

// startServer starts the httpserver workload on a free loopback port and
// returns its command, its address (read from its "listening on" line) and a
// function returning the rest of its standard error once it is closed.
func startServer(t *testing.T, start func(stderr *os.File) (*exec.Cmd, error)) (*exec.Cmd, string, func() string) {
	t.Helper()
	pr, pw, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd, err := start(pw)
	pw.Close()
	if err != nil {
		pr.Close()
		t.Fatal(err)
	}
	sc := bufio.NewScanner(pr)
	var addr string
	for sc.Scan() {
		if a, ok := strings.CutPrefix(sc.Text(), "httpserver: listening on "); ok {
			addr = a
			break
		}
	}
	if addr == "" {
		pr.Close()
		t.Fatalf("httpserver did not report its address (%v)", sc.Err())
	}
	rest := new(bytes.Buffer)
	done := make(chan struct{})
	go func() {
		defer close(done)
		defer pr.Close()
		for sc.Scan() {
			fmt.Fprintln(rest, sc.Text())
		}
	}()
	t.Cleanup(func() { <-done })
	return cmd, addr, func() string { <-done; return rest.String() }
}

func TestHTTPServer(t *testing.T) {
	server, driver := Build(t, "httpserver"), Build(t, "httpserver/driver")
	if filepath.Base(driver) != "driver" || filepath.Dir(driver) != filepath.Dir(server) {
		t.Errorf("server %s and driver %s not side by side", server, driver)
	}
	cmd, addr, stderr := startServer(t, func(w *os.File) (*exec.Cmd, error) {
		cmd := exec.Command(server, "--addr", "127.0.0.1:0")
		cmd.Stderr = w
		return cmd, cmd.Start()
	})
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })

	out, errOut, code := runCmd(t, driver, "--addr", addr)
	if code != 0 || out != "driver: 3 rounds ok\n" {
		t.Errorf("driver: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Errorf("server after SIGTERM: %v", err)
	}
	if s := stderr(); !strings.Contains(s, "httpserver: stopped") {
		t.Errorf("server stderr %q lacks the clean-stop line", s)
	}

	// The driver must fail when nothing answers: the server is gone now.
	_, errOut, code = runCmd(t, driver, "--addr", addr, "--wait", "0s")
	if code == 0 || !strings.Contains(errOut, "not ready") {
		t.Errorf("driver without server: status %d, stderr %q; want failure", code, errOut)
	}
}

func TestCFileTCP(t *testing.T) {
	bin := Build(t, "cfiletcp")
	dir := t.TempDir()
	out, errOut, code := runCmd(t, bin, dir)
	if code != 0 || out != "cfiletcp: ok\n" {
		t.Fatalf("cfiletcp: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	ents, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(ents) != 0 {
		t.Errorf("cfiletcp left %d entries in %s, want none", len(ents), dir)
	}
	if _, _, code := runCmd(t, bin); code != 2 {
		t.Errorf("cfiletcp without DIR: status %d, want 2", code)
	}
	if _, _, code := runCmd(t, bin, filepath.Join(dir, "missing")); code != 1 {
		t.Errorf("cfiletcp in a missing directory: status %d, want 1", code)
	}
}

func TestPipeline(t *testing.T) {
	out, errOut, code := runCmd(t, "/bin/sh", Path(t, "multiproc/pipeline.sh"))
	if code != 0 || strings.TrimSpace(out) != "3" {
		t.Errorf("pipeline.sh: status %d, stdout %q, stderr %q; want 3", code, out, errOut)
	}
}

// waitFile waits for path to exist and returns its contents.
func waitFile(t *testing.T, path string) string {
	t.Helper()
	deadline := time.Now().Add(30 * time.Second)
	for {
		b, err := os.ReadFile(path)
		if err == nil {
			return string(b)
		}
		if time.Now().After(deadline) {
			t.Fatalf("%s never appeared: %v", path, err)
		}
		time.Sleep(20 * time.Millisecond)
	}
}

// parseDaemon parses "daemon PID sid SID ppid PPID done\n".
func parseDaemon(t *testing.T, s string) (pid, sid, ppid int) {
	t.Helper()
	f := strings.Fields(s)
	if len(f) != 7 || f[0] != "daemon" || f[2] != "sid" || f[4] != "ppid" || f[6] != "done" {
		t.Fatalf("daemon wrote %q", s)
	}
	for i, p := range []*int{&pid, &sid, &ppid} {
		n, err := strconv.Atoi(f[1+2*i])
		if err != nil {
			t.Fatalf("daemon wrote %q: %v", s, err)
		}
		*p = n
	}
	return pid, sid, ppid
}

func TestDaemon(t *testing.T) {
	bin := Build(t, "multiproc/daemon.c")
	file := filepath.Join(t.TempDir(), "daemon.out")
	cmd := exec.Command(bin, file, "100")
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("daemon: %v: %s", err, out)
	}
	pid, sid, _ := parseDaemon(t, waitFile(t, file))
	if pid == cmd.Process.Pid {
		t.Errorf("the daemon's work was done by the original process %d", pid)
	}
	ourSid, err := unix.Getsid(0)
	if err != nil {
		t.Fatal(err)
	}
	if sid == ourSid || sid == pid {
		t.Errorf("daemon %d in session %d (ours %d): want a new session led by the intermediate child", pid, sid, ourSid)
	}
	if _, err := os.Stat(file + ".tmp"); !os.IsNotExist(err) {
		t.Errorf("%s.tmp left behind: %v", file, err)
	}
	if _, _, code := runCmd(t, bin, "relative"); code != 2 {
		t.Errorf("daemon with a relative path: status %d, want 2", code)
	}
}

func TestThreads(t *testing.T) {
	bin := Build(t, "multiproc/threads.c")
	for _, n := range []string{"1", "4", "16"} {
		out, errOut, code := runCmd(t, bin, n)
		if code != 0 || out != "threads: "+n+" ok\n" {
			t.Errorf("threads %s: status %d, stdout %q, stderr %q", n, code, out, errOut)
		}
	}
	if _, _, code := runCmd(t, bin, "0"); code != 2 {
		t.Errorf("threads 0: status %d, want 2", code)
	}
}

func TestArgShapes(t *testing.T) {
	bin := Build(t, "argshapes")
	// Unfiltered every variant succeeds (as root, with CAP_NET_RAW for
	// packet); the EPERM -> 42 path needs a seccomp filter and is tested where
	// profiles are enforced.
	for _, v := range []string{"", "netlink", "packet", "ioctl", "dumpable", "wx"} {
		argv := []string{bin}
		want := "argshapes: ok (normal)\n"
		if v != "" {
			argv = append(argv, "--variant", v)
			want = "argshapes: ok (" + v + ")\n"
		}
		out, errOut, code := runCmd(t, argv...)
		if code != 0 || out != want {
			t.Errorf("%v: status %d, stdout %q, stderr %q", argv[1:], code, out, errOut)
		}
	}
	if _, errOut, code := runCmd(t, bin, "--variant", "bogus"); code != 2 || !strings.Contains(errOut, "unknown variant bogus") {
		t.Errorf("--variant bogus: status %d, stderr %q; want 2", code, errOut)
	}
	if _, _, code := runCmd(t, bin, "extra"); code != 2 {
		t.Errorf("bad argument: status %d, want 2", code)
	}
}

func TestManyCalls(t *testing.T) {
	bin := Build(t, "manycalls")
	out, errOut, code := runCmd(t, bin, "100000")
	if code != 0 || out != "manycalls: 100000 ok\n" {
		t.Errorf("manycalls: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	for _, bad := range []string{"-1", "x", ""} {
		if _, _, code := runCmd(t, bin, bad); code != 2 {
			t.Errorf("manycalls %q: status %d, want 2", bad, code)
		}
	}
}

func TestBuildShared(t *testing.T) {
	so := BuildShared(t, "dlplugin/plugin.c")
	if want := filepath.Join(Dir(t), "dlplugin", "bin", "plugin.so"); so != want {
		t.Errorf("BuildShared = %s, want %s", so, want)
	}
	f, err := elf.Open(so)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	if f.Type != elf.ET_DYN {
		t.Errorf("%s: %s, want a shared object", so, f.Type)
	}
	if s, err := f.DynamicSymbols(); err != nil || !slices.ContainsFunc(s, func(s elf.Symbol) bool { return s.Name == "plugin_run" && s.Section != elf.SHN_UNDEF }) {
		t.Errorf("%s does not export plugin_run (%v)", so, err)
	}
	exe := Build(t, "dlplugin/dlplugin.c")
	out, _, code := runCmd(t, exe, so)
	if code != 0 || !strings.HasPrefix(out, "plugin_run: ") {
		t.Errorf("dlplugin %s: exit %d, %q", so, code, out)
	}
}
