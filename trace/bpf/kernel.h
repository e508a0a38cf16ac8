// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// kernel.h holds the kernel types the programs read by direct (BTF) loads,
// relocated against the running kernel's BTF (CO-RE), and the cgroup
// walk recorder.c and dispatch.c share.

#ifndef PROFGEN_KERNEL_H
#define PROFGEN_KERNEL_H

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

struct kernfs_node {
	__u64 id;
} __attribute__((preserve_access_index));

struct cgroup;

struct cgroup_subsys_state {
	struct cgroup *cgroup;
	struct cgroup_subsys_state *parent;
} __attribute__((preserve_access_index));

struct cgroup {
	struct cgroup_subsys_state self;
	int level;
	struct kernfs_node *kn;
} __attribute__((preserve_access_index));

struct css_set {
	struct cgroup *dfl_cgrp; // the task's cgroup v2
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	struct signal_struct *signal;
	struct css_set *cgroups;
} __attribute__((preserve_access_index));

// MAX_UP is how many levels above a task's cgroup ancestor_id walks by
// direct loads; a task deeper than that below a recording cgroup is left
// to the helper bpf_current_task_under_cgroup.
#define MAX_UP 8

// ancestor_id returns the id of cg's ancestor up levels above it (0: cg
// itself), for 0 <= up <= MAX_UP and up no more than cg's level.
static __always_inline __u64 ancestor_id(struct cgroup *cg, int up)
{
#pragma unroll
	for (int i = 0; i < MAX_UP; i++) {
		if (i == up)
			break;
		cg = cg->self.parent->cgroup;
	}
	return cg->kn->id;
}

// dsp_scratch is how the shared dispatcher (dispatch.c) hands a call to
// the recorder it tail-calls (recorder.c with `dispatched`): the recording
// cgroup the calling task was matched to and the task's thread_info
// status, so that the recorder needs neither the task nor a helper call.
// Per CPU, written just before the tail call on the same CPU. Both
// programs declare it from here, so that the recorder can be loaded on the
// dispatcher's map.
struct dsp_scratch {
	__u64 cgid;
	__u32 status;
	__u32 _pad;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct dsp_scratch);
} dsp_scratch SEC(".maps");

// task_status returns the task's thread_info.status (TS_COMPAT), 0 on a
// kernel without the field.
static __always_inline __u32 task_status(struct task_struct *task)
{
	if (bpf_core_field_exists(task->thread_info.status))
		return task->thread_info.status;
	return 0;
}

#endif
