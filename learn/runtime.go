package learn

import (
	"fmt"
	"slices"
	"sort"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/argspec"
)

// Loader names the filter loader: the container runtime that will load
// the profile, whose own calls after loading it join the profile (emit
// --runtime). Where a workload runs is another concept, the engine
// (internal/engine), whose row names the loader it uses.
type Loader string

// Loaders profgen knows the own syscalls of.
const (
	LoaderNone Loader = "none"
	LoaderRunc Loader = "runc"
	LoaderCrun Loader = "crun"
)

// runtimeCalls lists what each runtime itself calls after loading the
// filter, up to and including the container process's execve, with the
// argument values it uses where profgen pins the argument: runc's prctl
// calls must not open prctl to every option.
//
// runc (1.1.5): the names were found by running containers under a logging
// profile on this machine, 30 runs each with noNewPrivileges true and
// false, and are the union of both: without no_new_privs (Docker's
// default) runc loads the filter before it drops privileges and changes
// directory, so capset, setuid, chdir and the rest run under the filter
// too. The argument values were read from `strace -f` of runc init after
// its PR_SET_SECCOMP and from runc's source (finalizeNamespace: keep-caps,
// bounding set and ambient capabilities; closing and marking descriptors
// close-on-exec; opening /proc/self/fd, the exec fifo and /etc/passwd; Go
// runtime futexes and heap growth). TestRuncRuntimeSyscalls in package
// replay checks, under a logging profile of exactly these rules, that runc
// makes no call outside them. See docs/runtimes.md.
//
// crun: from crun's source and notes. emit.TestCrunBPFAnnotation runs a
// crun 1.8 container (no_new_privs) under a filter of the workload's calls,
// execve and this list only, and it starts and runs (crun refuses this
// machine's hybrid cgroup layout unless the test covers cgroup.controllers
// in a private mount namespace).
var runtimeCalls = map[Loader][]fixedCall{
	LoaderNone: nil,
	LoaderRunc: append(slices.Clone(runcNoNewPrivs), runcPrivileged...),
	LoaderCrun: {{name: "close"}},
}

// runcNoNewPrivs is what runc calls under the filter on every run, also
// with noNewPrivileges true, when it loads the filter just before the
// execve of the container process (measured as for runtimeCalls: 30 runs
// with noNewPrivileges true; TestRuncNoNewPrivilegesSyscalls in package
// replay re-checks it).
var runcNoNewPrivs = []fixedCall{
	// Every run, with or without no_new_privs.
	{name: "close"}, {name: "epoll_ctl"}, {name: "execve"}, {name: "fstatfs"},
	{name: "getdents64"}, {name: "getpid"}, {name: "write"},
	{name: "openat", rules: onlyBits(2, unix.O_WRONLY|unix.O_CLOEXEC)},
	// Some runs: Go runtime threads of runc init.
	{name: "futex", rules: anyOf(1, futexCmdMask, futexWait, futexWake)},
	{name: "rt_sigreturn"},
	{name: "mmap", rules: onlyBits(2, unix.PROT_READ|unix.PROT_WRITE)},
	{name: "mprotect", rules: onlyBits(2, unix.PROT_READ|unix.PROT_WRITE)},
}

// runcPrivileged is what runc calls under the filter only without
// no_new_privs (Docker's default): finishing the process's credentials,
// capabilities and working directory, and looking up the executable
// (faccessat2; on ENOSYS Go would fall back to faccessat plus getuid,
// geteuid, getgid and getegid).
var runcPrivileged = []fixedCall{
	{name: "capget"}, {name: "capset"}, {name: "chdir"}, {name: "faccessat2"},
	{name: "fstat"}, {name: "getcwd"}, {name: "getppid"}, {name: "newfstatat"},
	{name: "read"}, {name: "setgid"}, {name: "setgroups"}, {name: "setuid"},
	{name: "fcntl", rules: anyOf(1, mask32, unix.F_SETFD, unix.F_GETFL, unix.F_SETFL)},
	{name: "prctl", rules: anyOf(0, mask32, unix.PR_SET_KEEPCAPS, unix.PR_CAPBSET_DROP, unix.PR_CAP_AMBIENT)},
}

// runtimeCallsFor returns what runtime r calls under the filter; with
// noNewPrivs (the container runs with no_new_privs) only what it calls
// then. Only runc's list differs: crun loads the filter just before
// execve either way.
func runtimeCallsFor(r Loader, noNewPrivs bool) []fixedCall {
	if r == LoaderRunc && noNewPrivs {
		return runcNoNewPrivs
	}
	return runtimeCalls[r]
}

// futexCmdMask is the mask the recorder captures a futex op under
// (argspec.Table: without FUTEX_PRIVATE_FLAG and FUTEX_CLOCK_REALTIME).
var futexCmdMask = argspec.Lookup("futex", 1).Mask

const (
	mask32 = 0xffffffff
	// FUTEX_WAIT and FUTEX_WAKE (linux/futex.h; not in x/sys/unix).
	futexWait = 0
	futexWake = 1
)

// anyOf allows argument arg to be any of values, compared under mask.
func anyOf(arg int, mask uint64, values ...uint64) []Rule {
	rules := make([]Rule, len(values))
	for i, v := range values {
		rules[i][arg] = MaskedEqual{Mask: mask, Value: v & mask}
	}
	return rules
}

// onlyBits allows the 32-bit flags argument arg to hold no bits but bits.
func onlyBits(arg int, bits uint64) []Rule {
	var r Rule
	r[arg] = MaskedEqual{Mask: mask32 &^ bits, Value: 0}
	return []Rule{r}
}

// LoaderSyscalls returns the names of the syscalls runtime r makes under
// the profile, sorted.
func LoaderSyscalls(r Loader) []string {
	return LoaderSyscallsNNP(r, false)
}

// LoaderSyscallsNNP is LoaderSyscalls for a container run with
// no_new_privs when noNewPrivs is true.
func LoaderSyscallsNNP(r Loader, noNewPrivs bool) []string {
	var out []string
	for _, c := range runtimeCallsFor(r, noNewPrivs) {
		out = append(out, c.name)
	}
	sort.Strings(out)
	return out
}

// ParseLoader checks a runtime name.
func ParseLoader(s string) (Loader, error) {
	r := Loader(s)
	if _, ok := runtimeCalls[r]; !ok {
		var names []string
		for k := range runtimeCalls {
			names = append(names, string(k))
		}
		sort.Strings(names)
		return "", fmt.Errorf("unknown runtime %q (want one of %v)", s, names)
	}
	return r, nil
}
