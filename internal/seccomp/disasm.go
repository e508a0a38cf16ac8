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
	var loaded uint32 = ^uint32(0) // offset of the last absolute load
	for i, ins := range prog {
		raw := bpf.RawInstruction{Op: ins.Code, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
		d := raw.Disassemble()
		var comment string
		switch d := d.(type) {
		case bpf.LoadAbsolute:
			loaded = d.Off
			comment = fieldName(d.Off)
		case bpf.LoadConstant, bpf.LoadScratch, bpf.ALUOpConstant, bpf.ALUOpX, bpf.NegateA, bpf.TXA:
			loaded = ^uint32(0)
		case bpf.JumpIf:
			comment = compared(&arch, loaded, d.Val)
			comment = joinComment(comment, fmt.Sprintf("true: %d, false: %d", i+1+int(d.SkipTrue), i+1+int(d.SkipFalse)))
		case bpf.Jump:
			comment = fmt.Sprintf("to %d", i+1+int(d.Skip))
		case bpf.RetConstant:
			comment = DecodeRet(d.Val).String()
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
