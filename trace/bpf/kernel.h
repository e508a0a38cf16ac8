// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// kernel.h holds the kernel types the programs read by direct (BTF) loads,
// relocated against the running kernel's BTF (CO-RE), and the cgroup
// walk recorder.c and dispatch.c share.

#ifndef PROFGEN_KERNEL_H
#define PROFGEN_KERNEL_H

struct pt_regs {
	unsigned long di, si, dx, r10, r8, r9, orig_ax;
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

struct qstr {
	__u64 hash_len; // the name's hash and length (a union in the kernel)
	const unsigned char *name;
} __attribute__((preserve_access_index));

struct hlist_bl_node {
	struct hlist_bl_node **pprev;
} __attribute__((preserve_access_index));

struct inode;

struct dentry {
	struct hlist_bl_node d_hash;
	struct dentry *d_parent;
	struct qstr d_name;
	struct inode *d_inode;
} __attribute__((preserve_access_index));

struct vfsmount {
	struct dentry *mnt_root;
} __attribute__((preserve_access_index));

// struct mount (fs/mount.h) holds a vfsmount: container_of by its CO-RE
// offset.
struct mount {
	struct mount *mnt_parent;
	struct dentry *mnt_mountpoint;
	struct vfsmount mnt;
} __attribute__((preserve_access_index));

struct path {
	struct vfsmount *mnt;
	struct dentry *dentry;
} __attribute__((preserve_access_index));

struct fs_struct {
	struct path root;
	struct path pwd;
} __attribute__((preserve_access_index));

struct file;

struct fdtable {
	unsigned int max_fds;
	struct file **fd;
} __attribute__((preserve_access_index));

struct files_struct {
	struct fdtable *fdt;
} __attribute__((preserve_access_index));

struct super_block {
	__u32 s_dev;
} __attribute__((preserve_access_index));

struct inode {
	unsigned short i_mode;
	unsigned long i_ino;
	struct super_block *i_sb;
} __attribute__((preserve_access_index));

struct file {
	struct path f_path;
	struct inode *f_inode;
	unsigned int f_flags;
	unsigned int f_mode;
	void *private_data;
} __attribute__((preserve_access_index));

struct mm_struct {
	struct file *exe_file;
} __attribute__((preserve_access_index));

struct task_struct {
	struct thread_info thread_info;
	int pid;
	int tgid;
	struct signal_struct *signal;
	struct css_set *cgroups;
	struct mm_struct *mm;
	struct fs_struct *fs;
	struct files_struct *files;
} __attribute__((preserve_access_index));

struct linux_binprm {
	const char *filename; // the pathname execve was given
	const char *interp;   // the file run: filename, or a script's interpreter
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

// rcuwait is the kernel's struct that holds nothing but a task pointer:
// current_task casts a CPU's current_task slot to it, so that the verifier
// knows the loaded pointer is a task_struct's.
struct rcuwait {
	struct task_struct *task;
} __attribute__((preserve_access_index));

// bpf_rdonly_cast (a kfunc since 6.2, which the verifier turns into a
// register move) gives a typed, read-only view of kernel memory: loads
// through it are fault-safe. Weak: on an older kernel current_fast is 0 and
// the verifier drops the call unseen.
extern void *bpf_rdonly_cast(const void *obj, __u32 btf_id) __ksym __weak;

// current_fast is set (a load-time constant) when current_at holds the
// address of every CPU's current_task that trace/dispatch/current.go could find
// and check.
volatile const __u32 current_fast = 0;

// current_at[cpu] is the address of that CPU's current_task, the kernel's
// per-CPU pointer to the task running there; 0 for a CPU that was not
// checked (offline then). Its size is set to the possible CPUs at load.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} current_at SEC(".maps");

// current_task returns the task running on this CPU. The helper
// bpf_get_current_task_btf is a real call (the kernel inlines
// bpf_get_smp_processor_id, not it), and on CPUs whose returns are
// mitigated (Safe RET here) a call costs ~20 ns, most of what a recorder
// costs a syscall. With current_fast the task is read from this CPU's
// current_task slot: the CPU number and the array lookup are inlined, the
// cast is a move, so no call is made. Pointers loaded through it are
// untrusted: good for loads, never passed to a helper.
static __always_inline struct task_struct *current_task(void)
{
	if (current_fast) {
		__u32 cpu = bpf_get_smp_processor_id();
		__u64 *at = bpf_map_lookup_elem(&current_at, &cpu);
		if (at && *at) {
			struct rcuwait *slot = bpf_rdonly_cast((void *)*at, bpf_core_type_id_kernel(struct rcuwait));
			return slot->task;
		}
	}
	return bpf_get_current_task_btf();
}

#endif
