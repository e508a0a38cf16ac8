// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// recorder.c counts the system calls of one target, per (syscall, argument
// shape), in the kernel. It is compiled by bpf2go (see trace/gen.go) and
// loaded by trace/ebpf.go.
//
// Programs:
//   profgen_enter  raw tracepoint sys_enter (raw_syscalls/sys_enter): selects
//                  the target, captures the arguments the argument table
//                  names and increments counts[key].
//   profgen_fork   raw tracepoint sched_process_fork: in process-tree mode
//                  and with arm_on_exec, follows new processes of tracked ones.
//   profgen_exit   raw tracepoint sched_process_exit: in process-tree mode
//                  and with arm_on_exec, forgets a process whose last thread
//                  exits.
//   profgen_exec   raw tracepoint sched_process_exec: with arm_on_exec,
//                  tracks a process of the cgroup once its execve succeeded.
//
// Raw tracepoints are used rather than perf tracepoints because they are
// attached by name and need no tracefs mount.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

char __license[] SEC("license") = "Dual MIT/GPL";

#define MAX_NR 1024

enum mode {
	MODE_CGROUP = 0, // every task of the cgroup target_cgid
	MODE_TREE = 1,   // every process whose tgid is tracked
};

enum track {
	TRACK_TARGET = 1,   // a process of the target tree
	TRACK_LAUNCHER = 2, // profgen while it starts the target: its new
	                    // processes are tracked, its own syscalls are not
};

enum stat {
	STAT_EVENTS = 0, // target syscalls counted
	STAT_LOST = 1,   // target syscalls that could not be counted (map full)
	STAT_MAX,
};

// key.flags
#define KEY_COMPAT 1 // a 32-bit (ia32) syscall: nr is an i386 number, args not captured

// Set before load (spec.Variables): the native execve and execveat numbers.
volatile const __s64 nr_execve = -1;
volatile const __s64 nr_execveat = -1;

// Set after load, before the programs are attached (Variable.Set).
volatile __u32 mode = MODE_CGROUP;
volatile __u64 target_cgid = 0;

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
volatile __u32 arm_on_exec = 0;

// armed is set by the target's first execve: syscalls before it are the
// launcher's (Go's fork-exec child), not the target's.
__u32 armed = 0;

struct key {
	__u32 nr;
	__u32 flags;
	__u64 args[6];
};

struct masks {
	__u64 mask[6];
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct key);
	__type(value, __u64);
} counts SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_NR);
	__type(key, __u32);
	__type(value, struct masks);
} arg_masks SEC(".maps");

// seen[nr] is 1 once nr was counted, for the live distinct count.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_NR);
	__type(key, __u32);
	__type(value, __u32);
} seen SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, STAT_MAX);
	__type(key, __u32);
	__type(value, __u64);
} stats SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 8192);
	__type(key, __u32);   // tgid
	__type(value, __u32); // enum track
} tracked SEC(".maps");

// Kernel types, relocated against the running kernel's BTF (CO-RE).
struct pt_regs {
	unsigned long di, si, dx, r10, r8, r9;
} __attribute__((preserve_access_index));

struct thread_info {
	__u32 status;
} __attribute__((preserve_access_index));

typedef struct {
	int counter;
} atomic_t;

struct signal_struct {
	atomic_t live; // threads of the group not yet exited
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	struct signal_struct *signal;
} __attribute__((preserve_access_index));

#define TS_COMPAT 0x0002 // arch/x86/include/asm/thread_info.h

static __always_inline void stat_add(__u32 which)
{
	__u64 *v = bpf_map_lookup_elem(&stats, &which);
	if (v)
		*v += 1; // per-CPU: no other writer
}

static __always_inline int is_tracked(void)
{
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *t = bpf_map_lookup_elem(&tracked, &tgid);
	return t && *t == TRACK_TARGET;
}

static __always_inline int is_target(void)
{
	if (mode == MODE_CGROUP)
		return bpf_get_current_cgroup_id() == target_cgid;
	return is_tracked();
}

SEC("raw_tracepoint/sys_enter")
int profgen_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];

	if (!is_target())
		return 0;
	if (arm_on_exec) {
		if (!is_tracked() && id != nr_execve && id != nr_execveat)
			return 0;
	} else if (!armed) {
		if (id != nr_execve && id != nr_execveat)
			return 0;
		armed = 1;
	}

	struct key k = {};
	k.nr = (__u32)id;

	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	__u32 status = 0;
	if (bpf_core_field_exists(task->thread_info.status))
		status = BPF_CORE_READ(task, thread_info.status);
	if (status & TS_COMPAT) {
		k.flags = KEY_COMPAT;
	} else if (id >= 0 && id < MAX_NR) {
		__u32 idx = (__u32)id;
		struct masks *m = bpf_map_lookup_elem(&arg_masks, &idx);
		if (m && (m->mask[0] | m->mask[1] | m->mask[2] | m->mask[3] | m->mask[4] | m->mask[5])) {
			struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
			if (m->mask[0])
				k.args[0] = BPF_CORE_READ(regs, di) & m->mask[0];
			if (m->mask[1])
				k.args[1] = BPF_CORE_READ(regs, si) & m->mask[1];
			if (m->mask[2])
				k.args[2] = BPF_CORE_READ(regs, dx) & m->mask[2];
			if (m->mask[3])
				k.args[3] = BPF_CORE_READ(regs, r10) & m->mask[3];
			if (m->mask[4])
				k.args[4] = BPF_CORE_READ(regs, r8) & m->mask[4];
			if (m->mask[5])
				k.args[5] = BPF_CORE_READ(regs, r9) & m->mask[5];
		}
	}

	stat_add(STAT_EVENTS);
	for (int i = 0; i < 2; i++) {
		__u64 *c = bpf_map_lookup_elem(&counts, &k);
		if (c) {
			__sync_fetch_and_add(c, 1);
			return 0;
		}
		__u64 init = 1;
		long err = bpf_map_update_elem(&counts, &k, &init, BPF_NOEXIST);
		if (err == 0) {
			// A new key: the first time for this shape, so maybe for
			// this syscall. Off the per-call path.
			if (!k.flags && k.nr < MAX_NR) {
				__u32 idx = k.nr;
				__u32 *s = bpf_map_lookup_elem(&seen, &idx);
				if (s)
					*s = 1;
			}
			return 0;
		}
		if (err != -17 /* EEXIST: another CPU inserted it first */)
			break;
	}
	stat_add(STAT_LOST);
	return 0;
}

// sched_process_fork(struct task_struct *parent, struct task_struct *child)
SEC("raw_tracepoint/sched_process_fork")
int profgen_fork(struct bpf_raw_tracepoint_args *ctx)
{
	if (mode != MODE_TREE && !arm_on_exec)
		return 0;
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	__u32 parent = bpf_get_current_pid_tgid() >> 32;
	__u32 ctgid = BPF_CORE_READ(child, tgid);
	if (ctgid == parent)
		return 0; // a new thread: its process is already tracked or not
	__u32 *t = bpf_map_lookup_elem(&tracked, &parent);
	if (!t)
		return 0;
	__u32 v = TRACK_TARGET;
	bpf_map_update_elem(&tracked, &ctgid, &v, BPF_ANY);
	return 0;
}

// sched_process_exit(struct task_struct *p), p == current.
SEC("raw_tracepoint/sched_process_exit")
int profgen_exit(struct bpf_raw_tracepoint_args *ctx)
{
	if (mode != MODE_TREE && !arm_on_exec)
		return 0;
	// Not when the group leader exits but when the last thread does: a
	// thread that execs kills the leader and goes on under the same tgid,
	// and a leader may pthread_exit while other threads run. do_exit has
	// decremented signal->live before this tracepoint.
	struct task_struct *task = (struct task_struct *)bpf_get_current_task();
	if (BPF_CORE_READ(task, signal, live.counter) != 0)
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 *t = bpf_map_lookup_elem(&tracked, &tgid);
	if (t && *t == TRACK_TARGET)
		bpf_map_delete_elem(&tracked, &tgid);
	return 0;
}

// sched_process_exec(struct task_struct *p, pid_t old_pid, struct linux_binprm *bprm),
// after the exec's point of no return: the task's other threads are gone.
SEC("raw_tracepoint/sched_process_exec")
int profgen_exec(struct bpf_raw_tracepoint_args *ctx)
{
	if (!arm_on_exec || !is_target())
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 v = TRACK_TARGET;
	bpf_map_update_elem(&tracked, &tgid, &v, BPF_ANY);
	return 0;
}
