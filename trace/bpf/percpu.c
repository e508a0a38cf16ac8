// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// percpu.c finds where each CPU's current_task lies, for current_task in
// kernel.h (trace/dispatch/current.go runs it once a process, on every CPU).
//
// The kernel names current_task in its BTF (a variable of .data..percpu)
// but not in /proc/kallsyms, so a program cannot take its address as a
// typed ksym. Its per-CPU address is the variable's address plus the
// CPU's per-CPU offset. The variable's address comes from user space
// (trace/dispatch/current.go, from the address of cpu_number that the verifier's
// inlined bpf_get_smp_processor_id shows and the two variables' offsets in
// the BTF); the CPU's offset is measured here: the address of this CPU's
// copy of a per-CPU array's value less the map's base (bpf_array.pptrs[0]).
// Then the program reads the slot and the helper, and user space keeps the
// address only when the two tasks are the same.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel.h"

char __license[] SEC("license") = "Dual MIT/GPL";

// The address of current_task as the kernel image has it (the CPUs' copies
// are at it plus each CPU's offset).
volatile const __u64 current_task_var = 0;

struct bpf_array {
	void *pptrs[0];
} __attribute__((preserve_access_index));

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pc_anchor SEC(".maps");

// pc_found is what profgen_percpu_probe found on one CPU.
struct pc_found {
	__u64 cpu;       // the CPU it ran on, plus one
	__u64 copy;      // this CPU's copy of pc_anchor's value
	__u64 map;       // pc_anchor's struct bpf_array
	__u64 base;      // pc_anchor's pptrs[0]
	__u64 at;        // current_task_var plus this CPU's offset
	__u64 slot_task; // the task read at at
	__u64 task;      // bpf_get_current_task_btf()
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pc_found);
} pc_found SEC(".maps");

// profgen_percpu_probe runs by BPF_PROG_TEST_RUN on one CPU (never
// attached). Pointers become numbers by a store to and a load from a map
// value, which a privileged program may do.
SEC("raw_tracepoint/sys_enter")
int profgen_percpu_probe(void *ctx)
{
	__u32 zero = 0;
	struct pc_found *f = bpf_map_lookup_elem(&pc_found, &zero);
	void *copy = bpf_map_lookup_elem(&pc_anchor, &zero);
	if (!f || !copy)
		return 1;
	f->copy = (__u64)copy;
	f->map = (__u64)(void *)&pc_anchor;
	__u64 c = *(volatile __u64 *)&f->copy;
	__u64 m = *(volatile __u64 *)&f->map;
	__u64 base = 0;
	if (bpf_probe_read_kernel(&base, sizeof base, (void *)(m + bpf_core_field_offset(struct bpf_array, pptrs))))
		return 2;
	f->base = base;
	f->at = current_task_var + (c - base);
	__u64 t = 0;
	if (bpf_probe_read_kernel(&t, sizeof t, (void *)f->at))
		return 3;
	f->slot_task = t;
	f->task = (__u64)bpf_get_current_task_btf();
	f->cpu = bpf_get_smp_processor_id() + 1;
	return 0;
}

// pc_check[0] counts, on each CPU, the calls where current_task() and the
// helper agreed, [1] those where they did not.
struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} pc_check SEC(".maps");

// profgen_percpu_check compares current_task() with the helper on every
// syscall while it is attached (trace's tests: TestCurrentTask).
SEC("raw_tracepoint/sys_enter")
int profgen_percpu_check(void *ctx)
{
	struct task_struct *fast = current_task();
	struct task_struct *slow = bpf_get_current_task_btf();
	__u32 k = fast->pid == slow->pid && fast->tgid == slow->tgid && (__u64)fast == (__u64)slow ? 0 : 1;
	__u64 *n = bpf_map_lookup_elem(&pc_check, &k);
	if (n)
		*n += 1;
	return 0;
}
