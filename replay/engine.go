package replay

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"syscall"
	"time"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/learn"
)

// RuntimePodman runs the workload, an image and its command, with
// `podman run --security-opt seccomp=FILE`: podman, conmon, runc and the
// container descend from the podman command and share its fresh audit
// session.
const RuntimePodman learn.Runtime = "podman"

// startPodman starts `podman run --rm` of opts.Command (IMAGE [CMD...])
// under prof, in a fresh audit session told to watch.
func startPodman(opts LiveOptions, prof *learn.Profile, logFlag bool, watch func(uint32)) (*workload, error) {
	file, dir, err := ociProfileFile(prof, logFlag, "podman")
	if err != nil {
		return nil, err
	}
	name := runc.NewID("profgen-replay")
	args := []string{"run", "--rm", "--name", name, "--security-opt", "seccomp=" + file}
	if opts.NoNewPrivileges {
		args = append(args, "--security-opt", "no-new-privileges")
	}
	for _, b := range opts.Binds {
		args = append(args, "-v", b+":"+b+":ro")
	}
	args = append(append(args, opts.EngineArgs...), opts.Command...)
	cmd := exec.Command("podman", args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = opts.Stdin, opts.Stdout, opts.Stderr
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
	wait := engineWait(cmd, done, remove)
	return &workload{
		session: ses,
		done:    done,
		// podman run passes signals on to the container (--sig-proxy).
		terminate: func() error { return cmd.Process.Signal(syscall.SIGTERM) },
		wait:      wait,
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

// engineWait returns the wait of a workload that the engine command cmd
// runs (done is closed once cmd has exited): its exit status, which
// podman run and docker start --attach pass on; or, when ctx ends first,
// remove the container, give cmd 30 s to exit and then kill it.
func engineWait(cmd *exec.Cmd, done <-chan struct{}, remove func()) func(context.Context) (int, error) {
	return func(ctx context.Context) (int, error) {
		select {
		case <-done:
			return exitcode.Of(cmd.ProcessState), nil
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
