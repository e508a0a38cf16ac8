// Package trace records what a program does: every system call of the
// target and of all its threads, children and daemonised descendants,
// counted per syscall and per argument shape, into a recording.Recording.
//
// Record is the session runner: it makes a fresh cgroup v2 for the target
// (found from /proc/self/mountinfo), starts the target inside it, runs an
// optional driver once the target is ready, stops the tree, and always
// removes what it made. The cgroup's life cycle is internal/cgroup's: a
// process that leaves the cgroup is found and stopped with the tree
// (escape.go), a reaper process kills the cgroup should profgen be
// SIGKILLed (reaper.go), and stale cgroups of profgen processes that are
// gone are removed by the next run (stale.go); /proc is read through
// internal/proc. The
// kernel side is a Backend, behind a narrow lifecycle (constructor,
// Prepare, Start, Events, Collect, Close):
//
//   - EBPF counts in the kernel, from the raw tracepoint sys_enter, keyed
//     by syscall number and the argument values argspec.Table captures
//     (trace/bpf/recorder.c, built with bpf2go). Cgroup-mode recordings
//     of the machine, in any process, share one attached sys_enter
//     program that tail-calls each recording's own (trace/dispatch). The
//     programs read the calling task from their CPU's current_task, whose
//     addresses trace/dispatch finds and checks, instead of calling a
//     helper.
//   - Log runs the target under a seccomp filter whose action is
//     SECCOMP_RET_LOG, started by profgen's launcher (MaybeLauncher), and
//     reads the kernel's audit records back (internal/audit).
//
// A missing kernel feature or permission is reported as an error wrapping
// ErrNotSupported whose message names the feature and the fix.
package trace
