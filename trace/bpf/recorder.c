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
//   profgen_exec   raw tracepoint sched_process_exec: gives the target's
//                  new executables a slot and tells user space their path
//                  (exe_events); with arm_on_exec, tracks a process of the
//                  cgroup once its execve succeeded.
//
// Evidence (recording format 3): the counts are kept per phase (the fast
// array's entry and a column of the shapes' values: 0 until user space
// says the target is ready, 1 after), with the time each was first seen
// on a CPU (stamped only when a count leaves 0), and per executable: an
// executable is a slot, and each slot has a per-CPU bitmap of the
// syscalls it made (set on the first call only) while shapes carry the
// slot in their key.
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
#include <bpf/bpf_tracing.h>

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

// MAX_EXES is the number of executable slots; the last one, EXE_UNKNOWN,
// stands for those beyond the others, and those whose exec was not seen.
#define MAX_EXES 256
#define EXE_UNKNOWN (MAX_EXES - 1)
// Phases: the fast array's index and the shape value's column.
#define PHASES 2

struct key {
	__u32 nr;
	__u32 flags;
	__u32 exe; // the executable's slot
	__u32 _pad;
	__u64 args[6];
};

// shape is a counts value: calls per phase, and when the shape (of that
// executable) was first seen, in bpf_ktime_get_ns.
struct shape {
	__u64 n[PHASES];
	__u64 first;
};

// fast is the per-call path: one per-CPU value per phase, so no atomic
// operation and no shared cache line. n[nr] counts native syscall nr with
// no captured argument, n[MAX_NR + nr] 32-bit syscall nr; first[nr] is
// when n[nr] left 0 on this CPU in this phase. Everything else goes to the
// counts hash map; hashed counts the calls that took that path, lost those
// of them that found the map full. exe_file, exe_gen and exe_slot cache
// the slot of the executable that made the last call on this CPU, and
// exe_bits a part of that slot's exe_seen bitmap on this CPU (every bit set
// here is set there), so that a call of a syscall the executable already
// made here needs no lookup of exe_seen. Collect sums the CPUs (first: the
// minimum) and reads the bitmaps from exe_seen.
struct fast {
	__u64 hashed;
	__u64 lost;
	__u64 n[2 * MAX_NR];
	__u64 first[MAX_NR];
	__u64 exe_file;
	__u64 exe_gen;
	__u32 exe_slot;
	__u32 _pad;
	__u64 exe_bits[MAX_NR / 64];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PHASES);
	__type(key, __u32);
	__type(value, struct fast);
} fast SEC(".maps");

// counts holds (syscall, argument shape) pairs: syscalls with a captured
// argument and numbers outside 0..MAX_NR-1.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 32768);
	__type(key, struct key);
	__type(value, struct shape);
} counts SEC(".maps");

// exe_bits[slot] has bit nr set once the executable in that slot made
// native syscall nr on this CPU (a syscall without captured arguments).
struct exe_bits {
	__u64 w[MAX_NR / 64];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, MAX_EXES);
	__type(key, __u32);
	__type(value, struct exe_bits);
} exe_seen SEC(".maps");

// exe_id names an executable file: its superblock's device and inode.
struct exe_id {
	__u64 dev;
	__u64 ino;
};

// exe_slots gives each executable of the target a slot, when it is
// exec'd; exe_free holds the free slots (user space fills it with
// 0..EXE_UNKNOWN-1: a pop is atomic, where the kernel's atomic fetch-add
// needs a newer BPF instruction set than the recorder is built for).
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, MAX_EXES);
	__type(key, struct exe_id);
	__type(value, __u32);
} exe_slots SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_QUEUE);
	__uint(max_entries, MAX_EXES);
	__type(value, __u32);
} exe_free SEC(".maps");

// names holds a path as walk_step reads it: its components from the file
// up to the process's root (names[0] the file's own name), walked as the
// kernel's d_path does.
#define EXE_NAMES 32
#define NAMES EXE_NAMES
#define EXE_NAME_LEN 256
struct names {
	__u32 n;        // components in names
	__u32 complete; // 1: the walk reached the root; 2: it cannot (outside the root, a pseudo file)
	__u32 _pad;
	char names[EXE_NAMES][EXE_NAME_LEN];
};

// exe_event tells user space the path of a new slot's executable: the
// name the exec gave it (run: bprm->interp, the pathname execve was given
// or a script's interpreter, as the process wrote it) and the path the
// kernel resolved (nm: its components up to the process's root).
struct exe_event {
	__u32 slot;
	struct names nm;
	char run[EXE_NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 1 << 20);
} exe_events SEC(".maps");

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
static __always_inline int count_shape(struct bpf_raw_tracepoint_args *ctx, struct fast *f, long id, int compat,
				       __u32 ph, __u32 exe)
{
	struct key k = {};
	k.nr = (__u32)id;
	k.exe = exe;
	if (compat)
		k.flags = KEY_COMPAT;
	else if (id >= 0 && id < MAX_NR)
		capture_args(ctx, (__u32)id, &k);

	f->hashed += 1;
	for (int i = 0; i < 2; i++) {
		struct shape *c = bpf_map_lookup_elem(&counts, &k);
		if (c) {
			__sync_fetch_and_add(&c->n[ph & 1], 1);
			return 0;
		}
		struct shape init = {};
		init.n[ph & 1] = 1;
		init.first = bpf_ktime_get_ns();
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

// exe_slot returns the slot of task's executable: from this CPU's cache
// when the last call here was the same executable's (the common case),
// else from exe_slots, refilling the cache and its copy of the slot's
// bitmap. gen is a->exe_gen.
static __always_inline __u32 exe_slot(struct fast *f, struct task_struct *task, __u64 gen)
{
	struct file *file = task->mm->exe_file;
	if (f->exe_file == (__u64)file && f->exe_gen == gen)
		return f->exe_slot;
	__u32 slot = EXE_UNKNOWN;
	if (file) {
		struct inode *ino = file->f_inode;
		struct exe_id id = {.dev = ino->i_sb->s_dev, .ino = ino->i_ino};
		__u32 *s = bpf_map_lookup_elem(&exe_slots, &id);
		if (s)
			slot = *s;
	}
	f->exe_file = (__u64)file;
	f->exe_gen = gen;
	f->exe_slot = slot;
	struct exe_bits *b = bpf_map_lookup_elem(&exe_seen, &slot);
#pragma unroll
	for (int i = 0; i < MAX_NR / 64; i++)
		f->exe_bits[i] = b ? b->w[i] : 0;
	return slot;
}

// mark_exe notes that the executable in f's cached slot made native
// syscall nr: a lookup of exe_seen only the first time on this CPU (since
// the cache was last filled).
static __always_inline void mark_exe(struct fast *f, __u32 nr)
{
	__u32 w = (nr >> 6) & (MAX_NR / 64 - 1);
	__u64 bit = 1ULL << (nr & 63);
	if (f->exe_bits[w] & bit)
		return;
	__u32 slot = f->exe_slot;
	struct exe_bits *b = bpf_map_lookup_elem(&exe_seen, &slot);
	if (!b)
		return;
	b->w[w] |= bit;
	f->exe_bits[w] |= bit;
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
	struct arm *a = bpf_map_lookup_elem(&armed, &zero);
	if (!a)
		return 0;
	// noexe: a call of the launcher or of the runtime (the execve that
	// arms the recording, runc's), not of an executable of the target.
	int noexe = 0;
	if (arm_on_exec) {
		if (id == nr_execve || id == nr_execveat)
			noexe = !is_tracked();
		else if (!is_tracked())
			return 0;
	} else if (!a->armed) {
		if (id != nr_execve && id != nr_execveat)
			return 0;
		a->armed = 1;
		noexe = 1;
	}
	__u32 ph = a->phase & 1;
	struct fast *f = bpf_map_lookup_elem(&fast, &ph);
	if (!f)
		return 0;
	if (!task)
		task = current_task();
	__u32 exe = noexe ? EXE_UNKNOWN : exe_slot(f, task, a->exe_gen);

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
			__u64 c = f->n[nr];
			f->n[nr] = c + 1;
			if (!c)
				f->first[nr] = bpf_ktime_get_ns();
			if (!noexe)
				mark_exe(f, nr);
			return 0;
		}
	}
	return count_shape(ctx, f, id, compat, ph, noexe ? EXE_UNKNOWN : exe);
}

// exe_scratch is where note_exe builds an exe_event (too large for the
// stack) before it copies it into exe_events.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct exe_event);
} exe_scratch SEC(".maps");

// walk is the state of a walk from a file up to the root, one step per
// call of walk_step (bpf_loop: the verifier checks the step once).
struct walk {
	struct dentry *d, *root;
	struct vfsmount *vm, *rootmnt;
	struct names *nm;
};

static long walk_step(__u64 i, void *arg)
{
	struct walk *w = arg;
	struct names *nm = w->nm;
	struct dentry *d = w->d;
	struct vfsmount *vm = w->vm;
	if (d == w->root && vm == w->rootmnt) {
		nm->complete = 1;
		return 1;
	}
	struct dentry *up = BPF_CORE_READ(d, d_parent);
	struct dentry *mroot = BPF_CORE_READ(vm, mnt_root);
	if (d == mroot || d == up) {
		struct mount *m = (struct mount *)((char *)vm - bpf_core_field_offset(struct mount, mnt));
		struct mount *parent = BPF_CORE_READ(m, mnt_parent);
		if (d != mroot || parent == m) {
			// The root of the mount tree without the process's
			// root on the way (a file outside it, or in an
			// internal mount: a pipe, a socket), or a disconnected
			// dentry: d_path would not give the path the process
			// sees.
			nm->complete = 2;
			return 1;
		}
		w->d = BPF_CORE_READ(m, mnt_mountpoint);
		w->vm = (struct vfsmount *)((char *)parent + bpf_core_field_offset(struct mount, mnt));
		return 0;
	}
	__u32 n = nm->n;
	if (n >= EXE_NAMES)
		return 1;
	bpf_probe_read_kernel_str(nm->names[n & (EXE_NAMES - 1)], EXE_NAME_LEN, BPF_CORE_READ(d, d_name.name));
	nm->n = n + 1;
	w->d = up;
	return 0;
}

// note_exe gives task's executable (after its exec) a slot, when it has
// none, and tells user space its path: the name bprm gave it, and the
// components from the file up to the task's root directory, crossing
// mounts, as d_path does (in a container: the container's path), for when
// that name is relative or a descriptor's.
static __always_inline void note_exe(struct task_struct *task, struct linux_binprm *bprm)
{
	struct file *file = task->mm->exe_file;
	if (!file)
		return;
	struct inode *ino = file->f_inode;
	struct exe_id id = {.dev = ino->i_sb->s_dev, .ino = ino->i_ino};
	if (bpf_map_lookup_elem(&exe_slots, &id))
		return;
	__u32 slot = EXE_UNKNOWN;
	bpf_map_pop_elem(&exe_free, &slot); // none left: EXE_UNKNOWN
	if (slot >= EXE_UNKNOWN)
		slot = EXE_UNKNOWN;
	if (bpf_map_update_elem(&exe_slots, &id, &slot, BPF_NOEXIST)) {
		// Another CPU gave it one first.
		if (slot != EXE_UNKNOWN)
			bpf_map_push_elem(&exe_free, &slot, 0);
		return;
	}
	if (slot == EXE_UNKNOWN)
		return;
	__u32 zero = 0;
	struct exe_event *ev = bpf_map_lookup_elem(&exe_scratch, &zero);
	if (!ev)
		return;
	ev->slot = slot;
	ev->nm.n = 0;
	ev->nm.complete = 0;
	ev->run[0] = 0;
	if (bprm)
		bpf_probe_read_kernel_str(ev->run, sizeof ev->run, BPF_CORE_READ(bprm, interp));
	// Loads by BPF_CORE_READ (probe reads): the walk reaches pointers
	// the verifier has no type for.
	struct walk w = {
		.d = BPF_CORE_READ(file, f_path.dentry),
		.vm = BPF_CORE_READ(file, f_path.mnt),
		.root = BPF_CORE_READ(task, fs, root.dentry),
		.rootmnt = BPF_CORE_READ(task, fs, root.mnt),
		.nm = &ev->nm,
	};
	bpf_loop(EXE_NAMES + 16, walk_step, &w, 0);
	// Lost when the ring is full: user space then names the slot unknown.
	bpf_ringbuf_output(&exe_events, ev, sizeof *ev, 0);
}

#include "paths.h"

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
	__u32 zero = 0;
	struct arm *a = bpf_map_lookup_elem(&armed, &zero);
	if (a)
		__sync_fetch_and_add(&a->exe_gen, 1);
	struct task_struct *task = 0;
	if (!is_target(&task))
		return 0;
	if (arm_on_exec) {
		__u32 tgid = bpf_get_current_pid_tgid() >> 32;
		__u32 v = TRACK_TARGET;
		bpf_map_update_elem(&tracked, &tgid, &v, BPF_ANY);
	}
	if (!task)
		task = current_task();
	note_exe(task, (struct linux_binprm *)ctx->args[2]);
	if (paths_on)
		path_exec(task, (struct linux_binprm *)ctx->args[2]);
	return 0;
}
