package argspec

import (
	"slices"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/recording"
)

// Arg is what profgen knows about one syscall argument.
type Arg struct {
	Index int
	Name  string
	// Kind says whether learn treats the values as an enum or a flag
	// set.
	Kind recording.ArgKind
	// Mask is the bits the recorder captures and learn compares.
	Mask uint64
	// Exclusive lists bit sets that a flags argument may not allow all at
	// once unless observed together (a learning rule: the recording
	// carries it to learn).
	Exclusive []uint64
	// Arch says how the values carry over to another architecture, and
	// ArchWhy why (checked for each of learn's target architectures).
	Arch    Meaning
	ArchWhy string
	// Names are the symbolic names of the argument's values (an enum's
	// values, a flag set's bits), for the outputs to show a rule as
	// "ioctl request ∈ {TCGETS, TIOCGWINSZ}" (filled in from names.go;
	// Value and Bits render a value with them). An enum's names of bits
	// outside its Mask are the flags that may come with any of its values
	// (socket's SOCK_NONBLOCK and SOCK_CLOEXEC, futex's
	// FUTEX_PRIVATE_FLAG). An argument whose names depend on another
	// argument (setsockopt's optname, by level) has none, but By.
	Names []Name
	// By, for an argument whose names depend on another argument's
	// value, says which argument and gives the names for each of its
	// values (ValueBy renders a value with them).
	By *By
}

// By gives the names of an argument's values by the value of another
// argument of the same call: setsockopt's optname by its level (SO_* at
// SOL_SOCKET, TCP_* at IPPROTO_TCP).
type By struct {
	// Index is the deciding argument's index (setsockopt's level: 1).
	Index int
	// Names are the argument's names for each value of the deciding
	// argument, compared on its low 32 bits.
	Names map[uint64][]Name
}

// Name is the symbolic name of one value of an argument (Arg.Names): an
// enum's value, or a flag set's bit.
type Name struct {
	Value uint64
	Name  string
}

// Entry lists the captured arguments of one syscall.
type Entry struct {
	Syscall string
	Args    []Arg
}

// Meaning says how an argument's values carry over to another
// architecture.
type Meaning int

const (
	// Same: the values mean the same on every target architecture.
	Same Meaning = iota + 1
	// OpenFlags: open(2) flags, four of whose bits the architectures
	// number differently (OpenFlagBits).
	OpenFlags
)

// linux/futex.h; golang.org/x/sys/unix does not export them.
const (
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

const (
	u32 = 0xffffffff // int arguments: compare the low half only (sign extension)
	u64 = ^uint64(0)
)

// Reasons shared by the Arch of several arguments.
const (
	whyGeneric   = "asm-generic numbering, which x86_64 and aarch64 share"
	whyIoctl     = "both encode requests with asm-generic/ioctl.h (dir 2 bits, size 14, type, nr) and number the tty ones in asm-generic/ioctls.h; both are LP64 with the same alignment, so sizes agree"
	whySocketOpt = "SOL_SOCKET is 1 and SO_* are asm-generic/socket.h on both (mips, sparc, alpha and parisc differ)"
)

func enum32(i int, name, why string) Arg {
	return Arg{Index: i, Name: name, Kind: recording.KindEnum, Mask: u32, Arch: Same, ArchWhy: why}
}
func flags32(i int, name, why string) Arg {
	return Arg{Index: i, Name: name, Kind: recording.KindFlags, Mask: u32, Arch: Same, ArchWhy: why}
}

// socketType is socket's and socketpair's type, without the flags
// SOCK_NONBLOCK and SOCK_CLOEXEC.
func socketType(why string) Arg {
	a := enum32(1, "type", why)
	a.Mask = u32 &^ uint64(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)
	return a
}

// protSpec is the prot argument of mmap, mprotect and pkey_mprotect: a flag
// set in which write and execute are never learned together unless seen
// together.
func protSpec(i int, why string) Arg {
	s := flags32(i, "prot", why)
	s.Exclusive = []uint64{unix.PROT_WRITE | unix.PROT_EXEC}
	return s
}

// openFlags is the flags argument of open and openat.
func openFlags(i int, why string) Arg {
	a := flags32(i, "flags", why)
	a.Arch = OpenFlags
	return a
}

// Table is the one place that says which syscall arguments profgen
// captures and what it knows about them. Pointer arguments (paths, structs
// such as openat2's open_how) are never listed: seccomp cannot look behind
// a pointer. An argument not listed cannot be carried over to another
// architecture: a rule on it makes its syscall allowed by name there.
var Table = []Entry{
	{"socket", []Arg{
		enum32(0, "domain", "address families: linux/socket.h, one numbering everywhere"),
		socketType("SOCK_* types " + whyGeneric + " (SOCK_NONBLOCK is O_NONBLOCK, 04000 on both; mips differs)"),
		enum32(2, "protocol", "IPPROTO_* and ETH_P_*: linux/in.h, one numbering everywhere"),
	}},
	{"socketpair", []Arg{
		enum32(0, "domain", "as socket"),
		socketType("as socket"),
	}},
	{"ioctl", []Arg{enum32(1, "request", whyIoctl)}},
	{"prctl", []Arg{enum32(0, "option", "PR_*: linux/prctl.h, one numbering everywhere")}},
	{"fcntl", []Arg{enum32(1, "cmd", "F_* "+whyGeneric+" (64-bit: no F_*64 variants)")}},
	{"arch_prctl", []Arg{enum32(0, "code", "x86 only: there is no arch_prctl on aarch64")}},
	{"personality", []Arg{enum32(0, "persona", "PER_*: linux/personality.h, one numbering everywhere")}},
	{"clone", []Arg{{Index: 0, Name: "flags", Kind: recording.KindFlags, Mask: u64, Arch: Same,
		ArchWhy: "CLONE_* flags: linux/sched.h, one numbering everywhere (the argument order after flags differs, flags is arg0 on both)"}}},
	{"unshare", []Arg{flags32(0, "flags", "CLONE_NEW* flags: linux/sched.h")}},
	{"setns", []Arg{enum32(1, "nstype", "CLONE_NEW* flags: linux/sched.h")}},
	{"mmap", []Arg{protSpec(2, "PROT_* "+whyGeneric+" (asm-generic/mman-common.h)")}},
	{"mprotect", []Arg{protSpec(2, "as mmap")}},
	{"pkey_mprotect", []Arg{protSpec(2, "as mmap")}},
	{"setsockopt", []Arg{enum32(1, "level", whySocketOpt), enum32(2, "optname", whySocketOpt)}},
	{"getsockopt", []Arg{enum32(1, "level", whySocketOpt), enum32(2, "optname", whySocketOpt)}},
	{"open", []Arg{openFlags(1, "O_DIRECT, O_LARGEFILE, O_DIRECTORY and O_NOFOLLOW: arch/arm64/include/uapi/asm/fcntl.h renumbers them")}},
	{"openat", []Arg{openFlags(2, "as open")}},
	{"kill", []Arg{enum32(1, "sig", "signal numbers "+whyGeneric+" (asm-generic/signal.h; alpha, mips, sparc, parisc differ)")}},
	{"tgkill", []Arg{enum32(2, "sig", "as kill")}},
	{"tkill", []Arg{enum32(1, "sig", "as kill")}},
	{"rt_sigqueueinfo", []Arg{enum32(1, "sig", "as kill")}},
	{"madvise", []Arg{enum32(2, "advice", "MADV_* "+whyGeneric+" (asm-generic/mman-common.h)")}},
	{"futex", []Arg{{Index: 1, Name: "op", Kind: recording.KindEnum,
		Mask: u32 &^ (futexPrivateFlag | futexClockRealtime),
		Arch: Same, ArchWhy: "FUTEX_* ops: linux/futex.h, one numbering everywhere"}}},
	{"bpf", []Arg{enum32(0, "cmd", "BPF_* commands: linux/bpf.h, one numbering everywhere")}},
	{"keyctl", []Arg{enum32(0, "operation", "KEYCTL_*: linux/keyctl.h, one numbering everywhere")}},
}

// Lookup returns what Table says about argument index of the named
// syscall, or nil when the argument is not in it.
func Lookup(syscall string, index int) *Arg {
	i := slices.IndexFunc(Table, func(e Entry) bool { return e.Syscall == syscall })
	if i < 0 {
		return nil
	}
	args := Table[i].Args
	j := slices.IndexFunc(args, func(a Arg) bool { return a.Index == index })
	if j < 0 {
		return nil
	}
	return &args[j]
}
