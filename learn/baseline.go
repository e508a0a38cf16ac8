package learn

import "golang.org/x/sys/unix"

// fixedCall is a syscall a profile allows whatever the recording saw, with
// the argument values it uses where the argument is one profgen pins (nil
// rules: any arguments), and why.
type fixedCall struct {
	name   string
	reason string
	rules  []Rule
}

// baseline lists the syscalls every profile allows, whatever the recording
// saw, with the reason: calls the kernel or libc make on paths a short run
// easily misses.
var baseline = []fixedCall{
	{name: "rt_sigreturn", reason: "made by the signal trampoline when any signal handler returns; a run that caught no signal never shows it"},
	{name: "restart_syscall", reason: "made by the kernel to resume a sleep interrupted by a stop signal (SIGSTOP/SIGCONT, a debugger)"},
	{name: "exit_group", reason: "how a process ends; a target stopped by a signal during recording never calls it"},
	{name: "exit", reason: "how a thread ends; the same"},
	{name: "sched_yield", reason: "spinning locks (Go runtime, glibc) yield only under contention"},
	{name: "tgkill", reason: "the Go runtime preempts a long-running goroutine with SIGURG", rules: anyOf(2, mask32, uint64(unix.SIGURG))},
	{name: "getpid", reason: "made with tgkill by Go's preemption, and by raise(3)"},
}

// enosysStubs are syscalls that, when not recorded, fail with ENOSYS rather
// than the default action: glibc then falls back to the older call it
// would otherwise have used (clone for clone3, faccessat for faccessat2),
// where EPERM would be taken as a real failure. Docker does the same for
// clone3.
var enosysStubs = []fixedCall{
	{name: "clone3", reason: "glibc falls back to clone on ENOSYS (pthread_create, posix_spawn)"},
	{name: "faccessat2", reason: "glibc falls back to faccessat on ENOSYS (access, faccessat)"},
}
