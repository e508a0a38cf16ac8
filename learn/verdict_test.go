package learn_test

import (
	"fmt"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
)

// call is one syscall with its arguments and the action a profile must
// take for it.
type call struct {
	name string
	args [6]uint64
	want learn.Action
}

func (c call) String() string { return fmt.Sprintf("%s%#x", c.name, c.args) }

// signExtend returns v as a sign-extended 32-bit int argument arrives when
// the caller passed a negative int or the upper half holds garbage.
func signExtend(v uint32) uint64 { return 0xffffffff_00000000 | uint64(v) }

const (
	pthreadClone = unix.CLONE_VM | unix.CLONE_FS | unix.CLONE_FILES | unix.CLONE_SIGHAND | unix.CLONE_THREAD |
		unix.CLONE_SYSVSEM | unix.CLONE_SETTLS | unix.CLONE_PARENT_SETTID | unix.CLONE_CHILD_CLEARTID
	forkClone = unix.CLONE_CHILD_SETTID | unix.CLONE_CHILD_CLEARTID | uint64(unix.SIGCHLD)
)

// Constants golang.org/x/sys/unix does not export (linux/futex.h,
// asm-generic/mman-common.h).
const (
	futexWait          = 0
	futexWake          = 1
	futexRequeue       = 3
	futexWaitBitset    = 9
	futexPrivate       = 128
	futexClockRealtime = 256
	protSem            = 0x8
)

// atFDCWD is AT_FDCWD as the kernel sees it in a 64-bit register.
var atFDCWD = signExtend(uint32(0xffffff9c))

var (
	allow = learn.Allow
	eperm = learn.ErrnoEPERM
)

// shapesCalls are the verdicts the profile learned from testdata/shapes.json
// (Runtime none) must give.
var shapesCalls = []call{
	// Enum pinning: each seen socket combination alone; SOCK_NONBLOCK and
	// SOCK_CLOEXEC are masked out of the type.
	{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM}, allow},
	{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM | unix.SOCK_CLOEXEC | unix.SOCK_NONBLOCK}, allow},
	{"socket", [6]uint64{unix.AF_INET, unix.SOCK_DGRAM | unix.SOCK_CLOEXEC}, allow},
	{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_STREAM}, allow},
	{"socket", [6]uint64{unix.AF_UNIX, unix.SOCK_DGRAM}, eperm}, // combination not seen
	{"socket", [6]uint64{unix.AF_INET6, unix.SOCK_STREAM}, eperm},
	{"socket", [6]uint64{unix.AF_NETLINK, unix.SOCK_RAW}, eperm},
	{"socket", [6]uint64{unix.AF_PACKET, unix.SOCK_RAW}, eperm},
	{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM, unix.IPPROTO_SCTP}, eperm},
	{"socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM | 0x100}, eperm}, // unseen type bit
	// 32-bit int arguments match whatever the upper half holds.
	{"socket", [6]uint64{signExtend(unix.AF_INET), signExtend(unix.SOCK_STREAM), signExtend(0)}, allow},
	{"socket", [6]uint64{0x12345678_00000001, unix.SOCK_STREAM}, allow},
	{"socket", [6]uint64{signExtend(unix.AF_INET6), unix.SOCK_STREAM}, eperm},
	{"ioctl", [6]uint64{1, unix.TCGETS}, allow},
	{"ioctl", [6]uint64{1, signExtend(unix.TCGETS)}, allow},
	// TCGETS was seen: the other terminal queries are allowed with it
	// (learn/families.go); setting terminal attributes and TIOCSTI are not.
	{"ioctl", [6]uint64{1, unix.TIOCGWINSZ}, allow},
	{"ioctl", [6]uint64{1, unix.TIOCGPGRP}, allow},
	{"ioctl", [6]uint64{1, unix.TCSETS}, eperm},
	{"ioctl", [6]uint64{1, unix.TIOCSTI}, eperm},
	// ioctl was seen: the descriptor-kind class allows the descriptor
	// flags family (learn/environment.go); TIOCSTI stays denied.
	{"ioctl", [6]uint64{1, 0x5421 /* FIONBIO, asm-generic/ioctls.h */}, allow},
	{"prctl", [6]uint64{unix.PR_SET_NAME}, allow},
	{"prctl", [6]uint64{signExtend(unix.PR_SET_NAME)}, allow},
	{"prctl", [6]uint64{unix.PR_SET_DUMPABLE}, eperm},
	{"prctl", [6]uint64{unix.PR_SET_NAME | 1<<32, 0}, allow},
	// W^X: read+write and read+exec were seen apart, so write+exec is
	// denied; mprotect saw all three together, so they are allowed.
	{"mmap", [6]uint64{0, 4096, unix.PROT_READ}, allow},
	{"mmap", [6]uint64{0, 4096, unix.PROT_NONE}, allow},
	{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE}, allow},
	{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_EXEC}, allow},
	{"mmap", [6]uint64{0, 4096, unix.PROT_EXEC}, allow},
	{"mmap", [6]uint64{0, 4096, unix.PROT_WRITE | unix.PROT_EXEC}, eperm},
	{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}, eperm},
	{"mmap", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_GROWSDOWN}, eperm},
	{"mmap", [6]uint64{0, 4096, signExtend(unix.PROT_READ | unix.PROT_WRITE)}, allow},
	{"mmap", [6]uint64{0, 4096, signExtend(unix.PROT_WRITE | unix.PROT_EXEC)}, eperm},
	{"mprotect", [6]uint64{0, 4096, unix.PROT_READ | unix.PROT_WRITE | unix.PROT_EXEC}, allow},
	{"mprotect", [6]uint64{0, 4096, unix.PROT_WRITE | unix.PROT_EXEC}, allow},
	{"mprotect", [6]uint64{0, 4096, unix.PROT_READ | protSem}, eperm},
	// Flags masks: the seen bits combine; an unseen bit is denied, in
	// either half of a 64-bit flags argument.
	{"clone", [6]uint64{pthreadClone}, allow},
	{"clone", [6]uint64{forkClone}, allow},
	{"clone", [6]uint64{unix.CLONE_VM | unix.CLONE_THREAD | uint64(unix.SIGCHLD)}, allow},
	{"clone", [6]uint64{0}, allow},
	{"clone", [6]uint64{forkClone | unix.CLONE_NEWUSER}, eperm},
	{"clone", [6]uint64{pthreadClone | unix.CLONE_NEWNET}, eperm},
	{"clone", [6]uint64{forkClone | 1<<32}, eperm},
	{"openat", [6]uint64{atFDCWD, 0, unix.O_RDONLY | unix.O_CLOEXEC}, allow},
	{"openat", [6]uint64{atFDCWD, 0, unix.O_WRONLY | unix.O_CREAT | unix.O_TRUNC}, allow},
	{"openat", [6]uint64{atFDCWD, 0, unix.O_RDWR}, eperm},
	{"openat", [6]uint64{atFDCWD, 0, unix.O_WRONLY | unix.O_APPEND}, eperm},
	{"openat", [6]uint64{atFDCWD, 0, signExtend(unix.O_RDONLY | unix.O_CLOEXEC)}, allow},
	// futex: the private and clock flags are masked out of op.
	{"futex", [6]uint64{0, futexWait}, allow},
	{"futex", [6]uint64{0, futexWait | futexPrivate}, allow},
	{"futex", [6]uint64{0, futexWake | futexPrivate | futexClockRealtime}, allow},
	{"futex", [6]uint64{0, futexRequeue}, eperm},
	{"futex", [6]uint64{0, futexWaitBitset | futexPrivate}, eperm},
	// Two conditions AND within a rule; the rules OR.
	{"setsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.SO_REUSEADDR}, allow},
	{"setsockopt", [6]uint64{3, unix.IPPROTO_TCP, unix.TCP_NODELAY}, allow},
	{"setsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.SO_DEBUG}, eperm},
	{"setsockopt", [6]uint64{3, unix.IPPROTO_TCP, unix.TCP_MAXSEG}, eperm},
	// Unconditional, baseline, stubs and the default.
	{"read", [6]uint64{^uint64(0), 1, 2, 3, 4, 5}, allow},
	{"write", [6]uint64{}, allow},
	{"rt_sigreturn", [6]uint64{}, allow},
	{"exit_group", [6]uint64{1}, allow},
	{"clone3", [6]uint64{}, learn.ErrnoENOSYS},
	{"faccessat2", [6]uint64{}, learn.ErrnoENOSYS},
	{"getuid", [6]uint64{}, eperm},
	{"ptrace", [6]uint64{}, eperm},
	{"getsockopt", [6]uint64{3, unix.SOL_SOCKET, unix.SO_REUSEADDR}, eperm},
}

// TestVerdictShapes checks the rules learned from shapes.json call by call:
// enum pinning, flags masks, W^X, 32-bit arguments with any upper half.
func TestVerdictShapes(t *testing.T) {
	p := learnFile(t, "shapes.json", learn.Options{Runtime: learn.LoaderNone})
	for _, c := range shapesCalls {
		if got := p.Verdict(c.name, c.args); got != c.want {
			t.Errorf("%v: %s, want %s", c, got, c.want)
		}
	}
}

// TestVerdictArgsNone: without argument shapes every recorded syscall is
// allowed whatever its arguments, and the rest is still denied, but for
// what an environment class adds (with its values: a class never allows a
// whole syscall the recording did not show).
func TestVerdictArgsNone(t *testing.T) {
	p := learnFile(t, "shapes.json", learn.Options{Args: learn.ArgsNone})
	for _, c := range shapesCalls {
		want := c.want
		if s := p.Lookup(c.name); want == eperm && s != nil && s.Origin == learn.OriginRecorded {
			want = allow
		}
		if got := p.Verdict(c.name, c.args); got != want {
			t.Errorf("%v: %s, want %s", c, got, want)
		}
	}
}

// TestVerdictDefaultAction: the default action applies to everything not
// allowed, including calls of a pinned syscall whose arguments match no rule.
func TestVerdictDefaultAction(t *testing.T) {
	p := learnFile(t, "shapes.json", learn.Options{DefaultAction: &learn.KillProcess})
	if got := p.Verdict("getuid", [6]uint64{}); got != learn.KillProcess {
		t.Errorf("getuid: %s, want kill-process", got)
	}
	if got := p.Verdict("socket", [6]uint64{unix.AF_INET6, unix.SOCK_STREAM}); got != learn.KillProcess {
		t.Errorf("socket(AF_INET6): %s, want kill-process", got)
	}
	if got := p.Verdict("socket", [6]uint64{unix.AF_INET, unix.SOCK_STREAM}); got != allow {
		t.Errorf("socket(AF_INET): %s, want allow", got)
	}
}
