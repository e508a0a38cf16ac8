package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/enginetest"
	"github.com/profgen/profgen/internal/seccomp"
)

// denyBPFEnv makes the test binary exec the command in its arguments
// under a seccomp filter that fails bpf(2) with EPERM, as the kernel
// fails it for a process without CAP_BPF (and CAP_SYS_ADMIN), and allows
// everything else: an engine whose runtime may not load BPF.
const denyBPFEnv = "PROFGEN_RUNC_TEST_DENY_BPF"

func init() {
	if os.Getenv(denyBPFEnv) == "" {
		return
	}
	os.Unsetenv(denyBPFEnv)
	if err := execDenyingBPF(os.Args[1:]); err != nil {
		fmt.Fprintf(os.Stderr, "deny-bpf launcher: %v\n", err)
		os.Exit(126)
	}
}

func execDenyingBPF(argv []string) error {
	native, err := abi.Native()
	if err != nil {
		return err
	}
	nr, err := abi.SyscallNumber(native, "bpf")
	if err != nil {
		return err
	}
	ins, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 0, Size: 4}, // seccomp_data.nr
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: uint32(nr), SkipFalse: 1},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EPERM)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
	})
	if err != nil {
		return err
	}
	prog := make([]unix.SockFilter, len(ins))
	for i, in := range ins {
		prog[i] = unix.SockFilter{Code: in.Op, Jt: in.Jt, Jf: in.Jf, K: in.K}
	}
	path, err := exec.LookPath(argv[0])
	if err != nil {
		return err
	}
	_, err = seccomp.Exec(prog, 0, path, argv, os.Environ())
	return err
}

// denyingBPF makes cmd run under the deny-bpf launcher.
func denyingBPF(cmd *exec.Cmd) {
	cmd.Args = append([]string{os.Args[0]}, cmd.Args...)
	cmd.Path = os.Args[0]
	if cmd.Env == nil {
		cmd.Env = os.Environ()
	}
	cmd.Env = append(cmd.Env, denyBPFEnv+"=1")
}

// TestPodmanNoBPFPrivilege: podman whose runtime, profgen-runc, may not
// load BPF (bpf(2) fails with EPERM, as without CAP_BPF) fails to run the
// container to be recorded: podman's own error output carries the
// wrapper's one-line reason naming the privilege, no recording is
// written and no container is left; the same podman runs the container
// when it is not to be recorded by the wrapper (plain runc).
func TestPodmanNoBPFPrivilege(t *testing.T) {
	e := needPodman(t)
	out := filepath.Join(t.TempDir(), "rec.json")
	podman := func(args ...string) *exec.Cmd {
		cmd := e.podman(args...)
		denyingBPF(cmd)
		return cmd
	}
	args := append([]string{"--runtime", e.wrapper, "run", "--rm", "--annotation", AnnotationRecord + "=" + out}, runArgs("/usr/bin/x", t.TempDir())...)
	code, outp := runCmd(t, podman(append(args, testImage, "/usr/bin/true")...))
	t.Logf("podman without the privilege to load BPF: exit %d\n%s", code, outp)
	lines := strings.Split(strings.TrimSpace(outp), "\n")
	want := "cannot record the container: load eBPF recorder: not permitted to load BPF programs; run profgen as root or give it CAP_BPF and CAP_PERFMON"
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "profgen-runc: create ") || !strings.Contains(lines[0], want) {
		t.Errorf("exit %d, want one line from podman carrying the wrapper's reason %q\n%s", code, want, outp)
	}
	if _, err := os.Stat(out); err == nil {
		t.Errorf("%s was written", out)
	}
	if code, outp := runCmd(t, e.podman("ps", "-aq")); code != 0 || strings.TrimSpace(outp) != "" {
		t.Errorf("containers left: %q", outp)
	}
	// The same engine without the wrapper runs: the cause is the
	// recorder's privilege, not the engine.
	if code, outp := runCmd(t, podman(append([]string{"run", "--rm"}, append(runArgs("/usr/bin/x", t.TempDir()), testImage, "/usr/bin/true")...)...)); code != 0 {
		t.Errorf("podman without the wrapper under the same filter: exit %d\n%s", code, outp)
	}
}

// TestDockerNoBPFPrivilege: the same through a dockerd (and its
// containerd, shim and runtime) that may not load BPF: docker run --runtime
// profgen fails in one line carrying the wrapper's reason.
func TestDockerNoBPFPrivilege(t *testing.T) {
	e := needPodman(t)
	if _, err := exec.LookPath("dockerd"); err != nil {
		t.Skip("dockerd is not installed (make deps installs docker.io)")
	}
	// A daemon of its own, beside the shared one (dockerd's paths must be short).
	dir, err := os.MkdirTemp("", "profgen-nobpf-")
	if err != nil {
		t.Fatal(err)
	}
	defer os.RemoveAll(dir)
	recDir := filepath.Join(dir, "recordings")
	d, err := enginetest.StartDockerWith(filepath.Join(dir, "docker"), e.tar, map[string]enginetest.DockerRuntime{
		"profgen": {Path: e.wrapper, Args: []string{"--profgen-record-dir", recDir}}}, denyingBPF)
	if err != nil {
		t.Fatal(err)
	}
	defer d.Stop()
	args := append([]string{"run", "--rm", "--runtime", "profgen"}, dockerRunArgs("/usr/bin/x", t.TempDir())...)
	code, outp := runCmd(t, d.Cmd(append(args, testImage, "/usr/bin/true")...))
	t.Logf("docker without the privilege to load BPF: exit %d\n%s", code, outp)
	// The docker 20.10 CLI sometimes adds a log line of its own after a
	// failed create, `level=error msg="error waiting for container:
	// context canceled"` (its wait races the failed start): not the
	// wrapper's, so not counted.
	var lines []string
	for _, l := range strings.Split(strings.TrimSpace(outp), "\n") {
		if !strings.Contains(l, `level=error msg="error waiting for container: context canceled"`) {
			lines = append(lines, l)
		}
	}
	want := "cannot record the container: load eBPF recorder: not permitted to load BPF programs"
	if code == 0 || len(lines) != 1 || !strings.Contains(lines[0], want) {
		t.Errorf("exit %d, want one line from docker carrying the wrapper's reason %q\n%s", code, want, outp)
	}
	if entries, _ := os.ReadDir(recDir); len(entries) > 0 {
		t.Errorf("recordings written: %v", entries)
	}
	if code, outp := runCmd(t, d.Cmd("ps", "-aq")); code != 0 || strings.TrimSpace(outp) != "" {
		t.Errorf("containers left: %q", outp)
	}
}
