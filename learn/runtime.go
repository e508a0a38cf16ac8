package learn

import (
	"fmt"
	"slices"
	"sort"
)

// Runtime names the container runtime that will load the profile.
type Runtime string

// Runtimes profgen knows the own syscalls of.
const (
	RuntimeNone Runtime = "none"
	RuntimeRunc Runtime = "runc"
	RuntimeCrun Runtime = "crun"
)

// runtimeSyscalls lists what each runtime itself calls after loading the
// filter, up to and including the container process's execve. The runc
// list was found by running containers under a logging profile on this
// machine (runc 1.1.5), 30 runs each with noNewPrivileges true and false,
// and is the union of both: without no_new_privs (Docker's default) runc
// loads the filter before it drops privileges and changes directory, so
// capset, setuid, chdir and the rest run under the filter too. The test
// TestRuncRuntimeSyscalls in package replay repeats the experiment; see
// docs/runtimes.md for the method and the evidence. The crun list comes
// from crun's source and notes and was not verified here.
var runtimeSyscalls = map[Runtime][]string{
	RuntimeNone: nil,
	RuntimeRunc: {
		// Every run, with or without no_new_privs.
		"close", "epoll_ctl", "execve", "fstatfs", "getdents64", "getpid", "openat", "write",
		// Some runs: Go runtime threads of runc init.
		"futex", "rt_sigreturn",
		// Every run without no_new_privs: finishing the process's
		// credentials, capabilities and working directory, and
		// looking up the executable (faccessat2; on ENOSYS Go would
		// fall back to faccessat plus getuid, geteuid, getgid and
		// getegid).
		"capget", "capset", "chdir", "faccessat2", "fcntl", "fstat", "getcwd", "getppid",
		"newfstatat", "prctl", "read", "setgid", "setgroups", "setuid",
	},
	RuntimeCrun: {"close"},
}

// RuntimeSyscalls returns the syscalls runtime r makes under the profile,
// sorted.
func RuntimeSyscalls(r Runtime) []string {
	out := slices.Clone(runtimeSyscalls[r])
	sort.Strings(out)
	return out
}

// ParseRuntime checks a runtime name.
func ParseRuntime(s string) (Runtime, error) {
	r := Runtime(s)
	if _, ok := runtimeSyscalls[r]; !ok {
		var names []string
		for k := range runtimeSyscalls {
			names = append(names, string(k))
		}
		sort.Strings(names)
		return "", fmt.Errorf("unknown runtime %q (want one of %v)", s, names)
	}
	return r, nil
}
