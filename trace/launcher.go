package trace

import (
	"bufio"
	"errors"
	"fmt"
	"io"
	"os"
	"runtime"
	"strconv"
	"strings"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/trace/audit"
)

// launcherArg, as argv[1], marks a re-execution of profgen (or of a test
// binary) as the log backend's launcher.
const launcherArg = "__profgen_launch"

// The launcher's protocol with the log backend (Log.Prepare and Log.Start):
//
//		argv: [argv0, launcherArg, FILTER_FD, STATUS_FD, FLAGS, PATH, ARGV...]
//
//	 1. On one locked OS thread, the launcher gives itself a fresh audit
//	    session by writing its login uid to /proc/thread-self/loginuid and
//	    writes "ses N\n" to STATUS_FD, or "nosession REASON\n" when the
//	    session cannot be changed.
//	 2. It reads the BPF program (struct sock_filter[]) from FILTER_FD until
//	    end of file. The backend writes it only once it knows the session, so
//	    no record of the target can precede that; an empty program means the
//	    backend gave up, and the launcher exits.
//	 3. It names its thread launcherComm, then, in one C call
//	    (seccompExec), sets no_new_privs, installs the filter with the
//	    seccomp(2) flags FLAGS (decimal; TSYNC is never set) on its own
//	    thread only, and execs PATH with ARGV: between the filter and the
//	    execve the thread makes no syscall of the Go runtime's, which an
//	    enforced profile could deny. The runtime's other threads stay
//	    unfiltered, so the only records of the launcher are those of this
//	    thread, under that name: its execve.
//	 4. The process keeps the thread's session and filter. STATUS_FD is
//	    close-on-exec: the backend reads end of file when the exec
//	    succeeded, "exec ERROR\n" otherwise.
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

// MaxFilterLen is the kernel's limit on instructions in one filter
// (BPF_MAXINSNS).
const MaxFilterLen = unix.BPF_MAXINSNS

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
	if len(args) < 5 {
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
	path, argv := args[3], args[4:]
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
	if err := setThreadName(launcherComm); err != nil {
		report(launcherError, err.Error())
		return launcherExitCode
	}
	filters, err := DecodeFilter(prog)
	if err != nil {
		report(launcherError, err.Error())
		return launcherExitCode
	}
	// Returns only on failure. The status pipe is written even when the
	// filter is loaded: a profile that denies write loses the message,
	// and the backend reports the launcher's exit status instead.
	execFailed, err := seccompExec(filters, uint(flags), path, argv, os.Environ())
	kind := launcherError
	if execFailed {
		kind = launcherExecError
	}
	report(kind, err.Error())
	return launcherExitCode
}

// setThreadName sets the calling thread's name (comm).
func setThreadName(name string) error {
	p, err := unix.BytePtrFromString(name)
	if err != nil {
		return err
	}
	if err := unix.Prctl(unix.PR_SET_NAME, uintptr(unsafe.Pointer(p)), 0, 0, 0); err != nil {
		return fmt.Errorf("set thread name: %w", err)
	}
	return nil
}

// installFilterProg sets no_new_privs and loads filters on the calling
// thread only, with the seccomp(2) flags (never TSYNC).
func installFilterProg(filters []unix.SockFilter, flags uint) error {
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return fmt.Errorf("set no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(filters)), Filter: &filters[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return fmt.Errorf("install seccomp filter: %w", e)
	}
	runtime.KeepAlive(filters)
	return nil
}

// ErrFilterTooLong is returned (wrapped) for a filter longer than the
// kernel's BPF_MAXINSNS.
var ErrFilterTooLong = errors.New("filter too long")

// DecodeFilter checks and converts a raw struct sock_filter program, in
// native byte order, as libseccomp exports it and seccomp(2) loads it.
func DecodeFilter(prog []byte) ([]unix.SockFilter, error) {
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(prog) == 0 || len(prog)%size != 0 {
		return nil, fmt.Errorf("seccomp filter: %d bytes is not a whole number of %d-byte instructions", len(prog), size)
	}
	n := len(prog) / size
	if n > MaxFilterLen {
		return nil, fmt.Errorf("seccomp filter: %w: %d instructions, more than the kernel's limit of %d", ErrFilterTooLong, n, MaxFilterLen)
	}
	filters := make([]unix.SockFilter, n)
	copy(unsafe.Slice((*byte)(unsafe.Pointer(&filters[0])), len(prog)), prog)
	return filters, nil
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
