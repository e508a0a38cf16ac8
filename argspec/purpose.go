package argspec

import "strings"

// Purposes of syscalls (Purpose): what a program usually makes them for.
const (
	PurposeFileWrite = "file writes"
	PurposeFileRead  = "file reads and metadata"
	PurposeDesc      = "descriptors and I/O multiplexing"
	PurposeProcess   = "process control"
	PurposeCreds     = "credentials and capabilities"
	PurposeNetwork   = "network"
	PurposeMemory    = "memory"
	PurposeSignal    = "signals"
	PurposeIPC       = "IPC"
	PurposeTime      = "time and timers"
	PurposeSystem    = "system administration"
	PurposeOther     = "other"
)

// purposes maps each purpose to its syscalls (the x86_64 names; a syscall
// of another architecture with the same name has the same purpose). The
// groups are those strace's -e trace=%CLASS classes draw, coarser:
// docs/reachable.md says what they are for (grouping what a recording
// never saw but the code can call).
var purposes = map[string][]string{
	PurposeFileWrite: {"write", "pwrite64", "writev", "pwritev", "pwritev2", "fsync", "fdatasync", "sync", "syncfs",
		"sync_file_range", "rename", "renameat", "renameat2", "unlink", "unlinkat", "mkdir", "mkdirat", "rmdir",
		"truncate", "ftruncate", "fallocate", "chmod", "fchmod", "fchmodat", "fchmodat2", "chown", "fchown",
		"lchown", "fchownat", "link", "linkat", "symlink", "symlinkat", "creat", "mknod", "mknodat", "utime",
		"utimes", "futimesat", "utimensat", "setxattr", "lsetxattr", "fsetxattr", "removexattr",
		"lremovexattr", "fremovexattr", "copy_file_range", "sendfile", "splice", "tee", "vmsplice"},
	PurposeFileRead: {"open", "openat", "openat2", "read", "pread64", "readv", "preadv", "preadv2", "stat", "fstat",
		"lstat", "newfstatat", "statx", "statfs", "fstatfs", "access", "faccessat", "faccessat2", "readlink",
		"readlinkat", "getdents", "getdents64", "getcwd", "chdir", "fchdir", "lseek", "getxattr", "lgetxattr",
		"fgetxattr", "listxattr", "llistxattr", "flistxattr", "fadvise64", "readahead",
		"name_to_handle_at", "open_by_handle_at", "chroot", "inotify_init", "inotify_init1", "inotify_add_watch",
		"inotify_rm_watch", "fanotify_init", "fanotify_mark", "flock", "open_tree"},
	PurposeDesc: {"close", "close_range", "dup", "dup2", "dup3", "fcntl", "ioctl", "pipe", "pipe2", "poll", "ppoll",
		"select", "pselect6", "epoll_create", "epoll_create1", "epoll_ctl", "epoll_wait", "epoll_pwait",
		"epoll_pwait2", "eventfd", "eventfd2", "io_setup", "io_destroy", "io_submit", "io_getevents",
		"io_pgetevents", "io_cancel", "io_uring_setup", "io_uring_enter", "io_uring_register"},
	PurposeProcess: {"fork", "vfork", "clone", "clone3", "execve", "execveat", "exit", "exit_group", "wait4",
		"waitid", "kill", "tkill", "tgkill", "getpid", "getppid", "gettid", "set_tid_address", "prctl",
		"arch_prctl", "ptrace", "process_vm_readv", "process_vm_writev", "pidfd_open", "pidfd_send_signal",
		"pidfd_getfd", "setpgid", "getpgid", "getpgrp", "setsid", "getsid", "sched_yield", "sched_setaffinity",
		"sched_getaffinity", "sched_setscheduler", "sched_getscheduler", "sched_setparam", "sched_getparam",
		"sched_setattr", "sched_getattr", "sched_get_priority_max", "sched_get_priority_min",
		"sched_rr_get_interval", "setpriority", "getpriority", "getrlimit", "setrlimit", "prlimit64", "getrusage",
		"times", "unshare", "setns", "seccomp", "personality", "set_robust_list", "get_robust_list", "rseq",
		"futex", "futex_waitv", "futex_wake", "futex_wait", "futex_requeue", "ioprio_set", "ioprio_get",
		"kcmp", "landlock_create_ruleset", "landlock_add_rule", "landlock_restrict_self", "restart_syscall"},
	PurposeCreds: {"setuid", "setgid", "setreuid", "setregid", "setresuid", "setresgid", "getresuid", "getresgid",
		"setfsuid", "setfsgid", "getuid", "geteuid", "getgid", "getegid", "getgroups", "setgroups", "capget",
		"capset"},
	PurposeNetwork: {"socket", "socketpair", "bind", "connect", "listen", "accept", "accept4", "sendto", "recvfrom",
		"sendmsg", "recvmsg", "sendmmsg", "recvmmsg", "shutdown", "getsockname", "getpeername", "setsockopt",
		"getsockopt", "sethostname", "setdomainname"},
	PurposeMemory: {"mmap", "munmap", "mprotect", "mremap", "brk", "madvise", "process_madvise", "mlock", "mlock2",
		"munlock", "mlockall", "munlockall", "mincore", "msync", "membarrier", "memfd_create", "memfd_secret",
		"userfaultfd", "mbind", "set_mempolicy", "get_mempolicy", "migrate_pages", "move_pages", "pkey_alloc",
		"pkey_free", "pkey_mprotect", "remap_file_pages", "map_shadow_stack", "process_mrelease"},
	PurposeSignal: {"rt_sigaction", "rt_sigprocmask", "rt_sigreturn", "rt_sigsuspend", "rt_sigpending",
		"rt_sigtimedwait", "rt_sigqueueinfo", "rt_tgsigqueueinfo", "sigaltstack", "signalfd", "signalfd4", "pause"},
	PurposeIPC: {"shmget", "shmat", "shmdt", "shmctl", "semget", "semop", "semtimedop", "semctl", "msgget", "msgsnd",
		"msgrcv", "msgctl", "mq_open", "mq_unlink", "mq_timedsend", "mq_timedreceive", "mq_notify", "mq_getsetattr"},
	PurposeTime: {"nanosleep", "clock_nanosleep", "clock_gettime", "clock_getres", "gettimeofday", "time",
		"timer_create", "timer_settime", "timer_gettime", "timer_getoverrun", "timer_delete", "timerfd_create",
		"timerfd_settime", "timerfd_gettime", "alarm", "setitimer", "getitimer", "settimeofday", "clock_settime",
		"clock_adjtime", "adjtimex"},
	PurposeSystem: {"mount", "umount2", "pivot_root", "swapon", "swapoff", "reboot", "kexec_load", "kexec_file_load",
		"init_module", "finit_module", "delete_module", "iopl", "ioperm", "acct", "quotactl", "quotactl_fd",
		"bpf", "perf_event_open", "keyctl", "add_key", "request_key", "syslog", "vhangup", "fsopen", "fsconfig",
		"fsmount", "fspick", "move_mount", "mount_setattr", "uname", "sysinfo", "getrandom", "getcpu", "sysfs",
		"ustat", "lookup_dcookie", "nfsservctl", "umask"},
}

var purposeOf = func() map[string]string {
	m := map[string]string{}
	for p, names := range purposes {
		for _, n := range names {
			m[n] = p
		}
	}
	return m
}()

// Purpose returns what a program usually makes the syscall name for (one
// of the Purpose constants): file writes, process control, network ...;
// PurposeOther for a syscall in no group.
func Purpose(name string) string {
	if p, ok := purposeOf[name]; ok {
		return p
	}
	switch {
	case strings.HasPrefix(name, "sched_"), strings.HasPrefix(name, "pidfd_"):
		return PurposeProcess
	case strings.HasPrefix(name, "timer"), strings.HasPrefix(name, "clock_"):
		return PurposeTime
	}
	return PurposeOther
}

// housekeeping are the calls a program's runtime makes when it needs to,
// not when the program's own code asks: a new thread (Go's scheduler
// starts one when a goroutine blocks in a syscall, glibc's pthread_create
// under a thread pool) and what the thread sets up, and the memory the
// allocator maps, protects and returns. A run that made one of them in
// start-up may make it again at any time while serving, however short the
// recorded serving phase was: without them, a Go server's serving filter
// denies the clone of its next thread and the runtime aborts
// ("newosproc"), or the mmap of its heap's growth.
var housekeeping = map[string]bool{
	"clone": true, "clone3": true, "gettid": true, "sigaltstack": true, "rt_sigprocmask": true,
	"set_robust_list": true, "rseq": true, "mmap": true, "munmap": true, "mprotect": true, "madvise": true,
	"brk": true, "futex": true, "sched_getaffinity": true,
}

// Housekeeping reports whether the syscall name is one a program's runtime
// makes whenever it needs to (threads, memory), whatever phase the
// program is in: emit's serving filter keeps those start-up made.
func Housekeeping(name string) bool { return housekeeping[name] }
