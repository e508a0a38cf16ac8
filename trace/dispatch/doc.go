// Package dispatch is the machine's shared sys_enter program and what the
// eBPF recorder shares with it. Cgroup-mode recordings, in any process,
// take a slot of one attached dispatcher (bpf/dispatch.c) that tail-calls
// each one's own recorder program (Begin, Join.Commit, Slot.Leave): the
// processes that hold it and their slots are listed in a registry file
// under flock(2), and a process joins by taking another's descriptors with
// pidfd_getfd(2) (dispatch.go). Both programs read the calling task from
// their CPU's current_task rather than by a helper call where the CPU's
// returns are mitigated (CurrentTasks, current.go), and LoadError explains
// why either could not be loaded.
// trace's eBPF backend is its only user; it imports no trace package.
package dispatch
