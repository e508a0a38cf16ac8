// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// dispatch.c is the one sys_enter program that recordings on the machine
// share (trace/dispatch/dispatch.go). Every program attached to raw tracepoint
// sys_enter runs on every syscall of the machine, so N recordings that
// each attached their own would make every syscall pay N programs' entry
// cost. Instead each cgroup-mode recording puts its own profgen_enter
// (recorder.c) in a slot of dsp_progs and its cgroup in dsp_routes, and
// profgen_dispatch, attached once, tail-calls the slot whose cgroup the
// current task is in or below. A syscall of no recording's task costs one
// program and a few loads per slot in use (no helper call: current_task
// in kernel.h).
//
// Slots never overlap (trace/dispatch/dispatch.go gives a recording whose cgroup
// contains, or is contained in, another slot's a program of its own), so
// the first slot that matches is the only one.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>

#include "kernel.h"

char __license[] SEC("license") = "Dual MIT/GPL";

#define SLOTS 16

// route is one slot's cgroup: its level in the cgroup v2 hierarchy (the
// root is 0; a slot's level is at least 1) and its id. cgid 0 is a free
// slot.
struct route {
	__u32 level;
	__u32 _pad;
	__u64 cgid;
};

// routes is dsp_routes[0]: n is one more than the highest slot in use;
// level is the level every slot in use has, 0 when they differ (or none is
// in use). User space rewrites the whole value; a slot it is not changing
// is written with the bytes it had, so a reader never sees it torn, and
// level goes to 0 before a slot of another level is routed
// (trace/dispatch/dispatch.go, route).
struct routes {
	__u32 n;
	__u32 level;
	struct route s[SLOTS];
};

struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct routes);
} dsp_routes SEC(".maps");

// dsp_progs[i] is slot i's recorder program.
struct {
	__uint(type, BPF_MAP_TYPE_PROG_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} dsp_progs SEC(".maps");

// dsp_cgroups[i] is slot i's cgroup, for tasks more than MAX_UP levels
// below it, which the helper decides.
struct {
	__uint(type, BPF_MAP_TYPE_CGROUP_ARRAY);
	__uint(max_entries, SLOTS);
	__type(key, __u32);
	__type(value, __u32);
} dsp_cgroups SEC(".maps");

// walk is what profgen_dispatch knows of the current task's cgroup: slots
// of one level (recordings made side by side) share one walk up.
struct walk {
	struct cgroup *cg;
	int level;
	int last;     // the level last_id is the ancestor's at, -1: none yet
	__u64 last_id;
};

// slot_hit returns slot i's cgroup id when the current task is in that
// cgroup or below, else 0. The id returned is the one the match was made
// with, read once: the recorder checks it against its own, so a slot
// emptied and given to another recording meanwhile never counts this call.
static __always_inline __u64 slot_hit(struct routes *r, const int i, struct walk *w)
{
	__u64 want = r->s[i].cgid;
	if (!want)
		return 0;
	int slot_level = (int)r->s[i].level;
	int up = w->level - slot_level;
	if (up < 0)
		return 0;
	if (up > MAX_UP)
		return bpf_current_task_under_cgroup(&dsp_cgroups, i) == 1 ? want : 0;
	if (slot_level != w->last) {
		w->last_id = ancestor_id(w->cg, up);
		w->last = slot_level;
	}
	return w->last_id == want ? want : 0;
}

// TRY tail-calls slot i when it is in use and the task's, with the slot's
// cgroup and the task's status in dsp_scratch; a tail call
// returns only when the slot has no program (being filled or emptied), and
// then no other slot is the task's either. bpf_tail_call_static keeps the
// index a constant at each of the 16 sites, so the JIT makes each a direct
// jump: with bpf_tail_call clang merges them into one call with a variable
// index, an indirect jump through a retpoline, which measured 20 ns more
// per call here (trace.BenchmarkRecorderFloor's BPF statistics).
#define TRY(i)                                                      \
	if ((i) < n && (hit = slot_hit(r, (i), &w))) {              \
		s->cgid = hit;                                      \
		s->status = task_status(task);                      \
		bpf_tail_call_static(ctx, &dsp_progs, (i));         \
		return 0;                                           \
	}

// SAME tail-calls slot i when its cgroup is id, the task's ancestor at
// the level all slots share: one load and two compares a slot.
#define SAME(i)                                                     \
	if ((i) >= n)                                               \
		return 0;                                           \
	if (r->s[(i)].cgid == id) {                                 \
		s->cgid = id;                                       \
		s->status = task_status(task);                      \
		bpf_tail_call_static(ctx, &dsp_progs, (i));         \
		return 0;                                           \
	}

SEC("raw_tracepoint/sys_enter")
int profgen_dispatch(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	struct routes *r = bpf_map_lookup_elem(&dsp_routes, &zero);
	if (!r)
		return 0;
	__u32 n = r->n;
	if (n == 0)
		return 0;
	struct dsp_scratch *s = bpf_map_lookup_elem(&dsp_scratch, &zero);
	if (!s)
		return 0;
	struct task_struct *task = current_task();
	struct walk w = {.cg = task->cgroups->dfl_cgrp, .last = -1};
	__u64 hit;
	w.level = w.cg->level;
	// Recordings are mostly made side by side (profgen's own cgroups, a
	// runtime's containers): then the task's ancestor at their level is
	// found once and compared with each slot's cgroup. A task above that
	// level is no recording's.
	__u32 same = r->level;
	if (same) {
		int up = w.level - (int)same;
		if (up < 0)
			return 0;
		if (up <= MAX_UP) {
			__u64 id = ancestor_id(w.cg, up);
			SAME(0) SAME(1) SAME(2) SAME(3) SAME(4) SAME(5) SAME(6) SAME(7)
			SAME(8) SAME(9) SAME(10) SAME(11) SAME(12) SAME(13) SAME(14) SAME(15)
			return 0;
		}
	}
	TRY(0) TRY(1) TRY(2) TRY(3) TRY(4) TRY(5) TRY(6) TRY(7)
	TRY(8) TRY(9) TRY(10) TRY(11) TRY(12) TRY(13) TRY(14) TRY(15)
	return 0;
}
