package seccomp

import (
	"fmt"
	"io"
	"strings"
	"text/tabwriter"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

// Disassemble writes prog, one instruction a line, in
// golang.org/x/net/bpf's notation, with what each means for seccomp in a
// comment: which seccomp_data field a load reads, the syscall or
// architecture a comparison tests, the action a return takes. Syscall
// numbers are named for the architecture the program last compared
// against (libseccomp's filters test the architecture first), the native
// one before any.
func Disassemble(w io.Writer, prog []unix.SockFilter) error {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	arch, _ := abi.Native()
	// loaded[pc] is the offset of the seccomp_data word the accumulator
	// holds when pc runs, on every path to it (jumps only go forward, so
	// one pass finds it): ^0 when it holds something else or differs
	// between paths, so that a comparison reached from an argument check
	// and from the number dispatch is not named as a syscall.
	const unknown, unset = ^uint32(0), ^uint32(0) - 1
	loaded := make([]uint32, len(prog)+1)
	for i := range loaded {
		loaded[i] = unset
	}
	loaded[0] = unknown
	flow := func(to int, off uint32) {
		if to < 0 || to >= len(loaded) {
			return
		}
		switch loaded[to] {
		case unset:
			loaded[to] = off
		case off:
		default:
			loaded[to] = unknown
		}
	}
	for i, ins := range prog {
		raw := bpf.RawInstruction{Op: ins.Code, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		d := raw.Disassemble()
		cur := loaded[i]
		if cur == unset { // unreachable
			cur = unknown
		}
		var comment string
		switch d := d.(type) {
		case bpf.LoadAbsolute:
			comment = fieldName(d.Off)
			flow(i+1, d.Off)
		case bpf.JumpIf:
			comment = compared(&arch, cur, d.Val)
			comment = joinComment(comment, fmt.Sprintf("true: %d, false: %d", i+1+int(d.SkipTrue), i+1+int(d.SkipFalse)))
			flow(i+1+int(d.SkipTrue), cur)
			flow(i+1+int(d.SkipFalse), cur)
		case bpf.Jump:
			comment = fmt.Sprintf("to %d", i+1+int(d.Skip))
			flow(i+1+int(d.Skip), cur)
		case bpf.RetConstant:
			comment = DecodeRet(d.Val).String()
		case bpf.RetA:
		case bpf.LoadConstant, bpf.LoadScratch, bpf.ALUOpConstant, bpf.ALUOpX, bpf.NegateA, bpf.TXA:
			flow(i+1, unknown)
		default: // the accumulator is unchanged (stores, X loads)
			flow(i+1, cur)
		}
		if comment != "" {
			comment = "; " + comment
		}
		fmt.Fprintf(tw, "%4d\t%s\t%s\n", i, d, comment)
	}
	return tw.Flush()
}

func joinComment(a, b string) string {
	if a == "" {
		return b
	}
	return a + "; " + b
}

// fieldName names the seccomp_data word at off.
func fieldName(off uint32) string {
	switch {
	case off == 0:
		return "syscall number"
	case off == 4:
		return "architecture"
	case off == 8:
		return "instruction pointer (low)"
	case off == 12:
		return "instruction pointer (high)"
	case off >= 16 && off < 64:
		half := "low"
		if (off-16)%8 == 4 {
			half = "high"
		}
		return fmt.Sprintf("arg%d (%s)", (off-16)/8, half)
	}
	return ""
}

// compared names the value a comparison tests, given the field last
// loaded; comparing the architecture switches *arch.
func compared(arch *abi.Arch, field, val uint32) string {
	switch field {
	case 4:
		if a, err := abi.FromAudit(val); err == nil {
			*arch = a
			return string(a)
		}
		return ""
	case 0:
		a := *arch
		if a == "amd64" && val&abi.X32SyscallBit != 0 && val != ^uint32(0) {
			a = "x32"
		}
		if name, err := abi.SyscallName(a, int(int32(val))); err == nil && name != "" {
			return name
		}
		if val == abi.X32SyscallBit {
			return "x32 syscall numbers start here"
		}
	}
	return ""
}

// Summary is a one-line description of prog for the dump's text header.
func Summary(prog []unix.SockFilter) string {
	var rets []string
	seen := map[string]bool{}
	for _, ins := range prog {
		if ins.Code == unix.BPF_RET|unix.BPF_K {
			s := DecodeRet(ins.K).String()
			if !seen[s] {
				seen[s] = true
				rets = append(rets, s)
			}
		}
	}
	return fmt.Sprintf("%d instructions; returns %s", len(prog), strings.Join(rets, ", "))
}
