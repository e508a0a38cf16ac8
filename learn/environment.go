package learn

import (
	"fmt"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

// OriginEnvironment marks an entry added because the recording shows a
// call whose program makes it, in another environment or at another time,
// together with calls this run did not make (envClasses).
const OriginEnvironment Origin = "environment"

// envValue is one call a class allows: a rule and its symbolic name, and
// the arguments of a call the rule allows (to see whether the profile
// already allows it).
type envValue struct {
	name string
	rule Rule
	args [6]uint64
}

// envCall is what a class allows of one syscall. With no values the
// syscall is allowed whatever its arguments (none is pinned).
type envCall struct {
	syscall string
	values  []envValue
	// archs restricts the values' numbering to these architectures;
	// nil means every architecture.
	archs []abi.Arch
}

// envClass is a set of calls a program built the way glibc, Go's runtime,
// libuv or Python build programs makes or not depending on where it runs
// (what its standard streams are, whether $PWD is set) or on timing (when
// its allocator returns memory). When a recording shows the trigger (a
// call that takes the branch, or that shows the program owns the code
// that makes the calls), the profile allows the calls of every branch.
// Each class allows only calls that read or change the caller's own state:
// never one that reaches another process or a device (docs/arguments.md,
// "Calls that depend on the environment or on timing").
type envClass struct {
	name string
	// trigger returns the recorded syscalls of p that show the class's
	// trigger, or none.
	trigger func(p *Profile) []string
	calls   []envCall
	why     string
}

// recordedAny returns a trigger that fires on any of names recorded.
func recordedAny(names ...string) func(p *Profile) []string {
	return func(p *Profile) []string {
		var out []string
		for _, n := range names {
			if s := p.Lookup(n); s != nil && s.Origin == OriginRecorded {
				out = append(out, n)
			}
		}
		return out
	}
}

// argIs is the value of a 32-bit argument arg equal to v, named name.
func argIs(arg int, v uint64, name string) envValue {
	var e envValue
	e.name = name
	e.rule[arg] = MaskedEqual{Mask: mask32, Value: v & mask32}
	e.args[arg] = v
	return e
}

// socketType is getsockopt(fd, SOL_SOCKET, SO_TYPE): libuv asks a socket
// it was given its type.
var socketType = func() envValue {
	v := argIs(1, unix.SOL_SOCKET, "SOL_SOCKET, SO_TYPE")
	v.rule[2] = MaskedEqual{Mask: mask32, Value: unix.SO_TYPE}
	v.args[2] = unix.SO_TYPE
	return v
}()

// familyValues are the members of every ioctl family (families.go), as
// values of ioctl's request argument.
func familyValues() []envValue {
	var out []envValue
	for _, f := range ioctlFamilies {
		for i, req := range f.requests {
			out = append(out, argIs(ioctlRequestArg, req, f.names[i]))
		}
	}
	return out
}

// ownMemoryAdvice are the madvise advice values that only change how the
// caller's own pages are backed (resident or not, huge pages or not, read
// ahead or not): the ones allocators and runtimes use to return or
// prefault memory. Left out, and allowed only as recorded: MADV_REMOVE
// (punches a hole in the file or shared memory behind the range, which
// other processes see), MADV_MERGEABLE/UNMERGEABLE (KSM merges pages with
// other processes': a timing side channel), MADV_COLD/PAGEOUT (evict page
// cache other processes share), MADV_DONTFORK/DOFORK/WIPEONFORK/
// KEEPONFORK (what a child inherits), MADV_DONTDUMP/DODUMP (core dumps),
// MADV_GUARD_*, and MADV_HWPOISON/SOFT_OFFLINE (act on physical pages).
// The values are asm-generic/mman-common.h's, which x/sys/unix gives for
// the architectures profgen is built for.
var ownMemoryAdvice = []envValue{
	argIs(2, unix.MADV_NORMAL, "MADV_NORMAL"),
	argIs(2, unix.MADV_RANDOM, "MADV_RANDOM"),
	argIs(2, unix.MADV_SEQUENTIAL, "MADV_SEQUENTIAL"),
	argIs(2, unix.MADV_WILLNEED, "MADV_WILLNEED"),
	argIs(2, unix.MADV_DONTNEED, "MADV_DONTNEED"),
	argIs(2, unix.MADV_FREE, "MADV_FREE"),
	argIs(2, unix.MADV_HUGEPAGE, "MADV_HUGEPAGE"),
	argIs(2, unix.MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE"),
	argIs(2, unix.MADV_POPULATE_READ, "MADV_POPULATE_READ"),
	argIs(2, unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE"),
	argIs(2, unix.MADV_COLLAPSE, "MADV_COLLAPSE"),
}

// statCalls are the calls that read what a descriptor or a path is.
var statCalls = []string{"fstat", "fstat64", "newfstatat", "fstatat64", "stat", "stat64", "lstat", "lstat64", "statx"}

// threadTrigger fires when the recording shows a thread created: clone3
// (whose flags seccomp cannot see), or clone with a rule that allows
// CLONE_THREAD.
func threadTrigger(p *Profile) []string {
	var out []string
	if s := p.Lookup("clone3"); s != nil && s.Origin == OriginRecorded {
		out = append(out, "clone3")
	}
	if s := p.Lookup("clone"); s != nil && s.Origin == OriginRecorded && allowsBit(s, 0, unix.CLONE_THREAD) {
		out = append(out, "clone with CLONE_THREAD")
	}
	return out
}

// allowsBit reports whether some call with bit set in argument arg is
// allowed by s's rules, as far as the matchers tell: a matcher of another
// kind counts as allowing it.
func allowsBit(s *Syscall, arg int, bit uint64) bool {
	if len(s.Rules) == 0 {
		return true
	}
	for _, r := range s.Rules {
		switch m := r[arg].(type) {
		case nil:
			return true
		case Equal:
			if m.Value&bit != 0 {
				return true
			}
		case MaskedEqual:
			if m.Mask&bit == 0 || m.Value&bit != 0 {
				return true
			}
		default:
			return true
		}
	}
	return false
}

// envClasses are the classes learn applies. docs/arguments.md has the
// table and the reasoning; TestEnvClasses* check each.
var envClasses = []envClass{
	{
		name: "descriptor kind",
		// glibc's stdio asks isatty (TCGETS) only when fstat says a
		// standard stream is a character device (a terminal, /dev/null);
		// Python does when it is not a regular file; libuv sets pipes,
		// sockets and terminals non-blocking (FIONBIO) and close-on-exec
		// (FIOCLEX) after fstat, and asks a socket its type and address.
		// Which of them a run makes depends on the descriptors it got.
		trigger: recordedAny(append(slices.Clone(statCalls), "ioctl", "fcntl", "fcntl64")...),
		calls: []envCall{
			{syscall: "ioctl", values: familyValues(), archs: genericIoctlArchs},
			{syscall: "getsockopt", values: []envValue{socketType}, archs: genericIoctlArchs},
			{syscall: "getsockname"},
		},
		why: "what a run makes of these depends on what its descriptors are (files, pipes, sockets, /dev/null, a terminal), which it learns with the recorded calls",
	},
	{
		name: "working directory",
		// Go's os.Getwd returns $PWD when a stat of "." and one of $PWD
		// agree and calls getcwd(2) only otherwise: with PWD set (a
		// shell) a run shows two stats, without (a container) getcwd.
		trigger: recordedAny(statCalls...),
		calls:   []envCall{{syscall: "getcwd"}},
		why:     "Go's os.Getwd stats . and $PWD and calls getcwd only when PWD is unset or names another directory (a container has no PWD)",
	},
	{
		name: "own memory",
		// Go's scavenger returns memory (MADV_NOHUGEPAGE, MADV_DONTNEED)
		// only when it runs; glibc trims an arena and a freed thread
		// stack with MADV_DONTNEED; jemalloc, mimalloc and V8 use
		// MADV_FREE: all on timing.
		trigger: func(p *Profile) []string {
			return append(recordedAny("madvise")(p), threadTrigger(p)...)
		},
		calls: []envCall{{syscall: "madvise", values: ownMemoryAdvice, archs: genericIoctlArchs}},
		why:   "allocators and runtimes return and back their own memory with these when timing says so (Go's scavenger, glibc's trim of an arena or a thread's stack)",
	},
}

// addEnvClasses adds to p, learned from a recording on architecture
// p.Arch, what every class whose trigger the recording shows allows and
// p does not allow yet, with a note on each entry it changes. With
// namesOnly (--args none) a call the class allows only with some values is
// not added (allowing the whole syscall would allow TIOCSTI or
// MADV_HWPOISON): the profile says so in a note.
func addEnvClasses(p *Profile, namesOnly bool) error {
	type addition struct {
		s     Syscall
		class string
	}
	var adds []addition
	for _, c := range envClasses {
		trig := c.trigger(p)
		if len(trig) == 0 {
			continue
		}
		for _, call := range c.calls {
			if _, err := abi.SyscallNumber(p.Arch, call.syscall); err != nil {
				continue // not on this architecture
			}
			cur := p.Lookup(call.syscall)
			if cur != nil && cur.Unconditional() && cur.Action == Allow {
				continue
			}
			if cur != nil && cur.Action != Allow {
				continue // the profile decided otherwise (not a recorded call)
			}
			var rules []Rule
			var names []string
			if len(call.values) > 0 {
				if call.archs != nil && !slices.Contains(call.archs, p.Arch) {
					continue
				}
				if namesOnly {
					p.Notes = append(p.Notes, fmt.Sprintf("%s not added for the %s class (the recording shows %s): with names only it would allow every value; learn with argument shapes for a profile that holds in other environments (docs/arguments.md)",
						call.syscall, c.name, strings.Join(trig, ", ")))
					continue
				}
				for _, v := range call.values {
					if p.Verdict(call.syscall, v.args) == Allow {
						continue
					}
					rules = append(rules, v.rule)
					names = append(names, v.name)
				}
				if len(rules) == 0 {
					continue
				}
			}
			what := call.syscall
			if len(names) > 0 {
				what += " " + strings.Join(names, ", ")
			}
			note := fmt.Sprintf("%s allowed (%s class): the recording shows %s; %s (docs/arguments.md)", what, c.name, strings.Join(trig, ", "), c.why)
			adds = append(adds, addition{Syscall{Name: call.syscall, Action: Allow, Rules: rules, Origin: OriginEnvironment, Reason: c.name + " class", Notes: []string{note}}, c.name})
		}
	}
	b := NewBuilder(p)
	defer b.Done()
	for _, a := range adds {
		if err := b.Add(a.s); err != nil {
			return fmt.Errorf("%s class: %w", a.class, err)
		}
	}
	return nil
}
