package learn

import (
	"fmt"
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
// filter and before the container process's execve. They were found by
// running containers under a logging profile on this kind of machine; see
// docs/runtimes.md for the method and the evidence.
var runtimeSyscalls = map[Runtime][]string{
	RuntimeNone: nil,
	RuntimeRunc: {"close", "epoll_ctl", "fstatfs", "futex", "getdents64", "getpid", "openat", "rt_sigreturn", "write"},
	RuntimeCrun: {"close"},
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

// RuntimeSyscalls returns the syscalls runtime r makes under the profile.
func RuntimeSyscalls(r Runtime) []string { return runtimeSyscalls[r] }
