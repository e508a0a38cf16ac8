package trace

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// ArgSpec says how one syscall argument is captured: which bits, and whether
// learn treats it as an enum or a flag set.
type ArgSpec struct {
	Index int
	Name  string
	Kind  recording.ArgKind
	Mask  uint64
	// Exclusive lists bit sets that a flags argument may not allow all at
	// once unless observed together.
	Exclusive []uint64
}

// SyscallArgs lists the captured arguments of one syscall.
type SyscallArgs struct {
	Syscall string
	Args    []ArgSpec
}

// linux/futex.h; golang.org/x/sys/unix does not export them.
const (
	futexPrivateFlag   = 128
	futexClockRealtime = 256
)

const (
	u32 = 0xffffffff // int arguments: compare the low half only (sign extension)
	u64 = ^uint64(0)
)

func enum32(i int, name string) ArgSpec {
	return ArgSpec{Index: i, Name: name, Kind: recording.KindEnum, Mask: u32}
}
func flags32(i int, name string) ArgSpec {
	return ArgSpec{Index: i, Name: name, Kind: recording.KindFlags, Mask: u32}
}

// protSpec is the prot argument of mmap, mprotect and pkey_mprotect: a flag
// set in which write and execute are never learned together unless seen
// together.
func protSpec(i int) ArgSpec {
	s := flags32(i, "prot")
	s.Exclusive = []uint64{unix.PROT_WRITE | unix.PROT_EXEC}
	return s
}

// ArgTable is the one place that says which syscall arguments profgen
// captures. Pointer arguments (paths, structs such as openat2's open_how)
// are never listed: seccomp cannot look behind a pointer.
var ArgTable = []SyscallArgs{
	{"socket", []ArgSpec{
		enum32(0, "domain"),
		{Index: 1, Name: "type", Kind: recording.KindEnum, Mask: u32 &^ uint64(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)},
		enum32(2, "protocol"),
	}},
	{"socketpair", []ArgSpec{
		enum32(0, "domain"),
		{Index: 1, Name: "type", Kind: recording.KindEnum, Mask: u32 &^ uint64(unix.SOCK_NONBLOCK|unix.SOCK_CLOEXEC)},
	}},
	{"ioctl", []ArgSpec{enum32(1, "request")}},
	{"prctl", []ArgSpec{enum32(0, "option")}},
	{"fcntl", []ArgSpec{enum32(1, "cmd")}},
	{"arch_prctl", []ArgSpec{enum32(0, "code")}},
	{"personality", []ArgSpec{enum32(0, "persona")}},
	{"clone", []ArgSpec{{Index: 0, Name: "flags", Kind: recording.KindFlags, Mask: u64}}},
	{"unshare", []ArgSpec{flags32(0, "flags")}},
	{"setns", []ArgSpec{enum32(1, "nstype")}},
	{"mmap", []ArgSpec{protSpec(2)}},
	{"mprotect", []ArgSpec{protSpec(2)}},
	{"pkey_mprotect", []ArgSpec{protSpec(2)}},
	{"setsockopt", []ArgSpec{enum32(1, "level"), enum32(2, "optname")}},
	{"getsockopt", []ArgSpec{enum32(1, "level"), enum32(2, "optname")}},
	{"open", []ArgSpec{flags32(1, "flags")}},
	{"openat", []ArgSpec{flags32(2, "flags")}},
	{"kill", []ArgSpec{enum32(1, "sig")}},
	{"tgkill", []ArgSpec{enum32(2, "sig")}},
	{"tkill", []ArgSpec{enum32(1, "sig")}},
	{"rt_sigqueueinfo", []ArgSpec{enum32(1, "sig")}},
	{"madvise", []ArgSpec{enum32(2, "advice")}},
	{"futex", []ArgSpec{{Index: 1, Name: "op", Kind: recording.KindEnum,
		Mask: u32 &^ (futexPrivateFlag | futexClockRealtime)}}},
	{"bpf", []ArgSpec{enum32(0, "cmd")}},
	{"keyctl", []ArgSpec{enum32(0, "operation")}},
}

// nativeArgTable compiles table (ArgTable when nil) for the native ABI
// (see compileArgTable), which it returns too.
func nativeArgTable(table []SyscallArgs) (abi.Arch, ArgMasks, map[int][]recording.Arg, error) {
	arch, err := abi.Native()
	if err != nil {
		return "", nil, nil, err
	}
	if table == nil {
		table = ArgTable
	}
	masks, args, err := compileArgTable(arch, table)
	if err != nil {
		return "", nil, nil, err
	}
	return arch, masks, args, nil
}

// compileArgTable checks table against arch and returns the per-number masks.
// An unknown syscall, an index outside 0..5, an argument listed twice or a
// kind other than enum or flags is an error.
func compileArgTable(arch abi.Arch, table []SyscallArgs) (ArgMasks, map[int][]recording.Arg, error) {
	masks := ArgMasks{}
	args := map[int][]recording.Arg{}
	for _, e := range table {
		nr, err := abi.SyscallNumber(arch, e.Syscall)
		if err != nil {
			return nil, nil, fmt.Errorf("argument table: %w", err)
		}
		if _, dup := masks[nr]; dup {
			return nil, nil, fmt.Errorf("argument table: %s listed twice", e.Syscall)
		}
		var m [6]uint64
		for _, a := range e.Args {
			if a.Index < 0 || a.Index > 5 {
				return nil, nil, fmt.Errorf("argument table: %s: argument index %d is not 0..5", e.Syscall, a.Index)
			}
			if m[a.Index] != 0 {
				return nil, nil, fmt.Errorf("argument table: %s: argument %d listed twice", e.Syscall, a.Index)
			}
			if a.Mask == 0 {
				return nil, nil, fmt.Errorf("argument table: %s: argument %d has an empty mask", e.Syscall, a.Index)
			}
			if a.Kind != recording.KindEnum && a.Kind != recording.KindFlags {
				return nil, nil, fmt.Errorf("argument table: %s: argument %d: unknown kind %q", e.Syscall, a.Index, a.Kind)
			}
			m[a.Index] = a.Mask
			ra := recording.Arg{Index: a.Index, Name: a.Name, Kind: a.Kind, Mask: recording.Hex(a.Mask)}
			for _, x := range a.Exclusive {
				ra.Exclusive = append(ra.Exclusive, recording.Hex(x))
			}
			args[nr] = append(args[nr], ra)
		}
		masks[nr] = m
	}
	return masks, args, nil
}
