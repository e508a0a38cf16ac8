package runc

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"slices"
	"strings"
	"syscall"
	"time"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"github.com/opencontainers/runtime-spec/specs-go/features"

	"github.com/profgen/profgen/internal/exitcode"
)

// Binary is the runc executable Run uses; looked up in PATH.
var Binary = "runc"

// ErrNotFound means runc is not installed.
var ErrNotFound = errors.New("runc not found")

// Stdio is what the container process's standard streams are connected
// to; nil means /dev/null.
type Stdio struct {
	Stdin          io.Reader
	Stdout, Stderr io.Writer
}

// Options adjust Start.
type Options struct {
	// Stdio of the container process (runc passes its own through).
	Stdio Stdio
	// Setup, when set, is called with the runc command before it starts,
	// for example to set SysProcAttr.
	Setup func(*exec.Cmd)
	// NewAuditSession starts runc in an audit session of its own: every
	// audit record of the container (seccomp denials, for example)
	// then carries Container.Session as ses=.
	NewAuditSession bool
	// OnAuditSession, with NewAuditSession, is called with the session
	// id before runc starts, so that a reader of audit records can
	// select the session's records from the first.
	OnAuditSession func(ses uint32)
}

// Look finds the runc binary.
func Look() (string, error) {
	path, err := exec.LookPath(Binary)
	if err != nil {
		return "", fmt.Errorf("%w: install it (apt-get install runc): %v", ErrNotFound, err)
	}
	return path, nil
}

// NewID returns a container id unique to this call: prefix, the pid and
// random bytes.
func NewID(prefix string) string {
	var b [6]byte
	rand.Read(b[:])
	return fmt.Sprintf("%s-%d-%s", prefix, os.Getpid(), hex.EncodeToString(b[:]))
}

// Container is a started `runc run`.
type Container struct {
	ID  string
	cmd *exec.Cmd
	// Pid is the pid of the runc process; the container's processes
	// are its descendants.
	Pid int
	// Session is the audit session id of runc and the container when
	// Options.NewAuditSession was set.
	Session uint32
	done    chan struct{}
	err     error
}

// Start starts `runc run --bundle DIR ID` without a terminal. Wait must be
// called to reap runc and delete the container.
func Start(b *Bundle, id string, opts Options) (*Container, error) {
	bin, err := Look()
	if err != nil {
		return nil, err
	}
	cmd := exec.Command(bin, "run", "--bundle", b.Dir, id)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdio.Stdin, opts.Stdio.Stdout, opts.Stdio.Stderr
	// runc run forwards the signals it receives to the container's
	// init; its own process group keeps a terminal's Ctrl-C to profgen.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	if opts.Setup != nil {
		opts.Setup(cmd)
	}
	var ses uint32
	if opts.NewAuditSession {
		ses, err = startInNewSession(cmd, opts.OnAuditSession)
	} else {
		err = cmd.Start()
	}
	if err != nil {
		return nil, fmt.Errorf("start runc: %w", err)
	}
	c := &Container{ID: id, cmd: cmd, Pid: cmd.Process.Pid, Session: ses, done: make(chan struct{})}
	go func() {
		c.err = cmd.Wait()
		close(c.done)
	}()
	return c, nil
}

// WaitExec returns the pid of the container's process once it runs exe
// under a seccomp filter (Seccomp: 2 in its status): after runc loaded
// the profile and exec'd the process. It gives up when ctx ends or runc
// exits.
func (c *Container) WaitExec(ctx context.Context, exe string) (int, error) {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		out, err := exec.Command(Binary, "state", c.ID).Output()
		var st struct{ Pid int }
		if err == nil && json.Unmarshal(out, &st) == nil && st.Pid > 0 {
			got, _ := os.Readlink(fmt.Sprintf("/proc/%d/exe", st.Pid))
			status, _ := os.ReadFile(fmt.Sprintf("/proc/%d/status", st.Pid))
			if got == exe && strings.Contains(string(status), "\nSeccomp:\t2\n") {
				return st.Pid, nil
			}
		}
		select {
		case <-ctx.Done():
			return 0, fmt.Errorf("container %s does not run %s under a filter: %w", c.ID, exe, ctx.Err())
		case <-c.done:
			return 0, fmt.Errorf("container %s: runc exited before it ran %s", c.ID, exe)
		case <-tick.C:
		}
	}
}

// Done is closed when runc has exited.
func (c *Container) Done() <-chan struct{} { return c.done }

// Signal sends sig to the container's init process through `runc kill`.
func (c *Container) Signal(sig syscall.Signal) error {
	out, err := exec.Command(Binary, "kill", c.ID, fmt.Sprint(int(sig))).CombinedOutput()
	if err != nil {
		return fmt.Errorf("runc kill %s %d: %v: %s", c.ID, sig, err, out)
	}
	return nil
}

// Wait waits for runc to exit or ctx to end, then deletes the container.
// On ctx's end the container is killed (SIGKILL) first. It returns the
// container process's exit code as runc reports it (128+N for a process
// killed by signal N).
func (c *Container) Wait(ctx context.Context) (int, error) {
	var ctxErr error
	select {
	case <-c.done:
	case <-ctx.Done():
		ctxErr = ctx.Err()
		c.kill()
	}
	delErr := c.delete()
	if ctxErr != nil {
		return -1, ctxErr
	}
	code, err := exitCode(c.err)
	if err != nil {
		return code, err
	}
	return code, delErr
}

// kill stops the container and runc, whatever state they are in: `runc
// kill` fails while the container is still being created, so it is
// retried until runc exits, and runc itself is killed if it does not.
func (c *Container) kill() {
	deadline := time.After(5 * time.Second)
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		exec.Command(Binary, "kill", "--all", c.ID, "KILL").Run()
		select {
		case <-c.done:
			return
		case <-tick.C:
		case <-deadline:
			c.cmd.Process.Kill()
			<-c.done
			return
		}
	}
}

// delete removes the container's state, killing what is left of it.
func (c *Container) delete() error {
	out, err := exec.Command(Binary, "delete", "-f", c.ID).CombinedOutput()
	if err != nil && !notExist(out) {
		return fmt.Errorf("runc delete -f %s: %v: %s", c.ID, err, out)
	}
	return nil
}

func notExist(out []byte) bool {
	s := string(out)
	return strings.Contains(s, "does not exist") || strings.Contains(s, "not found")
}

func exitCode(err error) (int, error) {
	if err == nil {
		return 0, nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return exitcode.Of(ee.ProcessState), nil
	}
	return -1, fmt.Errorf("runc run: %w", err)
}

// Run runs bundle b as container id and waits for it: `runc run`, no
// terminal, the container killed on ctx's end and always deleted
// afterwards. exitCode is the container process's status (runc passes it
// on; 128+N when it died of signal N). A runc failure before the process
// started also shows as a non-zero exit code, with runc's message on
// stdio.Stderr.
func Run(ctx context.Context, b *Bundle, id string, stdio Stdio) (exitCode int, err error) {
	c, err := Start(b, id, Options{Stdio: stdio})
	if err != nil {
		return -1, err
	}
	return c.Wait(ctx)
}

// SupportsSeccompFlag reports whether runc accepts flag (such as
// specs.LinuxSeccompFlagLog) in a profile's "flags", from `runc features`.
// runc before 1.2 accepts no flags at all.
func SupportsSeccompFlag(flag specs.LinuxSeccompFlag) (bool, error) {
	bin, err := Look()
	if err != nil {
		return false, err
	}
	out, err := exec.Command(bin, "features").Output()
	if err != nil {
		// runc before 1.1 has no features command, nor flags.
		return false, nil
	}
	var f features.Features
	if err := json.Unmarshal(out, &f); err != nil {
		return false, fmt.Errorf("runc features: %w", err)
	}
	if f.Linux == nil || f.Linux.Seccomp == nil {
		return false, nil
	}
	return slices.Contains(f.Linux.Seccomp.SupportedFlags, string(flag)), nil
}
