// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// paths.h records what Landlock governs that the target did, for
// recorder.c, from the raw tracepoint sys_exit (tp_btf: the registers and
// the return value by direct loads) and from sched_process_exec. Nothing
// of it runs unless paths_on is set (a load-time constant), and then its
// sys_exit program returns after one load for every syscall that is not
// one of the file, socket and signal calls path_nr names.
//
// What the kernel opened is read from the task's file table at the call's
// return: fd[ret] of an open, fd[arg0] of ftruncate, ioctl, bind and
// connect, and mm->exe_file after an execve. Its path is walked from its
// dentry and mount up to the task's root (walk_step, as d_path does), so
// it is the path the kernel resolved (relative names, dirfds, `..` and
// symlinks resolved; in a container the container's path). The rights
// come from the opened file: f_mode (read, write), the inode's type
// (read_dir for a directory) and FMODE_CREATED (make_reg: the open created
// the file); truncate from the O_TRUNC the program gave (the kernel clears
// it from the file's flags). Such accesses are counted in
// path_seen by the file's identity (dentry, mount, name hash, parent),
// right, executable and phase; the path of an identity is sent once, on
// path_events.
//
// Calls that return no file (mkdir, mknod, unlink, rmdir, rename, link,
// symlink, truncate, a UNIX socket's bind to a path, a failed open or
// execve, a script's execve) send one event each: the directory they were relative to (the dirfd's or the
// cwd's, walked the same way) and the name the program gave, which user
// space joins (trace/paths.go).

#ifndef PROFGEN_PATHS_H
#define PROFGEN_PATHS_H

// paths_on: record paths (EBPFOptions.Paths).
volatile const __u32 paths_on = 0;
// path_nr[nr] is the class (enum pcall) of syscall nr, 0 for the calls
// that are not recorded here.
volatile const __u8 path_nr[MAX_NR] = {};

enum pcall {
	PC_NONE = 0,
	PC_OPEN, PC_OPENAT, PC_OPENAT2, PC_CREAT,
	PC_EXECVE, PC_EXECVEAT,
	PC_MKDIR, PC_MKDIRAT, PC_MKNOD, PC_MKNODAT,
	PC_RMDIR, PC_UNLINK, PC_UNLINKAT,
	PC_RENAME, PC_RENAMEAT, PC_RENAMEAT2, PC_LINK, PC_LINKAT,
	PC_SYMLINK, PC_SYMLINKAT,
	PC_TRUNCATE, PC_FTRUNCATE, PC_IOCTL,
	PC_BIND, PC_CONNECT,
	PC_KILL, PC_TKILL, PC_TGKILL,
	PC_EXEC_DONE, // a successful execve's script (sched_process_exec)
};

// Rights: Landlock's LANDLOCK_ACCESS_FS_* bit numbers (recording.LandlockRights).
enum right {
	R_EXECUTE = 0, R_WRITE_FILE, R_READ_FILE, R_READ_DIR, R_REMOVE_DIR, R_REMOVE_FILE,
	R_MAKE_CHAR, R_MAKE_DIR, R_MAKE_REG, R_MAKE_SOCK, R_MAKE_FIFO, R_MAKE_BLOCK, R_MAKE_SYM,
	R_REFER, R_TRUNCATE, R_IOCTL_DEV,
	K_TCP_BIND = 32, K_TCP_CONNECT, K_ABSTRACT_UNIX,
};

// File types.
enum ftype { T_UNKNOWN = 0, T_DIR, T_REG, T_OTHER };

// pident is a file's identity: dentry and mount, and the name's hash and
// parent, so that a dentry renamed or reused is another identity. For a
// port, dentry is the port.
struct pident {
	__u64 dentry;
	__u64 mnt;
	__u64 hash_len;
	__u64 parent;
};

// pseen_key counts an access: kind is the right (enum right) | type << 8
// | ok << 16, exe the executable's slot | phase << 16.
struct pseen_key {
	struct pident id;
	__u32 kind;
	__u32 exe;
};

struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pseen_key);
	__type(value, __u64);
} path_seen SEC(".maps");

// path_named holds the identities whose path was sent (value: NAMED_*).
#define NAMED_PATH 1
#define NAMED_EXEC 2 // sent with EV_EXEC: user space reads its ELF interpreter
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 65536);
	__type(key, struct pident);
	__type(value, __u32);
} path_named SEC(".maps");

// path_lost counts what was not recorded: 0 path_seen full, 1 path_events
// full, 2 path_named full.
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 3);
	__type(key, __u32);
	__type(value, __u64);
} path_lost SEC(".maps");

struct {
	__uint(type, BPF_MAP_TYPE_RINGBUF);
	__uint(max_entries, 16 << 20);
} path_events SEC(".maps");

// Events (pevent.what).
#define EV_FILE 1   // id's path is nm
#define EV_EXEC 2   // id's path is nm, and it was executed
#define EV_NAME 3   // a call by name: nm is the directory, str the name
#define EV_SIGNAL 4 // a signal sent to arg (a pid) succeeded

// pevent.dir
#define DIR_NONE 0    // str is absolute: no directory
#define DIR_WALKED 1  // nm is the directory
#define DIR_UNKNOWN 2 // the dirfd was no open file

#define PSTR_LEN 4096

struct pevent {
	__u32 what;
	__u32 pc; // enum pcall
	__u32 nr;
	__u32 side; // 0; 1 for the second name of rename and link
	__s64 ret;
	__u64 arg; // flags or mode of the call (see trace/paths.go)
	__u64 call; // the same for both sides of one call
	__u32 tgid;
	__u32 exe;
	__u32 dir;
	__u32 deleted; // the file was unlinked when walked
	struct pident id;
	char str[PSTR_LEN];
	struct names nm;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct pevent);
} path_scratch SEC(".maps");

struct sock_common {
	unsigned short skc_family;
} __attribute__((preserve_access_index));

struct sock {
	struct sock_common __sk_common;
	unsigned short sk_type;
	unsigned short sk_protocol;
} __attribute__((preserve_access_index));

struct socket {
	struct sock *sk;
} __attribute__((preserve_access_index));

#define S_IFMT 0170000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_CREATED 0x100000
#define O_TRUNC 01000
#define AT_FDCWD -100
#define AT_EMPTY_PATH 0x1000

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define EINPROGRESS 115
#define ENOENT 2
#define ENOTDIR 20
#define EPERM 1
#define EACCES 13

static __always_inline void lose(__u32 which)
{
	__u64 *l = bpf_map_lookup_elem(&path_lost, &which);
	if (l)
		__sync_fetch_and_add(l, 1);
}

static __always_inline __u8 ftype_of(unsigned short mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return T_DIR;
	case S_IFREG:
		return T_REG;
	case 0:
		return T_UNKNOWN;
	}
	return T_OTHER;
}

// as_file gives a typed, read-only view of a struct file, so that its
// fields are read by direct loads (no helper call).
static __always_inline struct file *as_file(void *p)
{
	return bpf_rdonly_cast(p, bpf_core_type_id_kernel(struct file));
}

// fd_file returns the task's open file fd, or 0. task is read by direct
// loads (current_task); the table's entry by one probe read.
static __always_inline struct file *fd_file(struct task_struct *task, long fd)
{
	struct files_struct *files = task->files;
	if (!files)
		return 0;
	struct fdtable *fdt = files->fdt;
	if (!fdt || fd < 0 || fd >= fdt->max_fds)
		return 0;
	struct file **arr = fdt->fd;
	void *f = 0;
	if (bpf_probe_read_kernel(&f, sizeof f, &arr[fd]) || !f)
		return 0;
	return as_file(f);
}

static __always_inline struct pevent *pevent(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&path_scratch, &zero);
}

// walk_path fills ev->nm with the components of (d, vm) up to task's root.
static __always_inline void walk_path(struct pevent *ev, struct task_struct *task, struct dentry *d, struct vfsmount *vm)
{
	ev->nm.n = 0;
	ev->nm.complete = 0;
	struct walk w = {
		.d = d,
		.vm = vm,
		.root = BPF_CORE_READ(task, fs, root.dentry),
		.rootmnt = BPF_CORE_READ(task, fs, root.mnt),
		.nm = &ev->nm,
	};
	bpf_loop(NAMES + 16, walk_step, &w, 0);
}

static __always_inline void send(struct pevent *ev)
{
	if (bpf_ringbuf_output(&path_events, ev, sizeof *ev, 0))
		lose(1);
}

// is_unlinked reports whether d is no longer in the tree (unhashed, not a
// root).
static __always_inline int is_unlinked(struct dentry *d)
{
	return BPF_CORE_READ(d, d_hash.pprev) == 0 && BPF_CORE_READ(d, d_parent) != d;
}

// path_cache is each CPU's cache of path_seen: a direct-mapped table of
// keys and the counts not yet added to path_seen (added when the entry is
// evicted, or summed by user space at Collect). A file opened again and
// again costs no hash lookup and no atomic operation.
#define PCACHE 4096
struct pcache_ent {
	struct pseen_key k;
	__u64 n;
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, PCACHE);
	__type(key, __u32);
	__type(value, struct pcache_ent);
} path_cache SEC(".maps");

static __always_inline int same_key(struct pseen_key *a, struct pseen_key *b)
{
	return a->id.dentry == b->id.dentry && a->id.mnt == b->id.mnt && a->id.hash_len == b->id.hash_len &&
	       a->id.parent == b->id.parent && a->kind == b->kind && a->exe == b->exe;
}

// seen_add adds n to path_seen[k].
static __always_inline void seen_add(struct pseen_key *k, __u64 n)
{
	__u64 *v = bpf_map_lookup_elem(&path_seen, k);
	if (v) {
		__sync_fetch_and_add(v, n);
		return;
	}
	if (bpf_map_update_elem(&path_seen, k, &n, BPF_NOEXIST)) {
		v = bpf_map_lookup_elem(&path_seen, k);
		if (v)
			__sync_fetch_and_add(v, n);
		else
			lose(0);
	}
}

// count_file counts right on file, and sends its path when it is new
// (with exec, as an executed file).
static __always_inline void count_file(struct task_struct *task, struct file *file, __u8 right, __u8 type, int ok,
				       __u32 exe, int exec)
{
	struct dentry *d = file->f_path.dentry;
	struct vfsmount *vm = file->f_path.mnt;
	if (!d || !vm)
		return;
	struct pseen_key k = {
		.id = {.dentry = (__u64)d, .mnt = (__u64)vm, .hash_len = d->d_name.hash_len, .parent = (__u64)d->d_parent},
		.kind = right | (type << 8) | ((ok ? 1 : 0) << 16),
		.exe = exe,
	};
	// This CPU's cache: a hit is one inlined array lookup and a compare.
	// The slot from scalars (the verifier forbids arithmetic on the
	// pointers): the name's hash and its parent's, the kind and exe.
	struct dentry *up = d->d_parent;
	__u64 ph = up ? up->d_name.hash_len : 0;
	__u64 h = k.id.hash_len ^ (ph * 0x9e3779b97f4a7c15ull) ^ ((__u64)k.kind << 40) ^ ((__u64)k.exe << 20);
	__u32 slot = (__u32)(h ^ (h >> 32) ^ (h >> 13)) & (PCACHE - 1);
	struct pcache_ent *c = bpf_map_lookup_elem(&path_cache, &slot);
	if (!c)
		return;
	if (c->n && same_key(&c->k, &k)) {
		c->n += 1;
		if (!exec)
			return;
	} else {
		if (c->n)
			seen_add(&c->k, c->n);
		c->n = 0;
		// First seen on this CPU: known to path_seen (its count 0
		// until the cache entry is evicted or read at Collect)?
		__u64 zero = 0;
		long err = bpf_map_update_elem(&path_seen, &k, &zero, BPF_NOEXIST);
		if (err && err != -17 /* EEXIST */) {
			lose(0);
			return;
		}
		__builtin_memcpy(&c->k, &k, sizeof k);
		c->n = 1;
	}
	__u32 want = exec ? NAMED_EXEC : NAMED_PATH;
	__u32 *named = bpf_map_lookup_elem(&path_named, &k.id);
	if (named && (*named & want))
		return;
	__u32 nv = want | (named ? *named : 0);
	if (bpf_map_update_elem(&path_named, &k.id, &nv, 0)) {
		lose(2);
		return;
	}
	struct pevent *ev = pevent();
	if (!ev)
		return;
	ev->what = exec ? EV_EXEC : EV_FILE;
	ev->pc = 0;
	ev->nr = 0;
	ev->side = 0;
	ev->ret = 0;
	ev->arg = 0;
	ev->call = 0;
	ev->tgid = bpf_get_current_pid_tgid() >> 32;
	ev->exe = exe;
	ev->dir = DIR_NONE;
	ev->deleted = is_unlinked(d);
	ev->id = k.id;
	ev->str[0] = 0;
	walk_path(ev, task, d, vm);
	send(ev);
}

// count_other counts an access that is no file (a port, an abstract UNIX
// socket).
static __always_inline void count_other(__u8 kind, __u16 port, int ok, __u32 exe)
{
	struct pseen_key k = {.id = {.dentry = port}, .kind = kind | ((ok ? 1 : 0) << 16), .exe = exe};
	__u64 *v = bpf_map_lookup_elem(&path_seen, &k);
	if (v) {
		__sync_fetch_and_add(v, 1);
		return;
	}
	__u64 one = 1;
	long err = bpf_map_update_elem(&path_seen, &k, &one, BPF_NOEXIST);
	if (err == -17) {
		v = bpf_map_lookup_elem(&path_seen, &k);
		if (v)
			__sync_fetch_and_add(v, 1);
	} else if (err) {
		lose(0);
	}
}

// send_name sends a call by name: the directory dirfd (AT_FDCWD: the
// cwd) unless the name is absolute, and the name, from user memory, or
// from the kernel when kname.
static __always_inline void send_name(struct task_struct *task, __u32 pc, __u32 nr, long ret, long dirfd,
				      const char *name, int kname, __u64 arg, __u32 side, __u64 call, __u32 exe)
{
	struct pevent *ev = pevent();
	if (!ev)
		return;
	long n = kname ? bpf_probe_read_kernel_str(ev->str, PSTR_LEN, name)
		       : bpf_probe_read_user_str(ev->str, PSTR_LEN, name);
	// No name (AT_EMPTY_PATH, a fault): the kernel resolved nothing by
	// it, except the source of a linkat with AT_EMPTY_PATH, which is the
	// descriptor's file itself (an O_TMPFILE file given a name): sent with
	// the descriptor's path walked and no name.
	if (n <= 1 && !(n == 1 && pc == PC_LINKAT && side == 0 && (arg & AT_EMPTY_PATH)))
		return;
	ev->what = EV_NAME;
	ev->pc = pc;
	ev->nr = nr;
	ev->side = side;
	ev->ret = ret;
	ev->arg = arg;
	ev->call = call;
	ev->tgid = bpf_get_current_pid_tgid() >> 32;
	ev->exe = exe;
	ev->deleted = 0;
	ev->id = (struct pident){};
	ev->nm.n = 0;
	ev->nm.complete = 0;
	ev->dir = DIR_NONE;
	if (ev->str[0] != '/') {
		struct dentry *d = 0;
		struct vfsmount *vm = 0;
		if (dirfd == AT_FDCWD) {
			d = BPF_CORE_READ(task, fs, pwd.dentry);
			vm = BPF_CORE_READ(task, fs, pwd.mnt);
		} else {
			struct file *f = fd_file(task, dirfd);
			if (f) {
				d = BPF_CORE_READ(f, f_path.dentry);
				vm = BPF_CORE_READ(f, f_path.mnt);
			}
		}
		if (d && vm) {
			ev->dir = DIR_WALKED;
			ev->deleted = is_unlinked(d);
			walk_path(ev, task, d, vm);
		} else {
			ev->dir = DIR_UNKNOWN;
		}
	}
	send(ev);
}

// is_masked_ioctl mirrors Landlock's list of ioctl commands on devices that
// need no ioctl_dev (security/landlock/fs.c, is_masked_device_ioctl).
static __always_inline int is_masked_ioctl(unsigned long cmd)
{
	switch (cmd) {
	case 0x5451: // FIOCLEX
	case 0x5450: // FIONCLEX
	case 0x5421: // FIONBIO
	case 0x5452: // FIOASYNC
	case 0x5460: // FIOQSIZE
	case 0x541B: // FIONREAD
		return 1;
	}
	return 0;
}

// socket_call counts a bind or connect of a TCP socket by port, or a
// connect to an abstract UNIX socket.
static __always_inline void socket_call(struct task_struct *task, struct pt_regs *regs, long ret, int connect,
					__u32 nr, __u32 exe)
{
	const char *addr = (const char *)regs->si;
	long len = regs->dx;
	unsigned short family = 0;
	if (len < 2 || bpf_probe_read_user(&family, sizeof family, addr))
		return;
	int ok = ret >= 0 || (connect && ret == -EINPROGRESS);
	if (family == AF_UNIX) {
		char first = 1;
		if (len <= 2 || bpf_probe_read_user(&first, 1, addr + 2))
			return;
		if (connect && first == 0)
			count_other(K_ABSTRACT_UNIX, 0, ok, exe);
		// A bind to a path makes the socket's file (unix_bind):
		// Landlock checks make_sock there, by name like mknod. Other
		// errors (EADDRINUSE) come before the check.
		if (!connect && first != 0 && (ret == 0 || ret == -EACCES || ret == -EPERM))
			send_name(task, PC_BIND, nr, ret, AT_FDCWD, addr + 2, 0, 0, 0, bpf_ktime_get_ns(), exe);
		return;
	}
	if ((family != AF_INET && family != AF_INET6) || len < 4)
		return;
	struct file *f = fd_file(task, regs->di);
	if (!f)
		return;
	struct socket *sock = BPF_CORE_READ(f, private_data);
	struct sock *sk = BPF_CORE_READ(sock, sk);
	if (!sk || BPF_CORE_READ(sk, sk_type) != SOCK_STREAM)
		return;
	unsigned short proto = BPF_CORE_READ(sk, sk_protocol);
	if (proto != IPPROTO_TCP && proto != 0)
		return;
	__u16 port = 0;
	if (bpf_probe_read_user(&port, sizeof port, addr + 2))
		return;
	count_other(connect ? K_TCP_CONNECT : K_TCP_BIND, __builtin_bswap16(port), ok, exe);
}

// open_flags returns the flags the program gave an open of class pc,
// from the task's registers; 0 when they cannot be read.
static __always_inline __u64 open_flags(__u32 pc)
{
	if (pc == PC_CREAT)
		return 01 | 0100 | O_TRUNC; // O_WRONLY|O_CREAT|O_TRUNC
	struct pt_regs *regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
	if (!regs)
		return 0;
	__u64 flags = 0;
	switch (pc) {
	case PC_OPEN:
		return regs->si;
	case PC_OPENAT:
		return regs->dx;
	case PC_OPENAT2:
		if (bpf_probe_read_user(&flags, sizeof flags, (void *)regs->dx))
			return 0;
		// In a register from here: one load of the stack and of the
		// registers merged is refused by the verifier.
		asm volatile("" : "+r"(flags));
		return flags;
	}
	return 0;
}

// open_done counts a successful open of class pc: its rights, from the
// file the kernel opened (fd ret), and truncate from the flags the program
// gave (the kernel clears O_TRUNC from f_flags as it opens,
// do_dentry_open).
static __always_inline void open_done(struct task_struct *task, __u32 pc, long ret, __u32 exe)
{
	struct file *f = fd_file(task, ret);
	if (!f)
		return;
	unsigned int fmode = f->f_mode;
	struct inode *ino = f->f_inode;
	__u8 type = ino ? ftype_of(ino->i_mode) : T_UNKNOWN;
	if (fmode & FMODE_CREATED)
		count_file(task, f, R_MAKE_REG, type, 1, exe, 0);
	if (fmode & FMODE_READ)
		count_file(task, f, type == T_DIR ? R_READ_DIR : R_READ_FILE, type, 1, exe, 0);
	if (fmode & FMODE_WRITE)
		count_file(task, f, R_WRITE_FILE, type, 1, exe, 0);
	// O_TRUNC truncates a regular file whatever the access mode (an
	// O_RDONLY|O_TRUNC open too: do_open, handle_truncate), and Landlock
	// checks truncate for it (hook_file_truncate). A file the open created
	// is not truncated, but the next run, finding it there, will be:
	// truncate is counted for it too.
	if (type == T_REG && (open_flags(pc) & O_TRUNC))
		count_file(task, f, R_TRUNCATE, type, 1, exe, 0);
}

// path_calls counts one finished call of class pc. regs is 0 when the
// caller has not fetched the registers: a successful open (the common
// case) needs none.
static __always_inline void path_call(struct task_struct *task, struct pt_regs *regs, long ret, __u32 pc, __u32 nr,
				      __u32 exe)
{
	if ((pc == PC_OPEN || pc == PC_OPENAT || pc == PC_OPENAT2 || pc == PC_CREAT) && ret >= 0) {
		open_done(task, pc, ret, exe);
		return;
	}
	if (!regs) {
		regs = (struct pt_regs *)bpf_task_pt_regs(bpf_get_current_task_btf());
		if (!regs)
			return;
	}
	__u64 call = bpf_ktime_get_ns();
	switch (pc) {
	case PC_OPEN:
	case PC_OPENAT:
	case PC_OPENAT2:
	case PC_CREAT:
		if (ret == -ENOENT || ret == -ENOTDIR)
			return; // nothing was there to access
		{
			long dirfd = AT_FDCWD;
			const char *name = (const char *)regs->di;
			__u64 flags = regs->si;
			if (pc == PC_OPENAT || pc == PC_OPENAT2) {
				dirfd = (int)regs->di;
				name = (const char *)regs->si;
				flags = regs->dx;
				if (pc == PC_OPENAT2 && bpf_probe_read_user(&flags, sizeof flags, (void *)regs->dx))
					flags = 0;
			} else if (pc == PC_CREAT) {
				flags = 01 | 0100 | 01000; // O_WRONLY|O_CREAT|O_TRUNC
			}
			send_name(task, pc, nr, ret, dirfd, name, 0, flags, 0, call, exe);
		}
		return;
	case PC_EXECVE:
		if (ret < 0 && ret != -ENOENT && ret != -ENOTDIR)
			send_name(task, pc, nr, ret, AT_FDCWD, (const char *)regs->di, 0, 0, 0, call, exe);
		return;
	case PC_EXECVEAT:
		if (ret < 0 && ret != -ENOENT && ret != -ENOTDIR)
			send_name(task, pc, nr, ret, (int)regs->di, (const char *)regs->si, 0, 0, 0, call, exe);
		return;
	case PC_MKDIR:
	case PC_RMDIR:
	case PC_UNLINK:
	case PC_TRUNCATE:
		send_name(task, pc, nr, ret, AT_FDCWD, (const char *)regs->di, 0, regs->si, 0, call, exe);
		return;
	case PC_MKNOD:
		send_name(task, pc, nr, ret, AT_FDCWD, (const char *)regs->di, 0, regs->si, 0, call, exe);
		return;
	case PC_MKDIRAT:
	case PC_MKNODAT:
	case PC_UNLINKAT:
		send_name(task, pc, nr, ret, (int)regs->di, (const char *)regs->si, 0, regs->dx, 0, call, exe);
		return;
	case PC_RENAME:
	case PC_LINK:
		send_name(task, pc, nr, ret, AT_FDCWD, (const char *)regs->di, 0, 0, 0, call, exe);
		send_name(task, pc, nr, ret, AT_FDCWD, (const char *)regs->si, 0, 0, 1, call, exe);
		return;
	case PC_RENAMEAT:
	case PC_RENAMEAT2:
	case PC_LINKAT:
		send_name(task, pc, nr, ret, (int)regs->di, (const char *)regs->si, 0, regs->r8, 0, call, exe);
		send_name(task, pc, nr, ret, (int)regs->dx, (const char *)regs->r10, 0, regs->r8, 1, call, exe);
		return;
	case PC_SYMLINK:
		send_name(task, pc, nr, ret, AT_FDCWD, (const char *)regs->si, 0, 0, 0, call, exe);
		return;
	case PC_SYMLINKAT:
		send_name(task, pc, nr, ret, (int)regs->si, (const char *)regs->dx, 0, 0, 0, call, exe);
		return;
	case PC_FTRUNCATE:
	case PC_IOCTL: {
		struct file *f = fd_file(task, regs->di);
		if (!f)
			return;
		struct inode *ino = f->f_inode;
		unsigned short mode = ino ? ino->i_mode : 0;
		if (pc == PC_FTRUNCATE) {
			count_file(task, f, R_TRUNCATE, ftype_of(mode), ret >= 0, exe, 0);
			return;
		}
		if ((mode & S_IFMT) != S_IFCHR && (mode & S_IFMT) != S_IFBLK)
			return;
		// Landlock checks ioctl_dev before the device sees the
		// request: an error of the device's (ENOTTY from isatty on
		// /dev/null, EINVAL) means the request got past the check,
		// and under a ruleset without the right the program would get
		// EACCES instead. Only a refusal (EACCES, EPERM) is a failure.
		if (!is_masked_ioctl(regs->si))
			count_file(task, f, R_IOCTL_DEV, T_OTHER, ret >= 0 || (ret != -EACCES && ret != -EPERM), exe, 0);
		return;
	}
	case PC_BIND:
	case PC_CONNECT:
		socket_call(task, regs, ret, pc == PC_CONNECT, nr, exe);
		return;
	case PC_KILL:
	case PC_TKILL:
	case PC_TGKILL:
		if (ret == 0) {
			// To itself (its process, or the calling thread):
			// inside, known here without a lookup.
			__u64 pidtgid = bpf_get_current_pid_tgid();
			int to = (int)regs->di;
			if (to == (int)(pidtgid >> 32) || (pc == PC_TKILL && to == (int)(__u32)pidtgid))
				return;
			struct pevent *ev = pevent();
			if (!ev)
				return;
			ev->what = EV_SIGNAL;
			ev->pc = pc;
			ev->nr = nr;
			ev->arg = (__u64)(__s64)(int)regs->di;
			ev->tgid = bpf_get_current_pid_tgid() >> 32;
			ev->exe = exe;
			ev->nm.n = 0;
			ev->str[0] = 0;
			send(ev);
		}
		return;
	}
}

// path_exe returns the slot | phase << 16 of the calling task, or -1 when
// the call is not the target's.
static __always_inline long path_exe(struct task_struct **task, int exec)
{
	if (!is_target(task))
		return -1;
	__u32 zero = 0;
	struct arm *a = bpf_map_lookup_elem(&armed, &zero);
	if (!a)
		return -1;
	if (arm_on_exec ? !(exec || is_tracked()) : !a->armed)
		return -1;
	__u32 ph = a->phase & 1;
	struct fast *f = bpf_map_lookup_elem(&fast, &ph);
	if (!f)
		return -1;
	if (!*task)
		*task = current_task();
	return exe_slot(f, *task, a->exe_gen) | (ph << 16);
}

// paths_exit counts a call of the target that is done: nr with its
// registers and return value.
static __always_inline void paths_exit(struct pt_regs *regs, long id, long ret)
{
	if (!paths_on)
		return;
	if (id < 0 || id >= MAX_NR)
		return;
	__u32 pc = path_nr[id];
	if (!pc)
		return;
	struct task_struct *task = 0;
	long exe = path_exe(&task, 0);
	if (exe < 0)
		return;
	path_call(task, regs, ret, pc, (__u32)id, (__u32)exe);
}

// sys_exit_tp is the context of a program on a syscall's own exit event
// (syscalls/sys_exit_NAME, kernel/trace/trace_syscalls.c,
// perf_call_bpf_exit): after the entry's header (which a program may not
// read), the number and the return value. The registers are the task's
// (bpf_task_pt_regs).
struct sys_exit_tp {
	__u64 header;
	__s32 nr;
	__s32 _pad;
	__s64 ret;
};

// profgen_paths_event is attached (trace/paths_attach.go) to the exit
// events of the calls path_nr names, each alone: the kernel runs it for
// those calls only, and every other syscall costs one bit test in the
// kernel's perf_syscall_exit.
SEC("tracepoint/syscalls/sys_exit")
int profgen_paths_event(struct sys_exit_tp *ctx)
{
	paths_exit(0, ctx->nr, ctx->ret);
	return 0;
}

// profgen_paths_exit is the same on the raw tracepoint sys_exit (BTF
// arguments), where the syscalls' own events cannot be used: it runs for
// every syscall of the machine.
SEC("tp_btf/sys_exit")
int BPF_PROG(profgen_paths_exit, struct pt_regs *regs, long ret)
{
	paths_exit(regs, regs->orig_ax, ret);
	return 0;
}

// path_exec records an execve that succeeded (sched_process_exec): execute
// and read_file on the new executable, and on the script the execve named
// when the kernel ran an interpreter for it (bprm->interp is then not the
// filename).
static __always_inline void path_exec(struct task_struct *task, struct linux_binprm *bprm)
{
	struct task_struct *t = task;
	long exe = path_exe(&t, 1);
	if (exe < 0)
		return;
	void *exe_file = BPF_CORE_READ(t, mm, exe_file);
	if (!exe_file)
		return;
	struct file *file = as_file(exe_file);
	__u8 type = ftype_of(BPF_CORE_READ(file, f_inode, i_mode));
	count_file(t, file, R_EXECUTE, type, 1, (__u32)exe, 1);
	count_file(t, file, R_READ_FILE, type, 1, (__u32)exe, 0);
	const char *filename = BPF_CORE_READ(bprm, filename);
	if (filename != BPF_CORE_READ(bprm, interp))
		send_name(t, PC_EXEC_DONE, 0, 0, AT_FDCWD, filename, 1, 0, 0, bpf_ktime_get_ns(), (__u32)exe);
}

#endif
