// Command profgen-landlock is the small launcher profgen-runc puts in front
// of a container's process for the annotation io.profgen.landlock: it
// reads a Landlock ruleset (internal/landlock.Ruleset as JSON, as
// profgen-runc converts it from Landlock's configuration format), applies
// it to itself and execs the container's command, which inherits it.
// With -seccomp it then loads a seccomp filter (raw struct sock_filter in
// native byte order, compiled on the host from the container's
// linux.seccomp, which profgen-runc then takes from the runtime) with the
// seccomp(2) flags of -seccomp-flags, last, right before the execve: the
// launcher's own calls (Go's start-up, Landlock's) run before the filter
// and need not be in the workload's profile.
//
//	profgen-landlock [-seccomp FILTER.bpf [-seccomp-flags N]] RULESET.json -- COMMAND [ARG...]
//
// It imports no cgo package, so that it builds static (CGO_ENABLED=0) and
// runs in any container image: profgen-runc bind-mounts it into the
// container read-only. Exit status 125 when the ruleset or the filter
// cannot be read or applied (the command never runs without them), 127
// when COMMAND cannot be executed.
package main

import (
	"bytes"
	"encoding/binary"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"os"
	"os/exec"
	"runtime"
	"syscall"
	"unsafe"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/landlock"
)

func main() {
	os.Exit(run(os.Args[1:]))
}

const usage = "profgen-landlock: usage: profgen-landlock [-seccomp FILTER.bpf [-seccomp-flags N]] RULESET.json -- COMMAND [ARG...]"

func run(args []string) int {
	fs := flag.NewFlagSet("profgen-landlock", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	filterFile := fs.String("seccomp", "", "")
	filterFlags := fs.Uint("seccomp-flags", 0, "")
	if err := fs.Parse(args); err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %v\n%s\n", err, usage)
		return 125
	}
	args = fs.Args()
	if len(args) < 3 || args[1] != "--" {
		fmt.Fprintln(os.Stderr, usage)
		return 125
	}
	data, err := os.ReadFile(args[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %v\n", err)
		return 125
	}
	var r landlock.Ruleset
	if err := json.Unmarshal(data, &r); err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %s: %v\n", args[0], err)
		return 125
	}
	// Read before the ruleset applies, which need not allow it.
	var prog []unix.SockFilter
	if *filterFile != "" {
		if prog, err = readFilter(*filterFile); err != nil {
			fmt.Fprintf(os.Stderr, "profgen-landlock: seccomp filter %s: %v\n", *filterFile, err)
			return 125
		}
	}
	cmd := args[2:]
	path, err := exec.LookPath(cmd[0])
	if err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: %v\n", err)
		return 127
	}
	r.Warn = func(s string) { fmt.Fprintf(os.Stderr, "profgen-landlock: warning: %s\n", s) }
	// Landlock and seccomp restrict the calling thread, which execs.
	runtime.LockOSThread()
	if err := r.Apply(); err != nil {
		fmt.Fprintf(os.Stderr, "profgen-landlock: landlock: %v\n", err)
		return 125
	}
	if prog == nil {
		err = syscall.Exec(path, cmd, os.Environ())
		fmt.Fprintf(os.Stderr, "profgen-landlock: exec %s: %v\n", path, err)
		return 127
	}
	loaded, err := filterExec(prog, *filterFlags, path, cmd, os.Environ())
	if !loaded {
		fmt.Fprintf(os.Stderr, "profgen-landlock: seccomp filter %s: %v\n", *filterFile, err)
		return 125
	}
	// Under the filter: these calls may be denied, the status is not.
	fmt.Fprintf(os.Stderr, "profgen-landlock: exec %s: %v\n", path, err)
	return 127
}

// readFilter reads a raw classic-BPF program: whole struct sock_filter
// instructions in native byte order, at most the kernel's BPF_MAXINSNS.
func readFilter(file string) ([]unix.SockFilter, error) {
	data, err := os.ReadFile(file)
	if err != nil {
		return nil, err
	}
	const size = int(unsafe.Sizeof(unix.SockFilter{}))
	if len(data) == 0 || len(data)%size != 0 || len(data)/size > unix.BPF_MAXINSNS {
		return nil, fmt.Errorf("%d bytes is not a program of 1 to %d %d-byte instructions", len(data), unix.BPF_MAXINSNS, size)
	}
	prog := make([]unix.SockFilter, len(data)/size)
	if err := binary.Read(bytes.NewReader(data), binary.NativeEndian, prog); err != nil {
		return nil, err
	}
	return prog, nil
}

// filterExec sets no_new_privs, loads prog with the seccomp(2) flags on
// the calling (locked) thread and execs path with argv and env. Every
// string is converted before the filter is loaded, and both calls are
// raw system calls (no scheduler hooks), so that between the filter and
// the execve the thread makes no call of its own: the workload's profile
// needs only execve (and what a signal's return, rt_sigreturn, may add).
// It returns only on failure, saying whether the filter was loaded (then
// the thread runs under it and the execve failed).
func filterExec(prog []unix.SockFilter, flags uint, path string, argv, env []string) (loaded bool, err error) {
	pathp, err := unix.BytePtrFromString(path)
	if err != nil {
		return false, err
	}
	argvp, err := syscall.SlicePtrFromStrings(argv)
	if err != nil {
		return false, err
	}
	envp, err := syscall.SlicePtrFromStrings(env)
	if err != nil {
		return false, err
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		return false, fmt.Errorf("set no_new_privs: %w", err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, uintptr(flags), uintptr(unsafe.Pointer(&fprog))); e != 0 {
		return false, fmt.Errorf("seccomp(SECCOMP_SET_MODE_FILTER, %#x): %w", flags, e)
	}
	_, _, e := unix.RawSyscall(unix.SYS_EXECVE, uintptr(unsafe.Pointer(pathp)), uintptr(unsafe.Pointer(&argvp[0])), uintptr(unsafe.Pointer(&envp[0])))
	runtime.KeepAlive(prog)
	runtime.KeepAlive(argvp)
	runtime.KeepAlive(envp)
	return true, e
}
