// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// target.h selects the target's tasks: the mode, the recording cgroup and
// the tracked processes, as load-time constants and maps that recorder.c
// (syscalls) and paths.c (what Landlock governs) share. paths.c is loaded
// on recorder.c's maps (MapReplacements), so both see the same tasks.

#ifndef PROFGEN_TARGET_H
#define PROFGEN_TARGET_H

#include "kernel.h"

enum mode {
	MODE_CGROUP = 0, // every task of the cgroup in target_cgroup[0] or below it
	MODE_TREE = 1,   // every process whose tgid is tracked
};

enum track {
	TRACK_TARGET = 1,   // a process of the target tree
	TRACK_LAUNCHER = 2, // profgen while it starts the target: its new
	                    // processes are tracked, its own syscalls are not
};

volatile const __u32 mode = MODE_CGROUP;
// In cgroup mode with target_level > 0, a task is the target's when its
// cgroup v2 ancestor at target_level (the recording cgroup's level, 0 the
// root) has the id target_cgid: direct loads, no helper call. With
// target_level 0 (the level is unknown: a cgroup namespace, a mount of a
// subtree) the helper bpf_current_task_under_cgroup decides.
volatile const __u32 target_level = 0;
volatile const __u64 target_cgid = 0;
// arm_on_exec (a container's recording, trace.Attach; with MODE_CGROUP): a
// process of the cgroup is counted from the moment its execve succeeded
// (sched_process_exec), and so are the processes it forks; the others are
// not. A container's init is a multi-threaded runc init: until the execve
// has killed its other threads they make Go runtime calls (nanosleep,
// tgkill) that are runc's. `runc exec` (podman exec, health checks) moves
// a new runc init into the cgroup, whose calls before its own execve
// (capset, keyctl, seccomp, prctl ...) are runc's too. Counted processes
// are kept in tracked; execve calls of the others are counted, as the
// profile must allow them.
volatile const __u32 arm_on_exec = 0;
// armed[0].armed is set by the target's first execve: syscalls before it
// are the launcher's (Go's fork-exec child), not the target's. phase is
// the phase calls are counted in (0, then 1 once user space said the
// target is ready). A map, not a global, so that it survives reloading the
// programs with their final constants. exe_gen changes on every exec of
// the machine (profgen_exec): a struct file freed and reused as another
// executable's cannot hit a CPU's cached slot (recorder.c, exe_slot). It
// sits beside the phase so that a call makes one lookup for both; user
// space, which rewrites the whole value to change the phase, moves it
// 2^32 ahead, so that it never takes a value it had before.
struct arm {
	__u32 armed;
	__u32 phase;
	__u64 exe_gen;
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct arm);
} armed SEC(".maps");

// target_cgroup[0] is the recording's cgroup (a cgroup v2 directory fd
// when put). bpf_current_task_under_cgroup tests the current task's cgroup
// against it and its descendants: a process that moves into a child cgroup
// of the recording's (systemd, container runtimes) is still recorded.
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u32);
} target_cgroup SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);   // tgid
	__type(value, __u32); // enum track
} tracked SEC(".maps");

// in_target_cgroup reports whether task's cgroup is the recording cgroup
// or below it, by the load-time level and id: the task's ancestor at
// target_level, reached by walking up parents, must have the id
// target_cgid. Only loads, no helper call, for the target's own tasks and
// for every task not deeper than MAX_UP below target_level.
static __always_inline int in_target_cgroup(struct task_struct *task)
{
	struct cgroup *cg = task->cgroups->dfl_cgrp;
	int up = cg->level - (int)target_level;
	if (up < 0)
		return 0;
	if (up > MAX_UP)
		return bpf_current_task_under_cgroup(&target_cgroup, 0) == 1;
	return ancestor_id(cg, up) == target_cgid;
}

// is_tracked reports whether the current process is a tracked one of the
// target.
static __always_inline int is_tracked(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *t = bpf_map_lookup_elem(&tracked, &tgid);
	return t && *t == TRACK_TARGET;
}

// is_target reports whether the current task is the target's: in cgroup
// mode by its cgroup (setting *task when it had to fetch it), in
// process-tree mode by tracked.
static __always_inline int is_target(struct task_struct **task)
{
	if (mode != MODE_CGROUP)
		return is_tracked();
	if (target_level) {
		*task = current_task();
		return in_target_cgroup(*task);
	}
	return bpf_current_task_under_cgroup(&target_cgroup, 0) == 1;
}

#endif
