package explain

// Dangerous is a syscall that a container rarely needs and that widens the
// kernel's attack surface or lets a process escape its confinement. The
// reasons are in docs/operations.md too.
type Dangerous struct {
	Name string `json:"name"`
	// Conditional is set when the syscall is allowed only with some
	// arguments.
	Conditional bool   `json:"conditional,omitempty"`
	Why         string `json:"why"`
}

// dangerous lists the syscalls explain reports when a profile allows them,
// with why. clone is judged by its flags (cloneNamespaceFlags), not here.
var dangerous = []Dangerous{
	{Name: "ptrace", Why: "reads and writes another process's memory and registers; bypasses seccomp of the tracee on kernels before 4.8"},
	{Name: "process_vm_readv", Why: "reads another process's memory"},
	{Name: "process_vm_writev", Why: "writes another process's memory"},
	{Name: "bpf", Why: "loads eBPF programs into the kernel: a large, often exploited attack surface, and tracing of the whole machine"},
	{Name: "perf_event_open", Why: "kernel and hardware performance monitoring: information leaks and a history of privilege escalations"},
	{Name: "mount", Why: "changes the filesystem view; with CAP_SYS_ADMIN can remount host paths"},
	{Name: "umount2", Why: "removes mounts that hide or protect host paths"},
	{Name: "pivot_root", Why: "changes the root filesystem"},
	{Name: "unshare", Why: "creates new namespaces (user namespaces give CAP_SYS_ADMIN inside them: the gateway to many kernel bugs)"},
	{Name: "setns", Why: "joins another namespace, e.g. the host's through a leaked descriptor"},
	{Name: "keyctl", Why: "the kernel keyring is not namespaced: keys of other containers and the host"},
	{Name: "add_key", Why: "the kernel keyring is not namespaced"},
	{Name: "request_key", Why: "the kernel keyring is not namespaced"},
	{Name: "kexec_load", Why: "loads a new kernel to boot"},
	{Name: "kexec_file_load", Why: "loads a new kernel to boot"},
	{Name: "init_module", Why: "loads kernel code"},
	{Name: "finit_module", Why: "loads kernel code"},
	{Name: "delete_module", Why: "unloads kernel modules"},
	{Name: "open_by_handle_at", Why: "opens files by handle, bypassing the mount namespace (the 2014 'shocker' container escape)"},
	{Name: "name_to_handle_at", Why: "makes the file handles open_by_handle_at uses"},
	{Name: "userfaultfd", Why: "pauses the kernel on a page fault at a chosen time: the usual tool to win kernel race conditions"},
	{Name: "io_uring_setup", Why: "io_uring runs syscalls' work without syscalls, out of seccomp's sight, and has had many kernel bugs"},
	{Name: "io_uring_enter", Why: "io_uring runs syscalls' work without syscalls, out of seccomp's sight"},
	{Name: "io_uring_register", Why: "io_uring runs syscalls' work without syscalls, out of seccomp's sight"},
	{Name: "personality", Why: "changes the execution domain (e.g. READ_IMPLIES_EXEC, ADDR_NO_RANDOMIZE turns off ASLR)"},
	{Name: "iopl", Why: "raises the I/O privilege level: direct hardware port access"},
	{Name: "ioperm", Why: "direct hardware port access"},
	{Name: "swapon", Why: "changes the machine's swap"},
	{Name: "swapoff", Why: "changes the machine's swap"},
	{Name: "reboot", Why: "reboots the machine (or the PID namespace)"},
	{Name: "settimeofday", Why: "sets the machine's clock: the clock is not namespaced"},
	{Name: "clock_settime", Why: "sets the machine's clock: the clock is not namespaced"},
	{Name: "clone3", Why: "its flags are behind a pointer seccomp cannot read, so namespace flags cannot be filtered (Docker returns ENOSYS for it; glibc then falls back to clone)"},
}

// cloneWhy is the reason given for clone allowed with namespace flags.
const cloneWhy = "creates namespaces (CLONE_NEWUSER gives CAP_SYS_ADMIN inside a user namespace)"

// DangerousWhy returns why the syscall name is on explain's list of
// dangerous syscalls, or "" when it is not (clone, judged by its flags, is
// not on it). profgen reachable groups unseen syscalls by it, and
// emit --envelope reachable leaves them out.
func DangerousWhy(name string) string {
	for _, d := range dangerous {
		if d.Name == name {
			return d.Why
		}
	}
	return ""
}
