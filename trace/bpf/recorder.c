// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// recorder.c counts the system calls of one target, per (syscall, argument
// shape), in the kernel. It is compiled by bpf2go (see trace/gen.go) and
// loaded by trace/ebpf.go.
//
// Programs:
//   profgen_enter  raw tracepoint sys_enter (raw_syscalls/sys_enter): selects
//                  the target; counts a syscall with no captured argument in
//                  a per-CPU array by number (the common path), one with
//                  arguments the argument table names in counts[key].
//   profgen_fork   raw tracepoint sched_process_fork: in process-tree mode
//                  and with arm_on_exec, follows new processes of tracked ones.
//   profgen_exit   raw tracepoint sched_process_exit: in process-tree mode
//                  and with arm_on_exec, forgets a process whose last thread
//                  exits.
//   profgen_exec   raw tracepoint sched_process_exec: with arm_on_exec,
//                  tracks a process of the cgroup once its execve succeeded.
//   profgen_moved, profgen_fork_out
//                  raw tracepoints cgroup_attach_task and sched_process_fork,
//                  when the session watches for escapes (EBPF.WatchMoves):
//                  tell user space that a task moved to another cgroup.
//
// Raw tracepoints are used rather than perf tracepoints because they are
// attached by name and need no tracefs mount.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel.h"
#include "target.h"

char __license[] SEC("license") = "Dual MIT/GPL";

#define MAX_NR 1024

// key.flags
#define KEY_COMPAT 1 // a 32-bit (ia32) syscall: nr is an i386 number, args not captured

// Load-time constants (.rodata, set through the spec's variables before
// the programs are loaded): the verifier sees their values and drops the
// branches they rule out, so the untaken mode costs nothing.
volatile const __s64 nr_execve = -1;
volatile const __s64 nr_execveat = -1;
// capture[nr] is 1 when syscall nr has an argument to capture, with the
// masks arg_mask[nr][0..5] (0: not captured).
volatile const __u8 capture[MAX_NR] = {};
// dispatched: profgen_enter is tail-called by the shared dispatcher
// (dispatch.c), which matched the task to a recording cgroup and left it
// and the task's status in dsp_scratch (the dispatcher's map): the call is
// the target's when that cgroup is the recording's (target_cgid; it is not
// when the slot was given to another recording meanwhile). No helper call.
volatile const __u32 dispatched = 0;
volatile const __u64 arg_mask[MAX_NR][6] = {};

struct key {
	__u32 nr;
	__u32 flags;
	__u64 args[6];
};

// fast is the per-call path: one per-CPU value, so no atomic operation and
// no shared cache line. n[nr] counts native syscall nr with no captured
// argument, n[MAX_NR + nr] 32-bit syscall nr. Everything else goes to the
// counts hash map; hashed counts the calls that took that path, lost those
// of them that found the map full. Collect sums the CPUs.
struct fast {
	__u64 hashed;
	__u64 lost;
	__u64 n[2 * MAX_NR];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct fast);
} fast SEC(".maps");

// counts holds (syscall, argument shape) pairs: syscalls with a captured
// argument and numbers outside 0..MAX_NR-1.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct key);
	__type(value, __u64);
} counts SEC(".maps");

// seen[nr] is 1 once nr was counted in counts, for the live distinct count
// (the per-CPU counts say the rest).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, MAX_NR);
	__type(key, __u32);
	__type(value, __u32);
} seen SEC(".maps");

#define TS_COMPAT 0x0002 // arch/x86/include/asm/thread_info.h

// The six argument registers of x86-64 lie in one 64-byte window of
// pt_regs, r10 first (arch/x86/include/asm/ptrace.h: r10 r9 r8 ax cx dx si
// di): capture reads it once. The offsets are CO-RE relocated; a layout
// outside the window fails the verifier at load, never silently.
#define REGS_WINDOW 64
#define REG_AT(w, f) (*(__u64 *)((char *)(w) + (bpf_core_field_offset(struct pt_regs, f) - \
					      bpf_core_field_offset(struct pt_regs, r10))))

static __always_inline void capture_args(struct bpf_raw_tracepoint_args *ctx, __u32 nr, struct key *k)
{
	__u64 w[REGS_WINDOW / 8];
	char *regs = (char *)ctx->args[0];
	if (bpf_probe_read_kernel(w, sizeof w, regs + bpf_core_field_offset(struct pt_regs, r10)))
		return; // cannot fault: the kernel's own pt_regs of current
	const volatile __u64 *m = arg_mask[nr];
	k->args[0] = REG_AT(w, di) & m[0];
	k->args[1] = REG_AT(w, si) & m[1];
	k->args[2] = REG_AT(w, dx) & m[2];
	k->args[3] = REG_AT(w, r10) & m[3];
	k->args[4] = REG_AT(w, r8) & m[4];
	k->args[5] = REG_AT(w, r9) & m[5];
}

// count_shape counts a syscall with a captured argument, or a number
// outside 0..MAX_NR-1, in the counts hash map.
static __always_inline int count_shape(struct bpf_raw_tracepoint_args *ctx, struct fast *f, long id, int compat)
{
	struct key k = {};
	k.nr = (__u32)id;
	if (compat)
		k.flags = KEY_COMPAT;
	else if (id >= 0 && id < MAX_NR)
		capture_args(ctx, (__u32)id, &k);

	f->hashed += 1;
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
	f->lost += 1;
	return 0;
}

SEC("raw_tracepoint/sys_enter")
int profgen_enter(struct bpf_raw_tracepoint_args *ctx)
{
	long id = (long)ctx->args[1];
	__u32 zero = 0;

	struct task_struct *task = 0;
	__u32 status = 0;
	if (dispatched) {
		struct dsp_scratch *s = bpf_map_lookup_elem(&dsp_scratch, &zero);
		if (!s || s->cgid != target_cgid)
			return 0;
		status = s->status;
	} else {
		if (!is_target(&task))
			return 0;
		if (!task)
			task = current_task();
		status = task_status(task);
	}
	if (arm_on_exec) {
		if (id != nr_execve && id != nr_execveat && !is_tracked())
			return 0;
	} else {
		__u32 *armed_p = bpf_map_lookup_elem(&armed, &zero);
		if (!armed_p)
			return 0;
		if (!*armed_p) {
			if (id != nr_execve && id != nr_execveat)
				return 0;
			*armed_p = 1;
		}
	}
	struct fast *f = bpf_map_lookup_elem(&fast, &zero);
	if (!f)
		return 0;

	// status is a direct (BTF) load of current's thread_info.status, not
	// a probe read: the compat check is one instruction on the common path.
	int compat = status & TS_COMPAT;

	if (id >= 0 && id < MAX_NR) {
		__u32 nr = (__u32)id;
		if (compat) {
			f->n[MAX_NR + nr] += 1; // per-CPU: no other writer
			return 0;
		}
		if (!capture[nr]) {
			f->n[nr] += 1;
			return 0;
		}
	}
	return count_shape(ctx, f, id, compat);
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

// moves wakes user space (EBPF.WatchMoves, trace/escape.go) when a task may
// have left its cgroup: a record says only that something moved.
struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 4096);
} moves SEC(".maps");

static __always_inline void tell_move(void)
{
	__u32 one = 1;
	bpf_ringbuf_output(&moves, &one, sizeof one, 0);
}

// cgroup_attach_task(struct cgroup *dst_cgrp, const char *path, struct
// task_struct *task, bool threadgroup): a task moved to another cgroup,
// anywhere on the machine (rare: user space tells the recording's from
// the rest).
SEC("raw_tracepoint/cgroup_attach_task")
int profgen_moved(struct bpf_raw_tracepoint_args *ctx)
{
	tell_move();
	return 0;
}

// sched_process_fork(struct task_struct *parent, struct task_struct *child):
// a child born in a cgroup other than its parent's (clone3 with
// CLONE_INTO_CGROUP), which no migration reports.
SEC("raw_tracepoint/sched_process_fork")
int profgen_fork_out(struct bpf_raw_tracepoint_args *ctx)
{
	struct task_struct *parent = (struct task_struct *)ctx->args[0];
	struct task_struct *child = (struct task_struct *)ctx->args[1];
	if (BPF_CORE_READ(parent, cgroups, dfl_cgrp) != BPF_CORE_READ(child, cgroups, dfl_cgrp))
		tell_move();
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
	struct task_struct *task = 0;
	if (!arm_on_exec || !is_target(&task))
		return 0;
	__u32 tgid = bpf_get_current_pid_tgid() >> 32;
	__u32 v = TRACK_TARGET;
	bpf_map_update_elem(&tracked, &tgid, &v, BPF_ANY);
	return 0;
}
