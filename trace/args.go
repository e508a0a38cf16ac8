package trace

import (
	"fmt"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/recording"
)

// The argument table itself, and everything else profgen knows about
// arguments, is argspec.Table. This file is its recording side: checking a
// table against the native ABI and compiling it into the masks the
// backends capture under (ArgMasks) and the argument descriptions the
// recording carries to learn.

// nativeArgTable compiles table (argspec.Table when nil) for the native ABI
// (see compileArgTable), which it returns too.
func nativeArgTable(table []argspec.Entry) (abi.Arch, ArgMasks, map[int][]recording.Arg, error) {
	arch, err := abi.Native()
	if err != nil {
		return "", nil, nil, err
	}
	if table == nil {
		table = argspec.Table
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
func compileArgTable(arch abi.Arch, table []argspec.Entry) (ArgMasks, map[int][]recording.Arg, error) {
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
