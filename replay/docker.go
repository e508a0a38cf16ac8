package replay

import (
	"bytes"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"syscall"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/learn"
)

// RuntimeDocker runs the workload, an image and its command, with
// `docker create --security-opt seccomp=FILE` and `docker start --attach`.
// The container descends from dockerd, not from the docker command, and
// shares dockerd's audit session with everything else dockerd runs: its
// audit records are told apart by the container's cgroup instead
// (internal/container), the container's id being known from `docker
// create` before anything of it runs.
const RuntimeDocker = engine.Docker

// startDocker creates the container of opts.Command (IMAGE [CMD...])
// under prof, tells col to keep the records of its processes, and starts
// it attached.
func startDocker(opts LiveOptions, prof *learn.Profile, logFlag bool, col *collector) (*workload, error) {
	doc, file, dir, err := ociProfileFile(prof, logFlag, "docker")
	if err != nil {
		return nil, err
	}
	tail, moved, err := engineTail("docker", opts, dir, doc)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := []string{"create", "--security-opt", seccompOpt(file, moved)}
	if opts.NoNewPrivileges {
		args = append(args, "--security-opt", "no-new-privileges")
	}
	args = append(args, engineFlags(opts)...)
	id, err := engineCreate("docker", append(args, tail...))
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	remove := func() { exec.Command("docker", "rm", "--force", id).Run() }
	col.watchContainer(id, daemonSession())

	start := []string{"start", "--attach"}
	if interactive(opts.EngineArgs) {
		start = append(start, "--interactive")
	}
	cmd := exec.Command("docker", append(start, id)...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
	// Its own process group keeps a terminal's Ctrl-C to profgen.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if err := cmd.Start(); err != nil {
		remove()
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start docker: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	go col.pollContainer(id, done)
	wait := engineWait(cmd, done, remove, nil)
	return &workload{
		container: id,
		done:      done,
		terminate: func() error { return exec.Command("docker", "kill", "--signal", "TERM", id).Run() },
		wait:      wait,
		cleanup: func() {
			select {
			case <-done:
			default:
				wait(cancelled())
			}
			remove()
			os.RemoveAll(dir)
		},
	}, nil
}

// engineCreate runs `NAME create ARGS...` (args begin with "create") and
// returns the new container's id; the error is the engine's own line.
func engineCreate(name string, args []string) (string, error) {
	var stderr bytes.Buffer
	create := exec.Command(name, args...)
	create.Stderr = &stderr
	out, err := create.Output()
	if err != nil {
		return "", engineError(name+" create", err, stderr.Bytes())
	}
	id := strings.TrimSpace(string(out))
	if i := strings.LastIndexByte(id, '\n'); i >= 0 {
		id = id[i+1:] // warnings come first
	}
	return id, nil
}

// interactive reports whether the engine arguments keep the container's
// standard input open: --interactive, -i, or a group of short flags with
// i (-it).
func interactive(args []string) bool {
	for _, a := range args {
		switch {
		case a == "--interactive" || a == "--interactive=true":
			return true
		case len(a) > 1 && a[0] == '-' && a[1] != '-' && !strings.Contains(a, "=") && strings.ContainsRune(a[1:], 'i'):
			return true
		}
	}
	return false
}

// engineError is the one-line error of an engine command that failed: its
// own last line of error output, which names the cause.
func engineError(what string, err error, stderr []byte) error {
	var ee *exec.ExitError
	if !errors.As(err, &ee) {
		return fmt.Errorf("%s: %w", what, err)
	}
	lines := strings.Split(strings.TrimSpace(string(stderr)), "\n")
	msg := strings.TrimSpace(lines[len(lines)-1])
	if msg == "" {
		return fmt.Errorf("%s: exit status %d", what, exitcode.Of(ee.ProcessState))
	}
	return fmt.Errorf("%s failed: %s", what, msg)
}

// daemonHost returns the address of the daemon the docker command reaches
// (DOCKER_HOST or the current docker context).
func daemonHost() (string, error) {
	var stderr bytes.Buffer
	cmd := exec.Command("docker", "context", "inspect", "--format", "{{.Endpoints.docker.Host}}")
	cmd.Stderr = &stderr
	out, err := cmd.Output()
	if err != nil {
		return "", engineError("docker context inspect", err, stderr.Bytes())
	}
	return strings.TrimSpace(string(out)), nil
}

// checkDockerLocal fails unless the docker command reaches a daemon on
// this machine: the container's audit records are read here.
func checkDockerLocal() error {
	host, err := daemonHost()
	if err != nil {
		return err
	}
	if !strings.HasPrefix(host, "unix://") {
		return fmt.Errorf("--runtime docker: the docker daemon at %s is not reached through a socket on this machine: the container's audit records are read here, so replay needs a local daemon (unix://)", host)
	}
	return nil
}

// daemonSession returns the audit session of the dockerd the docker
// command reaches, from its socket's peer credentials: the session the
// container's processes inherit through containerd and the shim when they
// are dockerd's (a managed containerd) or share the daemons' (services).
// Zero when it cannot be told.
func daemonSession() uint32 {
	host, err := daemonHost()
	if err != nil {
		return 0
	}
	path, ok := strings.CutPrefix(host, "unix://")
	if !ok {
		return 0
	}
	conn, err := net.DialTimeout("unix", path, 5*time.Second)
	if err != nil {
		return 0
	}
	defer conn.Close()
	raw, err := conn.(*net.UnixConn).SyscallConn()
	if err != nil {
		return 0
	}
	var cred *unix.Ucred
	raw.Control(func(fd uintptr) { cred, err = unix.GetsockoptUcred(int(fd), unix.SOL_SOCKET, unix.SO_PEERCRED) })
	if err != nil || cred == nil {
		return 0
	}
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/sessionid", cred.Pid))
	if err != nil {
		return 0
	}
	ses, err := strconv.ParseUint(strings.TrimSpace(string(b)), 10, 32)
	if err != nil {
		return 0
	}
	return uint32(ses)
}
