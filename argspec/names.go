package argspec

import (
	"fmt"
	"math/bits"
	"runtime"
	"slices"
	"strings"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// linux/futex.h's operations; golang.org/x/sys/unix does not export them.
const (
	futexWait          = 0
	futexWake          = 1
	futexFD            = 2
	futexRequeue       = 3
	futexCmpRequeue    = 4
	futexWakeOp        = 5
	futexLockPI        = 6
	futexUnlockPI      = 7
	futexTrylockPI     = 8
	futexWaitBitset    = 9
	futexWakeBitset    = 10
	futexWaitRequeuePI = 11
	futexCmpRequeuePI  = 12
	futexLockPI2       = 13
)

// asm-generic/ioctls.h's FIO* requests; golang.org/x/sys/unix does not
// export them.
const (
	fionread = 0x541b
	fionbio  = 0x5421
	fionclex = 0x5450
	fioclex  = 0x5451
	fioasync = 0x5452
)

// nameArch is the architecture golang.org/x/sys/unix was built for, whose
// values the names hold. For an argument whose Arch is Same they hold on
// each of namedArches too; open flags are named per architecture
// (OpenFlagBits).
var nameArch = abi.Arch(runtime.GOARCH)

// namedArches are the architectures whose values TestTableArch checks the
// Arch of every argument for (learn's target architectures).
var namedArches = []abi.Arch{"amd64", "arm64"}

// n makes a list of names from value, name pairs.
func n(pairs ...any) []Name {
	out := make([]Name, 0, len(pairs)/2)
	for i := 0; i < len(pairs); i += 2 {
		var v uint64
		switch x := pairs[i].(type) {
		case int:
			v = uint64(x)
		case uint:
			v = uint64(x)
		case uint32:
			v = uint64(x)
		case uint64:
			v = x
		default:
			panic(fmt.Sprintf("argspec: name %v: value of type %T", pairs[i+1], x))
		}
		out = append(out, Name{Value: v, Name: pairs[i+1].(string)})
	}
	return out
}

// argNames are the names of each argument's values, by syscall and
// argument name; init puts them in Table.
var argNames = map[[2]string][]Name{
	{"socket", "domain"}: familyNames, {"socket", "type"}: sockTypeNames, {"socket", "protocol"}: protocolNames,
	{"socketpair", "domain"}: familyNames, {"socketpair", "type"}: sockTypeNames,
	{"ioctl", "request"}: ioctlNames, {"prctl", "option"}: prctlNames, {"fcntl", "cmd"}: fcntlNames,
	{"arch_prctl", "code"}: archPrctlNames, {"personality", "persona"}: personaNames,
	{"clone", "flags"}: cloneNames, {"unshare", "flags"}: nsNames, {"setns", "nstype"}: nsNames,
	{"mmap", "prot"}: protNames, {"mprotect", "prot"}: protNames, {"pkey_mprotect", "prot"}: protNames,
	{"setsockopt", "level"}: levelNames, {"getsockopt", "level"}: levelNames,
	{"open", "flags"}: openNames, {"openat", "flags"}: openNames,
	{"kill", "sig"}: signalNames, {"tgkill", "sig"}: signalNames, {"tkill", "sig"}: signalNames,
	{"rt_sigqueueinfo", "sig"}: signalNames, {"madvise", "advice"}: madviseNames, {"futex", "op"}: futexNames,
	{"bpf", "cmd"}: bpfNames, {"keyctl", "operation"}: keyctlNames,
}

// optnameBy are the names of setsockopt's and getsockopt's optname by
// level (argument 1).
var optnameBy = &By{Index: 1, Names: map[uint64][]Name{
	unix.SOL_SOCKET: soNames, unix.IPPROTO_TCP: tcpNames, unix.IPPROTO_IP: ipNames, unix.IPPROTO_IPV6: ipv6Names,
}}

func init() {
	for i := range Table {
		for j := range Table[i].Args {
			a := &Table[i].Args[j]
			a.Names = argNames[[2]string{Table[i].Syscall, a.Name}]
			if a.Name == "optname" {
				a.By = optnameBy
			}
		}
	}
}

var (
	familyNames = n(
		unix.AF_UNSPEC, "AF_UNSPEC", unix.AF_UNIX, "AF_UNIX", unix.AF_INET, "AF_INET", unix.AF_INET6, "AF_INET6",
		unix.AF_NETLINK, "AF_NETLINK", unix.AF_PACKET, "AF_PACKET", unix.AF_VSOCK, "AF_VSOCK", unix.AF_ALG, "AF_ALG",
		unix.AF_BLUETOOTH, "AF_BLUETOOTH", unix.AF_CAN, "AF_CAN", unix.AF_KEY, "AF_KEY", unix.AF_XDP, "AF_XDP",
		unix.AF_TIPC, "AF_TIPC", unix.AF_RDS, "AF_RDS", unix.AF_X25, "AF_X25", unix.AF_AX25, "AF_AX25",
		unix.AF_APPLETALK, "AF_APPLETALK", unix.AF_IPX, "AF_IPX", unix.AF_NFC, "AF_NFC", unix.AF_QIPCRTR, "AF_QIPCRTR",
		unix.AF_SMC, "AF_SMC", unix.AF_MCTP, "AF_MCTP")
	// sockTypeNames are socket types and, outside the argument's mask,
	// the flags that may come with any of them.
	sockTypeNames = n(
		unix.SOCK_STREAM, "SOCK_STREAM", unix.SOCK_DGRAM, "SOCK_DGRAM", unix.SOCK_RAW, "SOCK_RAW",
		unix.SOCK_RDM, "SOCK_RDM", unix.SOCK_SEQPACKET, "SOCK_SEQPACKET", unix.SOCK_DCCP, "SOCK_DCCP", unix.SOCK_PACKET, "SOCK_PACKET",
		unix.SOCK_NONBLOCK, "SOCK_NONBLOCK", unix.SOCK_CLOEXEC, "SOCK_CLOEXEC")
	protocolNames = n(
		unix.IPPROTO_IP, "IPPROTO_IP", unix.IPPROTO_ICMP, "IPPROTO_ICMP", unix.IPPROTO_TCP, "IPPROTO_TCP",
		unix.IPPROTO_UDP, "IPPROTO_UDP", unix.IPPROTO_IPV6, "IPPROTO_IPV6", unix.IPPROTO_ICMPV6, "IPPROTO_ICMPV6",
		unix.IPPROTO_RAW, "IPPROTO_RAW", unix.IPPROTO_SCTP, "IPPROTO_SCTP", unix.IPPROTO_UDPLITE, "IPPROTO_UDPLITE",
		unix.IPPROTO_MPTCP, "IPPROTO_MPTCP")
	ioctlNames = n(
		unix.TCGETS, "TCGETS", unix.TCSETS, "TCSETS", unix.TCSETSW, "TCSETSW", unix.TCSETSF, "TCSETSF",
		unix.TCGETA, "TCGETA", unix.TCSETA, "TCSETA", unix.TCSBRK, "TCSBRK", unix.TCXONC, "TCXONC", unix.TCFLSH, "TCFLSH",
		unix.TIOCEXCL, "TIOCEXCL", unix.TIOCNXCL, "TIOCNXCL", unix.TIOCSCTTY, "TIOCSCTTY", unix.TIOCGPGRP, "TIOCGPGRP",
		unix.TIOCSPGRP, "TIOCSPGRP", unix.TIOCOUTQ, "TIOCOUTQ", unix.TIOCSTI, "TIOCSTI", unix.TIOCGWINSZ, "TIOCGWINSZ",
		unix.TIOCSWINSZ, "TIOCSWINSZ", unix.TIOCMGET, "TIOCMGET", unix.TIOCMSET, "TIOCMSET", fionread, "FIONREAD",
		unix.TIOCLINUX, "TIOCLINUX", unix.TIOCCONS, "TIOCCONS", fionbio, "FIONBIO", unix.TIOCNOTTY, "TIOCNOTTY",
		unix.TIOCSETD, "TIOCSETD", unix.TIOCGETD, "TIOCGETD", unix.TIOCGSID, "TIOCGSID", unix.TIOCGPTN, "TIOCGPTN",
		unix.TIOCSPTLCK, "TIOCSPTLCK", unix.TIOCGPTPEER, "TIOCGPTPEER", fionclex, "FIONCLEX", fioclex, "FIOCLEX",
		fioasync, "FIOASYNC", unix.FICLONE, "FICLONE", unix.FICLONERANGE, "FICLONERANGE",
		unix.FS_IOC_GETFLAGS, "FS_IOC_GETFLAGS", unix.FS_IOC_SETFLAGS, "FS_IOC_SETFLAGS",
		unix.BLKGETSIZE64, "BLKGETSIZE64", unix.BLKSSZGET, "BLKSSZGET",
		unix.SIOCGIFNAME, "SIOCGIFNAME", unix.SIOCGIFCONF, "SIOCGIFCONF", unix.SIOCGIFFLAGS, "SIOCGIFFLAGS",
		unix.SIOCSIFFLAGS, "SIOCSIFFLAGS", unix.SIOCGIFADDR, "SIOCGIFADDR", unix.SIOCGIFMTU, "SIOCGIFMTU",
		unix.SIOCGIFHWADDR, "SIOCGIFHWADDR", unix.SIOCGIFINDEX, "SIOCGIFINDEX", unix.SIOCGIFNETMASK, "SIOCGIFNETMASK",
		unix.SIOCGIFBRDADDR, "SIOCGIFBRDADDR", unix.SIOCETHTOOL, "SIOCETHTOOL", unix.SIOCGSTAMP, "SIOCGSTAMP",
		unix.NS_GET_USERNS, "NS_GET_USERNS", unix.NS_GET_PARENT, "NS_GET_PARENT",
		unix.PERF_EVENT_IOC_ENABLE, "PERF_EVENT_IOC_ENABLE", unix.PERF_EVENT_IOC_DISABLE, "PERF_EVENT_IOC_DISABLE",
		unix.RNDGETENTCNT, "RNDGETENTCNT")
	prctlNames = n(
		unix.PR_SET_PDEATHSIG, "PR_SET_PDEATHSIG", unix.PR_GET_PDEATHSIG, "PR_GET_PDEATHSIG",
		unix.PR_GET_DUMPABLE, "PR_GET_DUMPABLE", unix.PR_SET_DUMPABLE, "PR_SET_DUMPABLE",
		unix.PR_GET_KEEPCAPS, "PR_GET_KEEPCAPS", unix.PR_SET_KEEPCAPS, "PR_SET_KEEPCAPS",
		unix.PR_SET_NAME, "PR_SET_NAME", unix.PR_GET_NAME, "PR_GET_NAME",
		unix.PR_GET_SECCOMP, "PR_GET_SECCOMP", unix.PR_SET_SECCOMP, "PR_SET_SECCOMP",
		unix.PR_CAPBSET_READ, "PR_CAPBSET_READ", unix.PR_CAPBSET_DROP, "PR_CAPBSET_DROP",
		unix.PR_GET_SECUREBITS, "PR_GET_SECUREBITS", unix.PR_SET_SECUREBITS, "PR_SET_SECUREBITS",
		unix.PR_SET_TIMERSLACK, "PR_SET_TIMERSLACK", unix.PR_GET_TIMERSLACK, "PR_GET_TIMERSLACK",
		unix.PR_SET_MM, "PR_SET_MM", unix.PR_SET_CHILD_SUBREAPER, "PR_SET_CHILD_SUBREAPER",
		unix.PR_GET_CHILD_SUBREAPER, "PR_GET_CHILD_SUBREAPER", unix.PR_SET_NO_NEW_PRIVS, "PR_SET_NO_NEW_PRIVS",
		unix.PR_GET_NO_NEW_PRIVS, "PR_GET_NO_NEW_PRIVS", unix.PR_SET_THP_DISABLE, "PR_SET_THP_DISABLE",
		unix.PR_GET_THP_DISABLE, "PR_GET_THP_DISABLE", unix.PR_CAP_AMBIENT, "PR_CAP_AMBIENT",
		unix.PR_SET_VMA, "PR_SET_VMA", unix.PR_GET_SPECULATION_CTRL, "PR_GET_SPECULATION_CTRL",
		unix.PR_SET_SPECULATION_CTRL, "PR_SET_SPECULATION_CTRL", unix.PR_SET_PTRACER, "PR_SET_PTRACER",
		unix.PR_SET_MDWE, "PR_SET_MDWE", unix.PR_GET_MDWE, "PR_GET_MDWE")
	fcntlNames = n(
		unix.F_DUPFD, "F_DUPFD", unix.F_GETFD, "F_GETFD", unix.F_SETFD, "F_SETFD", unix.F_GETFL, "F_GETFL",
		unix.F_SETFL, "F_SETFL", unix.F_GETLK, "F_GETLK", unix.F_SETLK, "F_SETLK", unix.F_SETLKW, "F_SETLKW",
		unix.F_SETOWN, "F_SETOWN", unix.F_GETOWN, "F_GETOWN", unix.F_SETSIG, "F_SETSIG", unix.F_GETSIG, "F_GETSIG",
		unix.F_SETOWN_EX, "F_SETOWN_EX", unix.F_GETOWN_EX, "F_GETOWN_EX",
		unix.F_OFD_GETLK, "F_OFD_GETLK", unix.F_OFD_SETLK, "F_OFD_SETLK", unix.F_OFD_SETLKW, "F_OFD_SETLKW",
		unix.F_SETLEASE, "F_SETLEASE", unix.F_GETLEASE, "F_GETLEASE", unix.F_NOTIFY, "F_NOTIFY",
		unix.F_DUPFD_CLOEXEC, "F_DUPFD_CLOEXEC", unix.F_SETPIPE_SZ, "F_SETPIPE_SZ", unix.F_GETPIPE_SZ, "F_GETPIPE_SZ",
		unix.F_ADD_SEALS, "F_ADD_SEALS", unix.F_GET_SEALS, "F_GET_SEALS")
	archPrctlNames = n(0x1001, "ARCH_SET_GS", 0x1002, "ARCH_SET_FS", 0x1003, "ARCH_GET_FS", 0x1004, "ARCH_GET_GS",
		0x1011, "ARCH_GET_CPUID", 0x1012, "ARCH_SET_CPUID")
	cloneNames = n(
		unix.CLONE_VM, "CLONE_VM", unix.CLONE_FS, "CLONE_FS", unix.CLONE_FILES, "CLONE_FILES",
		unix.CLONE_SIGHAND, "CLONE_SIGHAND", unix.CLONE_PIDFD, "CLONE_PIDFD", unix.CLONE_PTRACE, "CLONE_PTRACE",
		unix.CLONE_VFORK, "CLONE_VFORK", unix.CLONE_PARENT, "CLONE_PARENT", unix.CLONE_THREAD, "CLONE_THREAD",
		unix.CLONE_NEWNS, "CLONE_NEWNS", unix.CLONE_SYSVSEM, "CLONE_SYSVSEM", unix.CLONE_SETTLS, "CLONE_SETTLS",
		unix.CLONE_PARENT_SETTID, "CLONE_PARENT_SETTID", unix.CLONE_CHILD_CLEARTID, "CLONE_CHILD_CLEARTID",
		unix.CLONE_DETACHED, "CLONE_DETACHED", unix.CLONE_UNTRACED, "CLONE_UNTRACED",
		unix.CLONE_CHILD_SETTID, "CLONE_CHILD_SETTID", unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP",
		unix.CLONE_NEWUTS, "CLONE_NEWUTS", unix.CLONE_NEWIPC, "CLONE_NEWIPC", unix.CLONE_NEWUSER, "CLONE_NEWUSER",
		unix.CLONE_NEWPID, "CLONE_NEWPID", unix.CLONE_NEWNET, "CLONE_NEWNET", unix.CLONE_IO, "CLONE_IO",
		unix.CLONE_NEWTIME, "CLONE_NEWTIME")
	protNames = n(
		unix.PROT_NONE, "PROT_NONE", unix.PROT_READ, "PROT_READ", unix.PROT_WRITE, "PROT_WRITE", unix.PROT_EXEC, "PROT_EXEC",
		unix.PROT_GROWSDOWN, "PROT_GROWSDOWN", unix.PROT_GROWSUP, "PROT_GROWSUP")
	// openNames are the open flags with one value on every target
	// architecture; the four of OpenFlagBits are added per architecture.
	openNames = n(
		unix.O_RDONLY, "O_RDONLY", unix.O_WRONLY, "O_WRONLY", unix.O_RDWR, "O_RDWR", unix.O_CREAT, "O_CREAT",
		unix.O_EXCL, "O_EXCL", unix.O_NOCTTY, "O_NOCTTY", unix.O_TRUNC, "O_TRUNC", unix.O_APPEND, "O_APPEND",
		unix.O_NONBLOCK, "O_NONBLOCK", unix.O_DSYNC, "O_DSYNC", unix.O_ASYNC, "O_ASYNC", unix.O_NOATIME, "O_NOATIME",
		unix.O_CLOEXEC, "O_CLOEXEC", unix.O_SYNC, "O_SYNC", unix.O_PATH, "O_PATH", unix.O_TMPFILE, "O_TMPFILE")
	signalNames = func() []Name {
		var out []Name
		for s := unix.Signal(1); s < 32; s++ {
			if name := unix.SignalName(s); name != "" {
				out = append(out, Name{uint64(s), name})
			}
		}
		return out
	}()
	madviseNames = n(
		unix.MADV_NORMAL, "MADV_NORMAL", unix.MADV_RANDOM, "MADV_RANDOM", unix.MADV_SEQUENTIAL, "MADV_SEQUENTIAL",
		unix.MADV_WILLNEED, "MADV_WILLNEED", unix.MADV_DONTNEED, "MADV_DONTNEED", unix.MADV_FREE, "MADV_FREE",
		unix.MADV_REMOVE, "MADV_REMOVE", unix.MADV_DONTFORK, "MADV_DONTFORK", unix.MADV_DOFORK, "MADV_DOFORK",
		unix.MADV_MERGEABLE, "MADV_MERGEABLE", unix.MADV_UNMERGEABLE, "MADV_UNMERGEABLE",
		unix.MADV_HUGEPAGE, "MADV_HUGEPAGE", unix.MADV_NOHUGEPAGE, "MADV_NOHUGEPAGE",
		unix.MADV_DONTDUMP, "MADV_DONTDUMP", unix.MADV_DODUMP, "MADV_DODUMP", unix.MADV_WIPEONFORK, "MADV_WIPEONFORK",
		unix.MADV_KEEPONFORK, "MADV_KEEPONFORK", unix.MADV_COLD, "MADV_COLD", unix.MADV_PAGEOUT, "MADV_PAGEOUT",
		unix.MADV_POPULATE_READ, "MADV_POPULATE_READ", unix.MADV_POPULATE_WRITE, "MADV_POPULATE_WRITE",
		unix.MADV_COLLAPSE, "MADV_COLLAPSE", unix.MADV_HWPOISON, "MADV_HWPOISON")
	futexNames = n(
		futexWait, "FUTEX_WAIT", futexWake, "FUTEX_WAKE", futexFD, "FUTEX_FD", futexRequeue, "FUTEX_REQUEUE",
		futexCmpRequeue, "FUTEX_CMP_REQUEUE", futexWakeOp, "FUTEX_WAKE_OP", futexLockPI, "FUTEX_LOCK_PI",
		futexUnlockPI, "FUTEX_UNLOCK_PI", futexTrylockPI, "FUTEX_TRYLOCK_PI", futexWaitBitset, "FUTEX_WAIT_BITSET",
		futexWakeBitset, "FUTEX_WAKE_BITSET", futexWaitRequeuePI, "FUTEX_WAIT_REQUEUE_PI",
		futexCmpRequeuePI, "FUTEX_CMP_REQUEUE_PI", futexLockPI2, "FUTEX_LOCK_PI2",
		futexPrivateFlag, "FUTEX_PRIVATE_FLAG", futexClockRealtime, "FUTEX_CLOCK_REALTIME")
	bpfNames = n(
		unix.BPF_MAP_CREATE, "BPF_MAP_CREATE", unix.BPF_MAP_LOOKUP_ELEM, "BPF_MAP_LOOKUP_ELEM",
		unix.BPF_MAP_UPDATE_ELEM, "BPF_MAP_UPDATE_ELEM", unix.BPF_MAP_DELETE_ELEM, "BPF_MAP_DELETE_ELEM",
		unix.BPF_MAP_GET_NEXT_KEY, "BPF_MAP_GET_NEXT_KEY", unix.BPF_PROG_LOAD, "BPF_PROG_LOAD",
		unix.BPF_OBJ_PIN, "BPF_OBJ_PIN", unix.BPF_OBJ_GET, "BPF_OBJ_GET", unix.BPF_PROG_ATTACH, "BPF_PROG_ATTACH",
		unix.BPF_PROG_DETACH, "BPF_PROG_DETACH", unix.BPF_PROG_TEST_RUN, "BPF_PROG_TEST_RUN",
		unix.BPF_OBJ_GET_INFO_BY_FD, "BPF_OBJ_GET_INFO_BY_FD", unix.BPF_PROG_QUERY, "BPF_PROG_QUERY",
		unix.BPF_RAW_TRACEPOINT_OPEN, "BPF_RAW_TRACEPOINT_OPEN", unix.BPF_BTF_LOAD, "BPF_BTF_LOAD",
		unix.BPF_LINK_CREATE, "BPF_LINK_CREATE")
	nsNames = n(unix.CLONE_NEWNS, "CLONE_NEWNS", unix.CLONE_NEWCGROUP, "CLONE_NEWCGROUP", unix.CLONE_NEWUTS, "CLONE_NEWUTS",
		unix.CLONE_NEWIPC, "CLONE_NEWIPC", unix.CLONE_NEWUSER, "CLONE_NEWUSER", unix.CLONE_NEWPID, "CLONE_NEWPID",
		unix.CLONE_NEWNET, "CLONE_NEWNET", unix.CLONE_NEWTIME, "CLONE_NEWTIME")
	levelNames = n(unix.SOL_SOCKET, "SOL_SOCKET", unix.IPPROTO_IP, "IPPROTO_IP", unix.IPPROTO_TCP, "IPPROTO_TCP",
		unix.IPPROTO_UDP, "IPPROTO_UDP", unix.IPPROTO_IPV6, "IPPROTO_IPV6", unix.SOL_NETLINK, "SOL_NETLINK",
		unix.SOL_PACKET, "SOL_PACKET")
	keyctlNames = n(
		unix.KEYCTL_GET_KEYRING_ID, "KEYCTL_GET_KEYRING_ID", unix.KEYCTL_JOIN_SESSION_KEYRING, "KEYCTL_JOIN_SESSION_KEYRING",
		unix.KEYCTL_UPDATE, "KEYCTL_UPDATE", unix.KEYCTL_REVOKE, "KEYCTL_REVOKE", unix.KEYCTL_DESCRIBE, "KEYCTL_DESCRIBE",
		unix.KEYCTL_SEARCH, "KEYCTL_SEARCH", unix.KEYCTL_READ, "KEYCTL_READ", unix.KEYCTL_LINK, "KEYCTL_LINK",
		unix.KEYCTL_UNLINK, "KEYCTL_UNLINK", unix.KEYCTL_SETPERM, "KEYCTL_SETPERM")
	personaNames = n(0, "PER_LINUX", 0x0008, "PER_LINUX32", 0xffffffff, "PER_QUERY")
	// The names of optname by level (optnameBy). Where two names share a
	// value (SO_TIMESTAMP_OLD and SO_TIMESTAMP), the one the headers
	// define for this ABI is listed.
	soNames = n(
		unix.SO_DEBUG, "SO_DEBUG", unix.SO_REUSEADDR, "SO_REUSEADDR", unix.SO_TYPE, "SO_TYPE", unix.SO_ERROR, "SO_ERROR",
		unix.SO_DONTROUTE, "SO_DONTROUTE", unix.SO_BROADCAST, "SO_BROADCAST", unix.SO_SNDBUF, "SO_SNDBUF",
		unix.SO_RCVBUF, "SO_RCVBUF", unix.SO_KEEPALIVE, "SO_KEEPALIVE", unix.SO_OOBINLINE, "SO_OOBINLINE",
		unix.SO_NO_CHECK, "SO_NO_CHECK", unix.SO_PRIORITY, "SO_PRIORITY", unix.SO_LINGER, "SO_LINGER",
		unix.SO_BSDCOMPAT, "SO_BSDCOMPAT", unix.SO_REUSEPORT, "SO_REUSEPORT", unix.SO_PASSCRED, "SO_PASSCRED",
		unix.SO_PEERCRED, "SO_PEERCRED", unix.SO_RCVLOWAT, "SO_RCVLOWAT", unix.SO_SNDLOWAT, "SO_SNDLOWAT",
		unix.SO_RCVTIMEO_OLD, "SO_RCVTIMEO", unix.SO_SNDTIMEO_OLD, "SO_SNDTIMEO",
		unix.SO_BINDTODEVICE, "SO_BINDTODEVICE", unix.SO_ATTACH_FILTER, "SO_ATTACH_FILTER",
		unix.SO_DETACH_FILTER, "SO_DETACH_FILTER", unix.SO_PEERNAME, "SO_PEERNAME",
		unix.SO_TIMESTAMP_OLD, "SO_TIMESTAMP", unix.SO_ACCEPTCONN, "SO_ACCEPTCONN", unix.SO_PEERSEC, "SO_PEERSEC",
		unix.SO_SNDBUFFORCE, "SO_SNDBUFFORCE", unix.SO_RCVBUFFORCE, "SO_RCVBUFFORCE", unix.SO_PASSSEC, "SO_PASSSEC",
		unix.SO_TIMESTAMPNS_OLD, "SO_TIMESTAMPNS", unix.SO_MARK, "SO_MARK", unix.SO_TIMESTAMPING_OLD, "SO_TIMESTAMPING",
		unix.SO_PROTOCOL, "SO_PROTOCOL", unix.SO_DOMAIN, "SO_DOMAIN", unix.SO_RXQ_OVFL, "SO_RXQ_OVFL",
		unix.SO_WIFI_STATUS, "SO_WIFI_STATUS", unix.SO_PEEK_OFF, "SO_PEEK_OFF", unix.SO_NOFCS, "SO_NOFCS",
		unix.SO_LOCK_FILTER, "SO_LOCK_FILTER", unix.SO_SELECT_ERR_QUEUE, "SO_SELECT_ERR_QUEUE",
		unix.SO_BUSY_POLL, "SO_BUSY_POLL", unix.SO_MAX_PACING_RATE, "SO_MAX_PACING_RATE",
		unix.SO_BPF_EXTENSIONS, "SO_BPF_EXTENSIONS", unix.SO_INCOMING_CPU, "SO_INCOMING_CPU",
		unix.SO_ATTACH_BPF, "SO_ATTACH_BPF", unix.SO_ATTACH_REUSEPORT_CBPF, "SO_ATTACH_REUSEPORT_CBPF",
		unix.SO_ATTACH_REUSEPORT_EBPF, "SO_ATTACH_REUSEPORT_EBPF", unix.SO_CNX_ADVICE, "SO_CNX_ADVICE",
		unix.SO_MEMINFO, "SO_MEMINFO", unix.SO_INCOMING_NAPI_ID, "SO_INCOMING_NAPI_ID", unix.SO_COOKIE, "SO_COOKIE",
		unix.SO_PEERGROUPS, "SO_PEERGROUPS", unix.SO_ZEROCOPY, "SO_ZEROCOPY", unix.SO_TXTIME, "SO_TXTIME",
		unix.SO_BINDTOIFINDEX, "SO_BINDTOIFINDEX", unix.SO_TIMESTAMP_NEW, "SO_TIMESTAMP_NEW",
		unix.SO_TIMESTAMPNS_NEW, "SO_TIMESTAMPNS_NEW", unix.SO_TIMESTAMPING_NEW, "SO_TIMESTAMPING_NEW",
		unix.SO_RCVTIMEO_NEW, "SO_RCVTIMEO_NEW", unix.SO_SNDTIMEO_NEW, "SO_SNDTIMEO_NEW",
		unix.SO_DETACH_REUSEPORT_BPF, "SO_DETACH_REUSEPORT_BPF", unix.SO_PREFER_BUSY_POLL, "SO_PREFER_BUSY_POLL",
		unix.SO_BUSY_POLL_BUDGET, "SO_BUSY_POLL_BUDGET", unix.SO_NETNS_COOKIE, "SO_NETNS_COOKIE",
		unix.SO_BUF_LOCK, "SO_BUF_LOCK", unix.SO_RESERVE_MEM, "SO_RESERVE_MEM", unix.SO_TXREHASH, "SO_TXREHASH",
		unix.SO_RCVMARK, "SO_RCVMARK", unix.SO_PASSPIDFD, "SO_PASSPIDFD", unix.SO_PEERPIDFD, "SO_PEERPIDFD")
	tcpNames = n(
		unix.TCP_NODELAY, "TCP_NODELAY", unix.TCP_MAXSEG, "TCP_MAXSEG", unix.TCP_CORK, "TCP_CORK",
		unix.TCP_KEEPIDLE, "TCP_KEEPIDLE", unix.TCP_KEEPINTVL, "TCP_KEEPINTVL", unix.TCP_KEEPCNT, "TCP_KEEPCNT",
		unix.TCP_SYNCNT, "TCP_SYNCNT", unix.TCP_LINGER2, "TCP_LINGER2", unix.TCP_DEFER_ACCEPT, "TCP_DEFER_ACCEPT",
		unix.TCP_WINDOW_CLAMP, "TCP_WINDOW_CLAMP", unix.TCP_INFO, "TCP_INFO", unix.TCP_QUICKACK, "TCP_QUICKACK",
		unix.TCP_CONGESTION, "TCP_CONGESTION", unix.TCP_MD5SIG, "TCP_MD5SIG", unix.TCP_THIN_LINEAR_TIMEOUTS, "TCP_THIN_LINEAR_TIMEOUTS",
		unix.TCP_THIN_DUPACK, "TCP_THIN_DUPACK", unix.TCP_USER_TIMEOUT, "TCP_USER_TIMEOUT", unix.TCP_REPAIR, "TCP_REPAIR",
		unix.TCP_REPAIR_QUEUE, "TCP_REPAIR_QUEUE", unix.TCP_QUEUE_SEQ, "TCP_QUEUE_SEQ", unix.TCP_REPAIR_OPTIONS, "TCP_REPAIR_OPTIONS",
		unix.TCP_FASTOPEN, "TCP_FASTOPEN", unix.TCP_TIMESTAMP, "TCP_TIMESTAMP", unix.TCP_NOTSENT_LOWAT, "TCP_NOTSENT_LOWAT",
		unix.TCP_CC_INFO, "TCP_CC_INFO", unix.TCP_SAVE_SYN, "TCP_SAVE_SYN", unix.TCP_SAVED_SYN, "TCP_SAVED_SYN",
		unix.TCP_REPAIR_WINDOW, "TCP_REPAIR_WINDOW", unix.TCP_FASTOPEN_CONNECT, "TCP_FASTOPEN_CONNECT",
		unix.TCP_ULP, "TCP_ULP", unix.TCP_MD5SIG_EXT, "TCP_MD5SIG_EXT", unix.TCP_FASTOPEN_KEY, "TCP_FASTOPEN_KEY",
		unix.TCP_FASTOPEN_NO_COOKIE, "TCP_FASTOPEN_NO_COOKIE", unix.TCP_ZEROCOPY_RECEIVE, "TCP_ZEROCOPY_RECEIVE",
		unix.TCP_INQ, "TCP_INQ", unix.TCP_TX_DELAY, "TCP_TX_DELAY")
	ipNames = n(
		unix.IP_TOS, "IP_TOS", unix.IP_TTL, "IP_TTL", unix.IP_HDRINCL, "IP_HDRINCL", unix.IP_OPTIONS, "IP_OPTIONS",
		unix.IP_RECVOPTS, "IP_RECVOPTS", unix.IP_RETOPTS, "IP_RETOPTS", unix.IP_PKTINFO, "IP_PKTINFO",
		unix.IP_PKTOPTIONS, "IP_PKTOPTIONS", unix.IP_MTU_DISCOVER, "IP_MTU_DISCOVER", unix.IP_RECVERR, "IP_RECVERR",
		unix.IP_RECVTTL, "IP_RECVTTL", unix.IP_RECVTOS, "IP_RECVTOS", unix.IP_MTU, "IP_MTU", unix.IP_FREEBIND, "IP_FREEBIND",
		unix.IP_PASSSEC, "IP_PASSSEC", unix.IP_TRANSPARENT, "IP_TRANSPARENT", unix.IP_RECVORIGDSTADDR, "IP_RECVORIGDSTADDR",
		unix.IP_MINTTL, "IP_MINTTL", unix.IP_NODEFRAG, "IP_NODEFRAG", unix.IP_CHECKSUM, "IP_CHECKSUM",
		unix.IP_BIND_ADDRESS_NO_PORT, "IP_BIND_ADDRESS_NO_PORT", unix.IP_RECVFRAGSIZE, "IP_RECVFRAGSIZE",
		unix.IP_MULTICAST_IF, "IP_MULTICAST_IF", unix.IP_MULTICAST_TTL, "IP_MULTICAST_TTL",
		unix.IP_MULTICAST_LOOP, "IP_MULTICAST_LOOP", unix.IP_ADD_MEMBERSHIP, "IP_ADD_MEMBERSHIP",
		unix.IP_DROP_MEMBERSHIP, "IP_DROP_MEMBERSHIP", unix.IP_MULTICAST_ALL, "IP_MULTICAST_ALL")
	ipv6Names = n(
		unix.IPV6_ADDRFORM, "IPV6_ADDRFORM", unix.IPV6_2292PKTINFO, "IPV6_2292PKTINFO", unix.IPV6_NEXTHOP, "IPV6_NEXTHOP",
		unix.IPV6_UNICAST_HOPS, "IPV6_UNICAST_HOPS", unix.IPV6_MULTICAST_IF, "IPV6_MULTICAST_IF",
		unix.IPV6_MULTICAST_HOPS, "IPV6_MULTICAST_HOPS", unix.IPV6_MULTICAST_LOOP, "IPV6_MULTICAST_LOOP",
		unix.IPV6_ADD_MEMBERSHIP, "IPV6_ADD_MEMBERSHIP", unix.IPV6_DROP_MEMBERSHIP, "IPV6_DROP_MEMBERSHIP",
		unix.IPV6_MTU_DISCOVER, "IPV6_MTU_DISCOVER", unix.IPV6_MTU, "IPV6_MTU", unix.IPV6_RECVERR, "IPV6_RECVERR",
		unix.IPV6_V6ONLY, "IPV6_V6ONLY", unix.IPV6_RECVPKTINFO, "IPV6_RECVPKTINFO", unix.IPV6_PKTINFO, "IPV6_PKTINFO",
		unix.IPV6_RECVHOPLIMIT, "IPV6_RECVHOPLIMIT", unix.IPV6_HOPLIMIT, "IPV6_HOPLIMIT",
		unix.IPV6_RECVTCLASS, "IPV6_RECVTCLASS", unix.IPV6_TCLASS, "IPV6_TCLASS", unix.IPV6_FREEBIND, "IPV6_FREEBIND",
		unix.IPV6_TRANSPARENT, "IPV6_TRANSPARENT", unix.IPV6_RECVORIGDSTADDR, "IPV6_RECVORIGDSTADDR",
		unix.IPV6_MINHOPCOUNT, "IPV6_MINHOPCOUNT", unix.IPV6_DONTFRAG, "IPV6_DONTFRAG",
		unix.IPV6_AUTOFLOWLABEL, "IPV6_AUTOFLOWLABEL", unix.IPV6_MULTICAST_ALL, "IPV6_MULTICAST_ALL")
)

// names returns the names of a's values that hold on arch: none for an
// architecture the table's Arch was not checked for, and the open flags
// that move (OpenFlagBits) with arch's values.
func (a *Arg) names(arch abi.Arch) []Name {
	return a.namesOf(arch, a.Names)
}

// namesOf returns names (a's own, or by another argument's value) as they
// hold on arch (see names).
func (a *Arg) namesOf(arch abi.Arch, names []Name) []Name {
	if !slices.Contains(namedArches, arch) || !slices.Contains(namedArches, nameArch) {
		return nil
	}
	if a.Arch != OpenFlags {
		return names
	}
	out := slices.Clone(names)
	for _, b := range OpenFlagBits {
		out = append(out, Name{b.Value[arch], b.Name})
	}
	return out
}

// Value returns v, a value of a on arch, as a person reads it: an enum's
// name (with the flags outside its mask that v has: "SOCK_RAW|SOCK_CLOEXEC"),
// a flag set's bits as "A|B" (with "0x…" for the bits no name covers), or
// hex where no name exists. An argument named by another one's value (By)
// is hex: ValueBy names it.
func (a *Arg) Value(arch abi.Arch, v uint64) string {
	if a.By != nil {
		return fmt.Sprintf("%#x", v)
	}
	return a.value(arch, a.names(arch), v)
}

// ValueBy returns v as Value does, for an argument whose names depend on
// another argument's value (By), when that argument is by: setsockopt's
// optname 2 is SO_REUSEADDR at level SOL_SOCKET, hex at a level without
// names. For an argument without By it is Value.
func (a *Arg) ValueBy(arch abi.Arch, v, by uint64) string {
	if a.By == nil {
		return a.Value(arch, v)
	}
	return a.value(arch, a.namesOf(arch, a.By.Names[by&u32]), v)
}

func (a *Arg) value(arch abi.Arch, names []Name, v uint64) string {
	if a.Kind == recording.KindFlags {
		return bitsOf(names, v)
	}
	width := uint64(u32)
	if a.Mask>>32 != 0 {
		width = u64
	}
	// The flags outside the mask: named ones only.
	var flags []Name
	for _, nm := range names {
		if nm.Value&a.Mask == 0 && nm.Value != 0 {
			flags = append(flags, nm)
		}
	}
	for _, nm := range names {
		if nm.Value&^a.Mask == 0 && nm.Value == v&a.Mask {
			if rest := v &^ a.Mask & width; rest != 0 {
				return nm.Name + "|" + bitsOf(flags, rest)
			}
			return nm.Name
		}
	}
	return fmt.Sprintf("%#x", v)
}

// Free returns the bits of an enum outside its mask, which any value may
// carry (socket's type: "SOCK_NONBLOCK|SOCK_CLOEXEC"), named on arch, or ""
// when the mask covers the whole argument.
func (a *Arg) Free(arch abi.Arch) string {
	width := uint64(u32)
	if a.Mask>>32 != 0 {
		width = u64
	}
	free := width &^ a.Mask
	if a.Kind == recording.KindFlags || free == 0 {
		return ""
	}
	var flags []Name
	for _, nm := range a.names(arch) {
		if nm.Value&a.Mask == 0 && nm.Value != 0 {
			flags = append(flags, nm)
		}
	}
	return bitsOf(flags, free)
}

// Bits returns v as a flag set: its named bits joined by "|", the bits no
// name covers as one hex number, and for 0 the name of 0 (O_RDONLY,
// PROT_NONE) or "0".
func (a *Arg) Bits(arch abi.Arch, v uint64) string {
	return bitsOf(a.names(arch), v)
}

func bitsOf(names []Name, v uint64) string {
	if v == 0 {
		for _, nm := range names {
			if nm.Value == 0 {
				return nm.Name
			}
		}
		return "0"
	}
	// The names of several bits first (O_SYNC holds O_DSYNC's), then
	// by value.
	order := slices.Clone(names)
	slices.SortStableFunc(order, func(x, y Name) int {
		return bits.OnesCount64(y.Value) - bits.OnesCount64(x.Value)
	})
	left := v
	var found []Name
	for _, nm := range order {
		if nm.Value != 0 && left&nm.Value == nm.Value {
			found = append(found, nm)
			left &^= nm.Value
		}
	}
	slices.SortFunc(found, func(x, y Name) int { return cmpUint(x.Value, y.Value) })
	parts := make([]string, 0, len(found)+1)
	for _, nm := range found {
		parts = append(parts, nm.Name)
	}
	if left != 0 {
		parts = append(parts, fmt.Sprintf("%#x", left))
	}
	return strings.Join(parts, "|")
}

func cmpUint(x, y uint64) int {
	switch {
	case x < y:
		return -1
	case x > y:
		return 1
	}
	return 0
}
