package learn

// baseline lists the syscalls every profile allows, whatever the recording
// saw, with the reason: calls the kernel or libc make on paths a short run
// easily misses.
var baseline = []struct{ name, reason string }{
	{"rt_sigreturn", "made by the signal trampoline when any signal handler returns; a run that caught no signal never shows it"},
	{"restart_syscall", "made by the kernel to resume a sleep interrupted by a stop signal (SIGSTOP/SIGCONT, a debugger)"},
	{"exit_group", "how a process ends; a target stopped by a signal during recording never calls it"},
	{"exit", "how a thread ends; the same"},
	{"sched_yield", "spinning locks (Go runtime, glibc) yield only under contention"},
	{"tgkill", "the Go runtime preempts a long-running goroutine with SIGURG"},
	{"getpid", "made with tgkill by Go's preemption, and by raise(3)"},
}

// enosysStubs are syscalls that, when not recorded, fail with ENOSYS rather
// than the default action: glibc then falls back to the older call it
// would otherwise have used (clone for clone3, faccessat for faccessat2),
// where EPERM would be taken as a real failure. Docker does the same for
// clone3.
var enosysStubs = []struct{ name, reason string }{
	{"clone3", "glibc falls back to clone on ENOSYS (pthread_create, posix_spawn)"},
	{"faccessat2", "glibc falls back to faccessat on ENOSYS (access, faccessat)"},
}
