// SPDX-License-Identifier: (MIT OR GPL-2.0)
//
// paths.c records what Landlock governs that the target did: each
// filesystem access by (path, right) as the kernel resolved it, the TCP
// ports it bound and connected to, its connections to abstract UNIX
// sockets and the signals it sent outside its cgroup. It is compiled by
// bpf2go (see trace/gen.go), loaded by trace/paths.go on the maps of
// recorder.c that select the target (target.h), and attached beside it.
//
// The BPF LSM hooks are the ones Landlock itself uses (security/landlock/
// fs.c, net.c, task.c), so a right is recorded exactly where Landlock
// would check it, on the path the kernel resolved (bpf_path_d_path: the
// path from the task's root, in a container the container's path):
//   file_open        read_file or read_dir, write_file, execute (__FMODE_EXEC)
//   file_truncate, path_truncate  truncate
//   file_ioctl       ioctl_dev (a character or block device)
//   path_mknod, path_mkdir, path_symlink, path_link  make_*
//   path_unlink, path_rmdir  remove_*
//   path_rename, path_link   refer when the directories differ, remove_* and make_*
//   socket_bind, socket_connect  TCP ports; abstract UNIX sockets
//   task_kill        signals to tasks outside the recording cgroup
//
// A hook runs before the call is done: it leaves its access in the task's
// pending list (task storage) and profgen_sys_exit (raw tracepoint
// sys_exit) counts it, by the call's return value, as ok or failed.

#include <linux/bpf.h>
#include <bpf/bpf_helpers.h>
#include <bpf/bpf_core_read.h>
#include <bpf/bpf_tracing.h>

#include "kernel.h"
#include "target.h"

char __license[] SEC("license") = "Dual MIT/GPL";

// PATH_LEN is the longest path kept, its NUL included; a longer one is
// counted as unresolved (UNRES_LONG).
#define PATH_LEN 256
#define NAME_LEN 256
#define MAX_PENDING 8

// Rights: Landlock's LANDLOCK_ACCESS_FS_* bit numbers (recording.LandlockRights).
enum right {
	R_EXECUTE = 0, R_WRITE_FILE, R_READ_FILE, R_READ_DIR, R_REMOVE_DIR, R_REMOVE_FILE,
	R_MAKE_CHAR, R_MAKE_DIR, R_MAKE_REG, R_MAKE_SOCK, R_MAKE_FIFO, R_MAKE_BLOCK, R_MAKE_SYM,
	R_REFER, R_TRUNCATE, R_IOCTL_DEV,
	// Not paths: the key's port (network order converted) or nothing.
	K_TCP_BIND = 32, K_TCP_CONNECT, K_ABSTRACT_UNIX, K_SIGNAL_OUTSIDE,
	// Unresolved paths, by reason; the key's port holds the right.
	K_UNRES_LONG = 48, K_UNRES_DELETED, K_UNRES_PSEUDO, K_UNRES_ERROR,
};

// File types (pkey.type).
enum ftype { T_UNKNOWN = 0, T_DIR, T_REG, T_OTHER };

// pkey is one access: the counts map's key and an entry of a task's
// pending list.
struct pkey {
	__u8 kind; // enum right
	__u8 type; // enum ftype
	__u16 port;
	__u32 nr; // the syscall, for an unresolved access (else 0)
	char path[PATH_LEN];
};

struct pval {
	__u64 ok;
	__u64 failed;
};

// counts holds the accesses of the target by key, read at Collect.
struct {
	__uint(type, BPF_MAP_TYPE_HASH);
	__uint(max_entries, 16384);
	__type(key, struct pkey);
	__type(value, struct pval);
} path_counts SEC(".maps");

// lost counts the accesses that found path_counts full (index 0) or a
// task's pending list full (index 1).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 2);
	__type(key, __u32);
	__type(value, __u64);
} path_lost SEC(".maps");

// pending is a task's accesses of the call it is in, counted when the
// call returns.
struct pending {
	__u32 n;
	__u32 _pad;
	struct pkey k[MAX_PENDING];
};

struct {
	__uint(type, BPF_MAP_TYPE_TASK_STORAGE);
	__uint(map_flags, BPF_F_NO_PREALLOC);
	__type(key, int);
	__type(value, struct pending);
} pending SEC(".maps");

// pending_tasks[0] counts the tasks with a non-empty pending list: at
// zero, profgen_sys_exit returns at once (every syscall of the machine
// passes there).
struct {
	__uint(type, BPF_MAP_TYPE_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, __u64);
} pending_tasks SEC(".maps");

// scratch builds a key: a path of a directory and a name may overflow
// path into more before it is found too long.
struct scratch {
	struct pkey k;
	char more[NAME_LEN];
};

struct {
	__uint(type, BPF_MAP_TYPE_PERCPU_ARRAY);
	__uint(max_entries, 1);
	__type(key, __u32);
	__type(value, struct scratch);
} path_scratch SEC(".maps");

// The kernel's types, as far as they are read (CO-RE), beyond kernel.h's.
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

struct sockaddr;
struct kernel_siginfo;
struct cred;

extern int bpf_path_d_path(struct path *path, char *buf, __u64 buf__sz) __ksym;

#define S_IFMT 0170000
#define S_IFSOCK 0140000
#define S_IFLNK 0120000
#define S_IFREG 0100000
#define S_IFBLK 0060000
#define S_IFDIR 0040000
#define S_IFCHR 0020000
#define S_IFIFO 0010000

#define FMODE_READ 0x1
#define FMODE_WRITE 0x2
#define FMODE_EXEC_FLAG 0x20 // __FMODE_EXEC, in f_flags

#define AF_UNIX 1
#define AF_INET 2
#define AF_INET6 10
#define SOCK_STREAM 1
#define IPPROTO_TCP 6
#define EINPROGRESS 115

// selected reports whether the current task's accesses are recorded: the
// target's (target.h), armed as its syscalls are (exec reports whether the
// access is an execve's, which is recorded before the arming exec
// completed, as sys_enter counts execve).
static __always_inline int selected(int exec)
{
	struct task_struct *task = 0;
	if (!is_target(&task))
		return 0;
	if (arm_on_exec)
		return exec || is_tracked();
	__u32 zero = 0;
	struct arm *a = bpf_map_lookup_elem(&armed, &zero);
	return a && a->armed;
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

static __always_inline struct scratch *scratch(void)
{
	__u32 zero = 0;
	return bpf_map_lookup_elem(&path_scratch, &zero);
}

static __always_inline void lose(__u32 which)
{
	__u64 *l = bpf_map_lookup_elem(&path_lost, &which);
	if (l)
		__sync_fetch_and_add(l, 1);
}

// push appends k to the current task's pending list.
static __always_inline void push(struct pkey *k)
{
	struct task_struct *task = bpf_get_current_task_btf();
	struct pending *p = bpf_task_storage_get(&pending, task, 0, BPF_LOCAL_STORAGE_GET_F_CREATE);
	if (!p) {
		lose(1);
		return;
	}
	__u32 n = p->n;
	if (n >= MAX_PENDING) {
		lose(1);
		return;
	}
	if (n == 0) {
		__u32 zero = 0;
		__u64 *c = bpf_map_lookup_elem(&pending_tasks, &zero);
		if (c)
			__sync_fetch_and_add(c, 1);
	}
	__builtin_memcpy(&p->k[n & (MAX_PENDING - 1)], k, sizeof *k);
	p->n = n + 1;
}

// unresolved pushes an access whose path could not be read.
static __always_inline void unresolved(struct pkey *k, __u8 reason, __u8 right)
{
	k->kind = reason;
	k->port = right;
	k->type = 0;
	k->path[0] = 0;
	push(k);
}

// is_unlinked reports whether d is no longer in the tree (a file already
// removed): unhashed and not a root.
static __always_inline int is_unlinked(struct dentry *d)
{
	return BPF_CORE_READ(d, d_hash.pprev) == 0 && BPF_CORE_READ(d, d_parent) != d;
}

// push_path pushes (path, right): the path of p, or of name in the
// directory p when d is set.
static __always_inline void push_path(struct path *p, struct dentry *d, __u8 right, __u8 type)
{
	struct scratch *s = scratch();
	if (!s)
		return;
	struct pkey *k = &s->k;
	k->type = type;
	k->port = 0;
	k->nr = 0;
	if (is_unlinked(BPF_CORE_READ(p, dentry))) {
		unresolved(k, K_UNRES_DELETED, right);
		return;
	}
	long n = bpf_path_d_path(p, k->path, PATH_LEN);
	if (n == -36 /* ENAMETOOLONG */) {
		unresolved(k, K_UNRES_LONG, right);
		return;
	}
	if (n < 2) {
		unresolved(k, K_UNRES_ERROR, right);
		return;
	}
	if (k->path[0] != '/') {
		unresolved(k, K_UNRES_PSEUDO, right);
		return;
	}
	if (d) {
		// n counts the NUL: the name goes at n-1, after a '/' unless
		// the directory is the root.
		long off = n - 1;
		if (off > 1) {
			k->path[off & (PATH_LEN - 1)] = '/';
			off++;
		}
		if (off >= PATH_LEN) {
			unresolved(k, K_UNRES_LONG, right);
			return;
		}
		const unsigned char *name = BPF_CORE_READ(d, d_name.name);
		long m = bpf_probe_read_kernel_str(&k->path[off & (PATH_LEN - 1)], NAME_LEN, name);
		if (m < 0) {
			unresolved(k, K_UNRES_ERROR, right);
			return;
		}
		if (off + m > PATH_LEN) {
			unresolved(k, K_UNRES_LONG, right);
			return;
		}
	}
	k->kind = right;
	push(k);
}

static __always_inline __u8 make_right(unsigned short mode)
{
	switch (mode & S_IFMT) {
	case S_IFDIR:
		return R_MAKE_DIR;
	case S_IFCHR:
		return R_MAKE_CHAR;
	case S_IFBLK:
		return R_MAKE_BLOCK;
	case S_IFIFO:
		return R_MAKE_FIFO;
	case S_IFSOCK:
		return R_MAKE_SOCK;
	case S_IFLNK:
		return R_MAKE_SYM;
	}
	return R_MAKE_REG; // S_IFREG, or 0 (mknod's default)
}

static __always_inline unsigned short mode_of(struct dentry *d)
{
	struct inode *i = BPF_CORE_READ(d, d_inode);
	return i ? BPF_CORE_READ(i, i_mode) : 0;
}

SEC("lsm/file_open")
int BPF_PROG(profgen_file_open, struct file *file)
{
	unsigned int flags = file->f_flags;
	int exec = (flags & FMODE_EXEC_FLAG) != 0;
	if (!selected(exec))
		return 0;
	unsigned int fmode = file->f_mode;
	unsigned short imode = file->f_inode->i_mode;
	__u8 type = ftype_of(imode);
	if (fmode & FMODE_READ)
		push_path(&file->f_path, 0, type == T_DIR ? R_READ_DIR : R_READ_FILE, type);
	if (fmode & FMODE_WRITE)
		push_path(&file->f_path, 0, R_WRITE_FILE, type);
	if (exec)
		push_path(&file->f_path, 0, R_EXECUTE, type);
	return 0;
}

SEC("lsm/file_truncate")
int BPF_PROG(profgen_file_truncate, struct file *file)
{
	if (selected(0))
		push_path(&file->f_path, 0, R_TRUNCATE, ftype_of(file->f_inode->i_mode));
	return 0;
}

SEC("lsm/path_truncate")
int BPF_PROG(profgen_path_truncate, const struct path *path)
{
	if (selected(0))
		push_path((struct path *)path, 0, R_TRUNCATE, ftype_of(mode_of(path->dentry)));
	return 0;
}

// is_masked_ioctl mirrors Landlock's list of ioctl commands on devices that
// need no ioctl_dev (security/landlock/fs.c, is_masked_device_ioctl).
static __always_inline int is_masked_ioctl(unsigned int cmd)
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

SEC("lsm/file_ioctl")
int BPF_PROG(profgen_file_ioctl, struct file *file, unsigned int cmd)
{
	unsigned short imode = file->f_inode->i_mode;
	if ((imode & S_IFMT) != S_IFCHR && (imode & S_IFMT) != S_IFBLK)
		return 0;
	if (is_masked_ioctl(cmd) || !selected(0))
		return 0;
	push_path(&file->f_path, 0, R_IOCTL_DEV, T_OTHER);
	return 0;
}

SEC("lsm/path_mknod")
int BPF_PROG(profgen_path_mknod, const struct path *dir, struct dentry *dentry, unsigned short mode)
{
	if (selected(0)) {
		__u8 r = make_right(mode);
		push_path((struct path *)dir, dentry, r, r == R_MAKE_REG ? T_REG : T_OTHER);
	}
	return 0;
}

SEC("lsm/path_mkdir")
int BPF_PROG(profgen_path_mkdir, const struct path *dir, struct dentry *dentry)
{
	if (selected(0))
		push_path((struct path *)dir, dentry, R_MAKE_DIR, T_DIR);
	return 0;
}

SEC("lsm/path_symlink")
int BPF_PROG(profgen_path_symlink, const struct path *dir, struct dentry *dentry)
{
	if (selected(0))
		push_path((struct path *)dir, dentry, R_MAKE_SYM, T_OTHER);
	return 0;
}

SEC("lsm/path_unlink")
int BPF_PROG(profgen_path_unlink, const struct path *dir, struct dentry *dentry)
{
	if (selected(0))
		push_path((struct path *)dir, dentry, R_REMOVE_FILE, ftype_of(mode_of(dentry)));
	return 0;
}

SEC("lsm/path_rmdir")
int BPF_PROG(profgen_path_rmdir, const struct path *dir, struct dentry *dentry)
{
	if (selected(0))
		push_path((struct path *)dir, dentry, R_REMOVE_DIR, T_DIR);
	return 0;
}

static __always_inline __u8 remove_right(unsigned short mode)
{
	return (mode & S_IFMT) == S_IFDIR ? R_REMOVE_DIR : R_REMOVE_FILE;
}

// path_link(struct dentry *old_dentry, const struct path *new_dir, struct
// dentry *new_dentry): make_* of the old file's type at the new path, and
// refer on it when the directories differ (the old path has no struct path
// here; its directory's refer is not recorded).
SEC("lsm/path_link")
int BPF_PROG(profgen_path_link, struct dentry *old_dentry, const struct path *new_dir, struct dentry *new_dentry)
{
	if (!selected(0))
		return 0;
	unsigned short m = mode_of(old_dentry);
	push_path((struct path *)new_dir, new_dentry, make_right(m), ftype_of(m));
	if (BPF_CORE_READ(old_dentry, d_parent) != new_dir->dentry)
		push_path((struct path *)new_dir, new_dentry, R_REFER, ftype_of(m));
	return 0;
}

#define RENAME_EXCHANGE 2

// path_rename: remove_* at the old path, make_* at the new one (and the
// reverse for RENAME_EXCHANGE), remove_* at the new path it replaces, refer
// on both when the directories differ.
SEC("lsm/path_rename")
int BPF_PROG(profgen_path_rename, const struct path *old_dir, struct dentry *old_dentry,
	     const struct path *new_dir, struct dentry *new_dentry, unsigned int flags)
{
	if (!selected(0))
		return 0;
	unsigned short om = mode_of(old_dentry), nm = mode_of(new_dentry);
	push_path((struct path *)old_dir, old_dentry, remove_right(om), ftype_of(om));
	push_path((struct path *)new_dir, new_dentry, make_right(om), ftype_of(om));
	if (nm)
		push_path((struct path *)new_dir, new_dentry, remove_right(nm), ftype_of(nm));
	if (flags & RENAME_EXCHANGE)
		push_path((struct path *)old_dir, old_dentry, make_right(nm), ftype_of(nm));
	if (old_dir->dentry != new_dir->dentry) {
		push_path((struct path *)old_dir, old_dentry, R_REFER, ftype_of(om));
		push_path((struct path *)new_dir, new_dentry, R_REFER, ftype_of(om));
	}
	return 0;
}

// push_other pushes an access that is no path.
static __always_inline void push_other(__u8 kind, __u16 port)
{
	struct scratch *s = scratch();
	if (!s)
		return;
	s->k.kind = kind;
	s->k.type = 0;
	s->k.port = port;
	s->k.nr = 0;
	s->k.path[0] = 0;
	push(&s->k);
}

// socket_addr pushes a TCP port of sock's address (Landlock's net.c: a
// TCP stream socket of family AF_INET or AF_INET6), or an abstract UNIX
// address.
static __always_inline void socket_addr(struct socket *sock, struct sockaddr *address, int addrlen, __u8 kind)
{
	struct sock *sk = sock->sk;
	if (!sk)
		return;
	unsigned short family = 0;
	if (addrlen < 2 || bpf_probe_read_kernel(&family, sizeof family, address))
		return;
	if (family == AF_UNIX) {
		char first = 1;
		if (kind == K_TCP_CONNECT && addrlen > 2 &&
		    !bpf_probe_read_kernel(&first, 1, (char *)address + 2) && first == 0)
			push_other(K_ABSTRACT_UNIX, 0);
		return;
	}
	if (family != AF_INET && family != AF_INET6)
		return;
	if (sk->sk_type != SOCK_STREAM || (sk->sk_protocol != IPPROTO_TCP && sk->sk_protocol != 0))
		return;
	if (sk->__sk_common.skc_family != AF_INET && sk->__sk_common.skc_family != AF_INET6)
		return;
	__u16 port = 0;
	if (addrlen < 4 || bpf_probe_read_kernel(&port, sizeof port, (char *)address + 2))
		return;
	push_other(kind, __builtin_bswap16(port));
}

SEC("lsm/socket_bind")
int BPF_PROG(profgen_socket_bind, struct socket *sock, struct sockaddr *address, int addrlen)
{
	if (selected(0))
		socket_addr(sock, address, addrlen, K_TCP_BIND);
	return 0;
}

SEC("lsm/socket_connect")
int BPF_PROG(profgen_socket_connect, struct socket *sock, struct sockaddr *address, int addrlen)
{
	if (selected(0))
		socket_addr(sock, address, addrlen, K_TCP_CONNECT);
	return 0;
}

// task_kill(struct task_struct *p, ...): a signal to a task outside the
// recording cgroup (or, in process-tree mode, outside the tracked
// processes).
SEC("lsm/task_kill")
int BPF_PROG(profgen_task_kill, struct task_struct *p)
{
	if (!selected(0))
		return 0;
	int outside;
	if (mode != MODE_CGROUP) {
		__u32 tgid = BPF_CORE_READ(p, tgid);
		__u32 *t = bpf_map_lookup_elem(&tracked, &tgid);
		outside = !t || *t != TRACK_TARGET;
	} else if (target_level) {
		outside = !in_target_cgroup(p);
	} else {
		return 0; // no level to compare with: not decided, not counted
	}
	if (outside)
		push_other(K_SIGNAL_OUTSIDE, 0);
	return 0;
}

// sys_exit(struct pt_regs *regs, long ret): the call is done; its pending
// accesses are counted by its return value.
SEC("raw_tracepoint/sys_exit")
int profgen_sys_exit(struct bpf_raw_tracepoint_args *ctx)
{
	__u32 zero = 0;
	__u64 *c = bpf_map_lookup_elem(&pending_tasks, &zero);
	if (!c || *c == 0)
		return 0;
	struct task_struct *task = bpf_get_current_task_btf();
	struct pending *p = bpf_task_storage_get(&pending, task, 0, 0);
	if (!p || p->n == 0)
		return 0;
	long ret = (long)ctx->args[1];
	__u32 n = p->n;
	for (__u32 i = 0; i < MAX_PENDING; i++) {
		if (i >= n)
			break;
		struct pkey *k = &p->k[i];
		if (k->kind >= K_UNRES_LONG) {
			struct pt_regs *regs = (struct pt_regs *)ctx->args[0];
			k->nr = (__u32)BPF_CORE_READ(regs, orig_ax);
		}
		int ok = ret >= 0 || (ret == -EINPROGRESS && k->kind == K_TCP_CONNECT);
		struct pval *v = bpf_map_lookup_elem(&path_counts, k);
		if (!v) {
			struct pval init = {};
			bpf_map_update_elem(&path_counts, k, &init, BPF_NOEXIST);
			v = bpf_map_lookup_elem(&path_counts, k);
			if (!v) {
				lose(0);
				continue;
			}
		}
		if (ok)
			__sync_fetch_and_add(&v->ok, 1);
		else
			__sync_fetch_and_add(&v->failed, 1);
	}
	p->n = 0;
	__sync_fetch_and_add(c, -1);
	return 0;
}
