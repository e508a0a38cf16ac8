package replay

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"strings"
	"sync"
	"syscall"
	"time"

	"github.com/profgen/profgen/internal/engine"
	"github.com/profgen/profgen/internal/exitcode"
	ll "github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/learn"
)

// RuntimePodman runs the workload, an image and its command, with
// `podman run --security-opt seccomp=FILE`: podman, conmon, runc and the
// container descend from the podman command and share its fresh audit
// session.
const RuntimePodman = engine.Podman

// startPodman starts `podman run --rm` of opts.Command (IMAGE [CMD...])
// under prof, in a fresh audit session told to watch.
func startPodman(opts LiveOptions, prof *learn.Profile, logFlag bool, watch func(uint32)) (*workload, error) {
	doc, file, dir, err := ociProfileFile(prof, logFlag, "podman")
	if err != nil {
		return nil, err
	}
	name := runc.NewID("profgen-replay")
	tail, moved, err := engineTail("podman", opts, dir, doc)
	if err != nil {
		os.RemoveAll(dir)
		return nil, err
	}
	args := []string{"run", "--rm", "--name", name, "--security-opt", seccompOpt(file, moved)}
	if opts.NoNewPrivileges {
		args = append(args, "--security-opt", "no-new-privileges")
	}
	args = append(args, engineFlags(opts)...)
	cmd := exec.Command("podman", append(args, tail...)...)
	// podman's own failure (exit 125) is told by its last line of error
	// output.
	stderr := &lastLine{w: opts.Stderr}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, stderr
	// Its own process group keeps a terminal's Ctrl-C to profgen.
	cmd.SysProcAttr = &syscall.SysProcAttr{Setpgid: true}
	ses, err := runc.StartInNewSession(cmd, watch)
	if err != nil {
		os.RemoveAll(dir)
		return nil, fmt.Errorf("start podman: %w", err)
	}
	done := make(chan struct{})
	go func() { cmd.Wait(); close(done) }()
	remove := func() { exec.Command("podman", "rm", "--force", "--time", "0", name).Run() }
	wait := engineWait(cmd, done, remove, func(code int) error {
		// The Landlock launcher's own failure is the workload's status.
		if code != podmanFailed || (opts.kernelLandlock != nil && strings.HasPrefix(stderr.String(), ll.LauncherName+": ")) {
			return nil
		}
		return fmt.Errorf("podman run failed (exit status %d): %s", code, stderr.String())
	})
	return &workload{
		session: ses,
		done:    done,
		// Through the engine, by the container's name: the podman run
		// client, signalled itself, is slow to pass the signal on and to
		// exit (about 20 s).
		terminate: func() error {
			return engineCommand("podman", "kill", "--signal", "TERM", name)
		},
		wait: wait,
		cleanup: func() {
			select {
			case <-done:
			default:
				wait(cancelled())
			}
			os.RemoveAll(dir)
		},
	}, nil
}

// podmanFailed is the exit status of `podman run` when podman itself
// failed (no such image, a profile runc refuses...): 125, as docker run's
// and profgen record's own (exitcode.Tool).
const podmanFailed = exitcode.Tool

// engineWait returns the wait of a workload that the engine command cmd
// runs (done is closed once cmd has exited): its exit status, which
// podman run and docker start --attach pass on, unless failed (if set)
// makes it the engine's own failure, an error; or, when ctx ends first,
// remove the container, give cmd 30 s to exit and then kill it.
func engineWait(cmd *exec.Cmd, done <-chan struct{}, remove func(), failed func(int) error) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		select {
		case <-done:
			code := exitcode.Of(cmd.ProcessState)
			if failed != nil {
				if err := failed(code); err != nil {
					return code, err
				}
			}
			return code, nil
		case <-ctx.Done():
		}
		remove()
		select {
		case <-done:
		case <-time.After(30 * time.Second):
			cmd.Process.Kill()
			<-done
		}
		return -1, ctx.Err()
	}
}

// engineFlags are the arguments of `podman run` and `docker create` that
// opts asks for: binds as volumes, capabilities.
func engineFlags(opts LiveOptions) []string {
	var args []string
	for _, b := range opts.Binds {
		args = append(args, "-v", b.String())
	}
	for _, c := range opts.CapAdd {
		args = append(args, "--cap-add", c)
	}
	for _, c := range opts.CapDrop {
		args = append(args, "--cap-drop", c)
	}
	return args
}

// engineCommand runs an engine command that manages a container (kill,
// stop), its error the command's last line of error output.
func engineCommand(name string, args ...string) error {
	var stderr bytes.Buffer
	cmd := exec.Command(name, args...)
	cmd.Stderr = &stderr
	if err := cmd.Run(); err != nil {
		return engineError(name+" "+args[0], err, stderr.Bytes())
	}
	return nil
}

// lastLine passes what is written on to w (if not nil) and keeps the last
// non-empty line.
type lastLine struct {
	w    io.Writer
	mu   sync.Mutex
	buf  []byte
	last string
}

func (l *lastLine) Write(p []byte) (int, error) {
	l.mu.Lock()
	l.buf = append(l.buf, p...)
	for {
		i := bytes.IndexByte(l.buf, '\n')
		if i < 0 {
			break
		}
		if line := strings.TrimSpace(string(l.buf[:i])); line != "" {
			l.last = line
		}
		l.buf = l.buf[i+1:]
	}
	if len(l.buf) > 4096 {
		l.buf = l.buf[len(l.buf)-4096:]
	}
	l.mu.Unlock()
	if l.w == nil {
		return len(p), nil
	}
	return l.w.Write(p)
}

// String is the last line written (or the unfinished one after it).
func (l *lastLine) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	if line := strings.TrimSpace(string(l.buf)); line != "" {
		return line
	}
	return l.last
}
