// Command profgen-runc is an OCI runtime that records the containers it
// creates. It has runc's command line and passes every call to the real
// runtime (runc on the PATH, or --profgen-runtime PATH) unchanged; on create
// it also starts a detached recorder that counts every syscall of the
// container's cgroup from the entrypoint's execve on and writes a profgen
// recording when the container's last process exits or the container is
// deleted. See docs/containers.md.
//
// Its own global flags, removed before the real runtime is called:
//
//	--profgen-runtime PATH     the real OCI runtime (default: runc on the PATH)
//	--profgen-record-dir DIR   where recordings of containers without the
//	                           io.profgen.record annotation go, as DIR/ID.json
//	                           (default /var/lib/profgen/recordings)
//
// profgen-runc --help (or -h, or help) prints these and the annotations it
// reads (help.go) before the real runtime's help.
package main

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/exitcode"
)

// version is set by the Makefile (-ldflags -X main.version=...).
var version = "dev"

// Annotations read from the bundle's config.json.
const (
	// AnnotationRecord names the file the container's recording goes to
	// (an absolute path).
	AnnotationRecord = "io.profgen.record"
	// AnnotationImage names the container's image, for the recording's
	// metadata, when the engine does not.
	AnnotationImage = "io.profgen.image"
)

// DefaultRecordDir is where recordings go without io.profgen.record.
const DefaultRecordDir = "/var/lib/profgen/recordings"

// stateDir holds one lock file per recorded container, held by its recorder
// until the recording is written, so that delete can wait for it.
const stateDir = "/run/profgen-runc"

func main() {
	if os.Getenv(recorderEnv) != "" {
		os.Exit(runRecorder())
	}
	os.Exit(run(os.Args[1:]))
}

// run handles one call of the wrapper and returns its exit status.
func run(args []string) int {
	inv, err := parseArgs(args)
	if err != nil {
		fmt.Fprintf(os.Stderr, "profgen-runc: %v\n", err)
		return exitcode.Failed
	}
	if inv.wantsHelp() {
		return inv.help()
	}
	runtime, err := findRuntime(inv.runtime)
	if err != nil {
		inv.fail(err)
		return exitcode.Failed
	}
	switch inv.command {
	case "create":
		return inv.create(runtime)
	case "run":
		inv.fail(errors.New("run is not supported with recording: the engine must use create and start (podman, docker, containerd and CRI-O do)"))
		return exitcode.Failed
	case "delete":
		return inv.delete(runtime)
	case "start":
		// A container created through the wrapper is never started
		// unrecorded: its recorder must still hold its lock.
		// A pod's sandbox (pause) container was created unrecorded.
		if id := lastPositional(inv.rest); id != "" && !recorderRunning(id) && !inv.isSandbox(runtime, id) {
			inv.fail(fmt.Errorf("start %s: the container's recorder is not running (it was killed?): refusing to start it unrecorded; delete it and create it again", id))
			return exitcode.Failed
		}
		if id := lastPositional(inv.rest); id != "" {
			markStarted(id)
		}
	case "kill":
		if id := firstPositional(inv.rest); id != "" {
			markStopped(id)
		}
	}
	return inv.execRuntime(runtime)
}

// execRuntime replaces profgen-runc by the real runtime with the same
// global options, command and arguments; it returns only when the exec
// failed, having reported it.
func (inv *invocation) execRuntime(runtime string) int {
	argv := append(append([]string{runtime}, inv.global...), inv.command)
	if inv.command == "" {
		argv = argv[:len(argv)-1]
	}
	argv = append(argv, inv.rest...)
	err := unix.Exec(runtime, argv, os.Environ())
	inv.fail(fmt.Errorf("exec %s: %w", runtime, err))
	return exitcode.Failed
}

// findRuntime resolves the real runtime and makes sure it is not this
// wrapper.
func findRuntime(flag string) (string, error) {
	name := flag
	if name == "" {
		name = "runc"
	}
	path, err := exec.LookPath(name)
	if err != nil && flag == "" {
		// Engines do not always pass a PATH with the sbin directories
		// (podman kill runs the runtime with its own): look where
		// Debian and most distributions install runc.
		for _, dir := range []string{"/usr/local/sbin", "/usr/local/bin", "/usr/sbin", "/usr/bin", "/sbin", "/bin"} {
			if p := filepath.Join(dir, name); unix.Access(p, unix.X_OK) == nil {
				path, err = p, nil
				break
			}
		}
	}
	if err != nil {
		if flag == "" {
			return "", errors.New("no runc on the PATH or in /usr/sbin, /usr/bin: install runc or name the real OCI runtime with --profgen-runtime PATH")
		}
		return "", fmt.Errorf("--profgen-runtime %s: no such executable", flag)
	}
	path, err = filepath.Abs(path)
	if err != nil {
		return "", err
	}
	var self, other unix.Stat_t
	if unix.Stat("/proc/self/exe", &self) == nil && unix.Stat(path, &other) == nil &&
		self.Dev == other.Dev && self.Ino == other.Ino {
		return "", fmt.Errorf("the real runtime %s is profgen-runc itself: name the real one with --profgen-runtime PATH", path)
	}
	return path, nil
}

// realCmd returns the real runtime's command for subcommand with rest,
// attached to the wrapper's standard streams.
func (inv *invocation) realCmd(runtime string, rest []string) *exec.Cmd {
	args := append(append(append([]string(nil), inv.global...), inv.command), rest...)
	cmd := exec.Command(runtime, args...)
	cmd.Stdin, cmd.Stdout, cmd.Stderr = os.Stdin, os.Stdout, os.Stderr
	return cmd
}

// runReal runs the real runtime and returns its exit status.
func runReal(cmd *exec.Cmd) int {
	if err := cmd.Run(); err != nil {
		var ee *exec.ExitError
		if !errors.As(err, &ee) {
			fmt.Fprintf(os.Stderr, "profgen-runc: %v\n", err)
			return exitcode.Failed
		}
	}
	return exitcode.Of(cmd.ProcessState)
}

// delete runs the real delete, then waits (a bounded time) for the
// container's recorder to write its recording, so that once the engine
// removed the container its recording is complete.
func (inv *invocation) delete(runtime string) int {
	code := runReal(inv.realCmd(runtime, inv.rest))
	if code != 0 {
		// The container was not deleted (it still runs without
		// --force): its recorder goes on.
		return code
	}
	if id := lastPositional(inv.rest); id != "" {
		if err := waitRecorder(id); err != nil {
			inv.fail(err)
		}
	}
	return code
}

// lastPositional returns the last argument that is not a flag: the
// container id of start, delete and the like.
func lastPositional(args []string) string {
	id := ""
	for _, a := range args {
		if _, _, _, isFlag := flagName(a); !isFlag {
			id = a
		}
	}
	return id
}

// fail reports err on standard error and, when the engine gave the runtime a
// log file, there too in its format: engines such as podman read a failed
// runtime's error from that log.
func (inv *invocation) fail(err error) {
	msg := "profgen-runc: " + err.Error()
	fmt.Fprintln(os.Stderr, msg)
	appendLog(inv.logPath, inv.logFormat, "error", msg)
}
