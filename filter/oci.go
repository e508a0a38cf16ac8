package filter

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	iseccomp "github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
)

// ErrRuntimeOnly is matched (errors.Is) by the error of CompileOCI for a
// profile that only the container runtime can load: one that hands calls
// to a seccomp agent (SCMP_ACT_NOTIFY, listenerPath), whose listener the
// runtime passes on.
var ErrRuntimeOnly = errors.New("only the runtime can load this seccomp profile")

// OCIProgram is an OCI linux.seccomp compiled as runc loads it.
type OCIProgram struct {
	// Program is the classic-BPF program, runc's ENOSYS stub first.
	Program []unix.SockFilter
	// Flags are the seccomp(2) flags runc loads it with, from the
	// profile's flags (SECCOMP_FILTER_FLAG_LOG, _SPEC_ALLOW).
	Flags uint
	// Notes say where the program is stricter than runc's (from
	// readers.ParseOCI: syscalls that exist only on another listed
	// architecture).
	Notes []string
}

// CompileOCI compiles the OCI seccomp profile doc (a config.json's
// linux.seccomp) into the program and flags runc (1.1) would load for it,
// so that another loader (the Landlock launcher, cmd/profgen-landlock)
// enforces what the runtime would have: the profile read by
// readers.ParseOCI (runc's meaning of entries and conditions), compiled by
// Compile with every architecture the profile lists, other ABIs killing
// the thread (libseccomp's default, which runc keeps), and runc's ENOSYS
// stub in front (ENOSYSStub). A profile with a notify action or a
// listener is ErrRuntimeOnly; an unknown flag, architecture, action or
// syscall is an error, as it is for runc.
func CompileOCI(doc *specs.LinuxSeccomp) (*OCIProgram, error) {
	if doc.ListenerPath != "" || doc.DefaultAction == specs.ActNotify || slices.ContainsFunc(doc.Syscalls, func(s specs.LinuxSyscall) bool { return s.Action == specs.ActNotify }) {
		return nil, fmt.Errorf("%w: it hands calls to a seccomp agent (SCMP_ACT_NOTIFY, listenerPath)", ErrRuntimeOnly)
	}
	out := &OCIProgram{}
	for _, f := range doc.Flags {
		switch f {
		case specs.LinuxSeccompFlagLog:
			out.Flags |= unix.SECCOMP_FILTER_FLAG_LOG
		case specs.LinuxSeccompFlagSpecAllow:
			out.Flags |= unix.SECCOMP_FILTER_FLAG_SPEC_ALLOW
		case "SECCOMP_FILTER_FLAG_TSYNC":
			// runc: nothing to do (the filter's thread execs).
		default:
			return nil, fmt.Errorf("compile OCI profile: seccomp flag %s is not known to runc", f)
		}
	}
	data, err := json.Marshal(doc)
	if err != nil {
		return nil, err
	}
	p, err := readers.ParseOCI(data)
	if err != nil {
		return nil, fmt.Errorf("compile OCI profile: %w", err)
	}
	out.Notes = p.Notes
	var arches []abi.Arch
	for _, name := range doc.Architectures {
		a, err := abi.FromOCI(string(name))
		if err != nil {
			return nil, fmt.Errorf("compile OCI profile: %w", err)
		}
		arches = append(arches, a)
	}
	killThread := learn.Action{Kind: learn.ActKillThread}
	prog, err := Compile(p, CompileOptions{BadArch: &killThread, Arches: arches})
	if err != nil {
		return nil, err
	}
	stub, err := ENOSYSStub(doc)
	if err != nil {
		return nil, fmt.Errorf("compile OCI profile: %w", err)
	}
	out.Program = append(stub, prog...)
	if len(out.Program) > iseccomp.MaxFilterLen {
		return nil, fmt.Errorf("compile OCI profile: %w: %d instructions", ErrFilterTooLong, len(out.Program))
	}
	return out, nil
}

// ENOSYSStub returns the instructions runc (libcontainer/seccomp/patchbpf)
// puts in front of the filter it compiles for doc: for each architecture
// doc lists, a syscall whose number is above the largest that doc names
// there is answered ENOSYS (so that a program falls back from a syscall
// newer than the profile, as glibc does from clone3), unless doc's default
// action allows or logs, or already is ENOSYS. Other calls fall through to
// the filter, which starts by loading the architecture again. On x86_64
// the x32 numbers (X32SyscallBit set) are compared with x32's largest when
// doc lists x32, and go to the filter when it does not.
func ENOSYSStub(doc *specs.LinuxSeccomp) ([]unix.SockFilter, error) {
	switch {
	case doc.DefaultAction == specs.ActAllow || doc.DefaultAction == specs.ActLog || doc.DefaultAction == specs.ActTrace:
		return nil, nil
	case doc.DefaultErrnoRet != nil && *doc.DefaultErrnoRet == uint(unix.ENOSYS):
		return nil, nil
	}
	// The largest number doc names on each listed architecture, by
	// seccomp_data.arch, x32 apart.
	type key struct {
		audit uint32
		x32   bool
	}
	largest := map[key]uint32{}
	var order []uint32
	for _, name := range doc.Architectures {
		a, err := abi.FromOCI(string(name))
		if err != nil {
			return nil, err
		}
		k := key{x32: a == "x32"}
		if k.x32 {
			k.audit = unix.AUDIT_ARCH_X86_64
		} else if k.audit, err = a.Audit(); err != nil {
			return nil, err
		}
		var top uint32
		for _, s := range doc.Syscalls {
			for _, n := range s.Names {
				if nr, err := abi.SyscallNumber(a, n); err == nil && uint32(nr) > top {
					top = uint32(nr)
				}
			}
		}
		if top == 0 {
			continue
		}
		if _, ok := largest[k]; !ok && !slices.Contains(order, k.audit) {
			order = append(order, k.audit)
		}
		largest[k] = top
	}
	if len(order) == 0 {
		return nil, nil
	}
	// Layout: load the arch; one jeq per architecture to its section;
	// a jump to the filter; the sections; ret ENOSYS. Targets are
	// resolved once the layout is known.
	const toEnosys, toFilter = -1, -2
	type insn struct {
		ins     bpf.Instruction
		jt, jf  int // targets: an index, toEnosys or toFilter (jumps)
		resolve bool
	}
	var prog []insn
	jump := func(cond bpf.JumpTest, val uint32, jt, jf int) {
		prog = append(prog, insn{ins: bpf.JumpIf{Cond: cond, Val: val}, jt: jt, jf: jf, resolve: true})
	}
	prog = append(prog, insn{ins: bpf.LoadAbsolute{Off: 4, Size: 4}})
	dispatch := len(prog)
	for range order {
		jump(bpf.JumpEqual, 0, 0, 0) // targets set below
	}
	prog = append(prog, insn{ins: bpf.Jump{}, jt: toFilter, resolve: true})
	for i, audit := range order {
		prog[dispatch+i].jt, prog[dispatch+i].jf = len(prog), dispatch+i+1
		prog[dispatch+i].ins = bpf.JumpIf{Cond: bpf.JumpEqual, Val: audit}
		prog = append(prog, insn{ins: bpf.LoadAbsolute{Off: 0, Size: 4}})
		native, hasNative := largest[key{audit: audit}]
		x32, hasX32 := largest[key{audit: audit, x32: true}]
		if audit != unix.AUDIT_ARCH_X86_64 {
			jump(bpf.JumpGreaterThan, native, toEnosys, toFilter)
			continue
		}
		// x86_64: the x32 bit chooses the largest.
		x32At := len(prog) + 2
		switch {
		case hasNative && hasX32:
			jump(bpf.JumpBitsSet, abi.X32SyscallBit, x32At, len(prog)+1)
			jump(bpf.JumpGreaterThan, native, toEnosys, toFilter)
			jump(bpf.JumpGreaterThan, x32, toEnosys, toFilter)
		case hasNative:
			jump(bpf.JumpBitsSet, abi.X32SyscallBit, toFilter, len(prog)+1)
			jump(bpf.JumpGreaterThan, native, toEnosys, toFilter)
		default:
			jump(bpf.JumpBitsSet, abi.X32SyscallBit, len(prog)+1, toFilter)
			jump(bpf.JumpGreaterThan, x32, toEnosys, toFilter)
		}
	}
	enosys := len(prog)
	prog = append(prog, insn{ins: bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.ENOSYS)}})
	filterAt := len(prog)
	var out []bpf.Instruction
	for pc, in := range prog {
		if !in.resolve {
			out = append(out, in.ins)
			continue
		}
		skip := func(target int) (uint32, error) {
			switch target {
			case toEnosys:
				target = enosys
			case toFilter:
				target = filterAt
			}
			s := target - pc - 1
			if s < 0 || s > 255 {
				return 0, fmt.Errorf("ENOSYS stub: jump of %d instructions", s)
			}
			return uint32(s), nil
		}
		switch j := in.ins.(type) {
		case bpf.Jump:
			s, err := skip(in.jt)
			if err != nil {
				return nil, err
			}
			out = append(out, bpf.Jump{Skip: s})
		case bpf.JumpIf:
			st, err := skip(in.jt)
			if err != nil {
				return nil, err
			}
			sf, err := skip(in.jf)
			if err != nil {
				return nil, err
			}
			j.SkipTrue, j.SkipFalse = uint8(st), uint8(sf)
			out = append(out, j)
		}
	}
	raw, err := bpf.Assemble(out)
	if err != nil {
		return nil, fmt.Errorf("ENOSYS stub: %w", err)
	}
	stub := make([]unix.SockFilter, len(raw))
	for i, r := range raw {
		stub[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	return stub, nil
}
