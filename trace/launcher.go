package trace

import (
	"bufio"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/landlock"
	"github.com/profgen/profgen/internal/seccomp"
)

// launcherArg, as argv[1], marks a re-execution of profgen (or of a test
// binary) as the log backend's launcher.
const launcherArg = "__profgen_launch"

// The launcher's protocol with the log backend (Log.Prepare and Log.Start):
//
//	argv: [argv0, launcherArg, FILTER_FD, STATUS_FD, FLAGS, LANDLOCK_FD, PATH, ARGV...]
//
// LANDLOCK_FD is "-", or a descriptor from which the launcher reads a
// Landlock ruleset (internal/landlock.Ruleset as JSON) until end of file,
// first thing; it applies it in step 3, before the filter.
//
//  1. On one locked OS thread, the launcher gives itself a fresh audit
//     session by writing its login uid to /proc/thread-self/loginuid and
//     writes "ses N\n" to STATUS_FD, or "nosession REASON\n" when the
//     session cannot be changed.
//  2. It reads the BPF program (struct sock_filter[]) from FILTER_FD until
//     end of file. The backend writes it only once it knows the session, so
//     no record of the target can precede that; an empty program means the
//     backend gave up, and the launcher exits.
//  3. It names its thread launcherComm, then applies its ordered list of
//     restrictions (seccomp.ExecRestricted), today the one seccomp
//     filter, and execs: in one C call it sets no_new_privs, installs the
//     filter with the seccomp(2) flags FLAGS (decimal; TSYNC is never set)
//     on its own thread only, and execs PATH with ARGV: between the filter
//     and the execve the thread makes no syscall of the Go runtime's,
//     which an enforced profile could deny. Another kind of restriction
//     (Landlock) goes in the list before the filter. The runtime's other threads stay
//     unfiltered, so the only records of the launcher are those of this
//     thread, under that name: its execve.
//  4. The process keeps the thread's session and filter. STATUS_FD is
//     close-on-exec: the backend reads end of file when the exec
//     succeeded, "exec ERROR\n" otherwise.
//
// Errors before the filter is installed are reported as "error MSG\n".
const (
	launcherSes       = "ses"
	launcherNoSession = "nosession"
	launcherError     = "error"
	launcherExecError = "exec"
)

// launcherComm is the name of the launcher's thread while its filter is
// installed: the backend drops records of the launcher's pid under this
// name, except its execve of the target. The exec gives the process the
// target's name.
const launcherComm = "profgen-launch"

// launcherExitCode is the launcher's exit status when it fails before the
// target runs (as a shell does for a command it cannot run).
const launcherExitCode = 127

// MaybeLauncher runs the log backend's launcher when profgen was re-executed
// as one, and returns otherwise. It must be called first thing in main (and
// in TestMain of packages whose tests record with the log backend).
func MaybeLauncher() {
	if len(os.Args) < 2 || os.Args[1] != launcherArg {
		return
	}
	os.Exit(runLauncher(os.Args[2:]))
}

// runLauncher does what the protocol above says and returns an exit status
// when it cannot exec the target.
func runLauncher(args []string) int {
	// Everything happens on this thread: the session id and the filter
	// belong to the thread that execs.
	runtime.LockOSThread()
	if len(args) < 6 {
		fmt.Fprintln(os.Stderr, "profgen launcher: bad arguments")
		return launcherExitCode
	}
	filterFD, err1 := strconv.Atoi(args[0])
	statusFD, err2 := strconv.Atoi(args[1])
	flags, err3 := strconv.ParseUint(args[2], 10, 32)
	if err1 != nil || err2 != nil || err3 != nil || flags&unix.SECCOMP_FILTER_FLAG_TSYNC != 0 {
		fmt.Fprintln(os.Stderr, "profgen launcher: bad arguments")
		return launcherExitCode
	}
	path, argv := args[4], args[5:]
	var ruleset *landlock.Ruleset
	if args[3] != "-" {
		fd, err := strconv.Atoi(args[3])
		if err != nil {
			fmt.Fprintln(os.Stderr, "profgen launcher: bad arguments")
			return launcherExitCode
		}
		f := os.NewFile(uintptr(fd), "launcher-landlock")
		data, err := io.ReadAll(f)
		f.Close()
		ruleset = &landlock.Ruleset{}
		if err == nil {
			err = json.Unmarshal(data, ruleset)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "profgen launcher: landlock ruleset: %v\n", err)
			return launcherExitCode
		}
	}
	unix.CloseOnExec(statusFD)
	status := os.NewFile(uintptr(statusFD), "launcher-status")
	report := func(kind, msg string) {
		fmt.Fprintf(status, "%s %s\n", kind, strings.ReplaceAll(msg, "\n", " "))
	}

	ses, err := audit.NewThreadSession()
	if err != nil {
		report(launcherNoSession, err.Error())
	} else {
		report(launcherSes, strconv.FormatUint(uint64(ses), 10))
	}

	filter := os.NewFile(uintptr(filterFD), "launcher-filter")
	prog, err := io.ReadAll(filter)
	filter.Close()
	if err != nil {
		report(launcherError, fmt.Sprintf("read filter: %v", err))
		return launcherExitCode
	}
	if len(prog) == 0 {
		return launcherExitCode // the backend gave up
	}
	if err := seccomp.SetThreadName(launcherComm); err != nil {
		report(launcherError, err.Error())
		return launcherExitCode
	}
	filters, err := seccomp.DecodeFilter(prog)
	if err != nil {
		report(launcherError, err.Error())
		return launcherExitCode
	}
	// Returns only on failure. The status pipe is written even when the
	// filter is loaded: a profile that denies write loses the message,
	// and the backend reports the launcher's exit status instead.
	var restrictions []seccomp.Restriction
	if ruleset != nil {
		restrictions = append(restrictions, ruleset)
	}
	restrictions = append(restrictions, &seccomp.Filter{Program: filters, Flags: uint(flags)})
	execFailed, err := seccomp.ExecRestricted(restrictions, path, argv, os.Environ())
	kind := launcherError
	if execFailed {
		kind = launcherExecError
	}
	report(kind, err.Error())
	return launcherExitCode
}

// launcherStatus reads one status line of the launcher; io.EOF means the
// pipe was closed without one.
func launcherStatus(r *bufio.Reader) (kind, msg string, err error) {
	line, err := r.ReadString('\n')
	if err != nil {
		if err != io.EOF {
			return "", "", err
		}
		if line == "" {
			return "", "", io.EOF
		}
	}
	kind, msg, _ = strings.Cut(strings.TrimSuffix(line, "\n"), " ")
	return kind, msg, nil
}
