package reachable

import (
	"debug/elf"
	"sort"
	"strings"

	"golang.org/x/arch/x86/x86asm"
)

// pltTargets maps the address of each PLT entry of f to the function its
// GOT slot is bound to (a jmp through a GOT slot with a symbol relocation).
func pltTargets(f *elf.File, rel map[uint64]reloc) map[uint64]string {
	out := map[uint64]string{}
	for _, s := range f.Sections {
		if !strings.HasPrefix(s.Name, ".plt") || s.Flags&elf.SHF_EXECINSTR == 0 {
			continue
		}
		b, err := s.Data()
		if err != nil {
			continue
		}
		for off := 0; off < len(b); {
			inst, err := x86asm.Decode(b[off:], 64)
			if err != nil {
				off++
				continue
			}
			pc := s.Addr + uint64(off)
			if inst.Op == x86asm.JMP {
				if m, ok := inst.Args[0].(x86asm.Mem); ok && m.Base == x86asm.RIP {
					slot := pc + uint64(inst.Len) + uint64(m.Disp)
					if r, ok := rel[slot]; ok && r.sym != "" {
						out[pc&^15] = r.sym
					}
				}
			}
			off += inst.Len
		}
	}
	return out
}

type decoder struct {
	im  *Image
	f   *elf.File
	rel map[uint64]reloc
	plt map[uint64]string
}

type decoded struct {
	pc   uint64
	inst x86asm.Inst
}

var jumps = map[x86asm.Op]bool{
	x86asm.JA: true, x86asm.JAE: true, x86asm.JB: true, x86asm.JBE: true, x86asm.JE: true, x86asm.JG: true,
	x86asm.JGE: true, x86asm.JL: true, x86asm.JLE: true, x86asm.JNE: true, x86asm.JNO: true, x86asm.JNP: true,
	x86asm.JNS: true, x86asm.JO: true, x86asm.JP: true, x86asm.JS: true, x86asm.JCXZ: true, x86asm.JECXZ: true,
	x86asm.JRCXZ: true, x86asm.LOOP: true, x86asm.LOOPE: true, x86asm.LOOPNE: true, x86asm.JMP: true,
}

// raxClobbers write rax (or a part of it) without naming it as their
// first operand.
var raxClobbers = map[x86asm.Op]bool{
	x86asm.CPUID: true, x86asm.RDTSC: true, x86asm.RDTSCP: true, x86asm.MUL: true, x86asm.IMUL: true,
	x86asm.DIV: true, x86asm.IDIV: true, x86asm.CWD: true, x86asm.CDQ: true, x86asm.CQO: true,
	x86asm.CBW: true, x86asm.CWDE: true, x86asm.CDQE: true, x86asm.CMPXCHG: true, x86asm.CMPXCHG8B: true,
	x86asm.CMPXCHG16B: true, x86asm.XCHG: true, x86asm.XADD: true, x86asm.LODSB: true, x86asm.LODSW: true,
	x86asm.LODSD: true, x86asm.LODSQ: true, x86asm.IN: true, x86asm.LAHF: true, x86asm.XGETBV: true,
	x86asm.RDMSR: true, x86asm.RDPMC: true, x86asm.SYSCALL: true, x86asm.CALL: true,
	x86asm.POPA: true, x86asm.POPAD: true, x86asm.XLATB: true,
}

// rdiClobbers write rdi without naming it as their first operand.
var rdiClobbers = map[x86asm.Op]bool{
	x86asm.STOSB: true, x86asm.STOSW: true, x86asm.STOSD: true, x86asm.STOSQ: true,
	x86asm.MOVSB: true, x86asm.MOVSW: true, x86asm.MOVSD: true, x86asm.MOVSQ: true,
	x86asm.SCASB: true, x86asm.SCASW: true, x86asm.SCASD: true, x86asm.SCASQ: true,
	x86asm.CMPSB: true, x86asm.CMPSW: true, x86asm.CMPSD: true, x86asm.CMPSQ: true,
	x86asm.CALL: true, x86asm.XCHG: true, x86asm.POPA: true, x86asm.POPAD: true, x86asm.INSB: true,
	x86asm.INSW: true, x86asm.INSD: true,
}

// readOnly name a register first without writing it.
var readOnly = map[x86asm.Op]bool{
	x86asm.CMP: true, x86asm.TEST: true, x86asm.BT: true, x86asm.PUSH: true, x86asm.PREFETCHT0: true,
	x86asm.PREFETCHT1: true, x86asm.PREFETCHT2: true, x86asm.PREFETCHNTA: true,
}

// gpr returns the index (0..15, rax..r15) of the general-purpose register
// r belongs to, and whether a write to r sets all of it (32-bit writes
// zero-extend); -1 for other registers.
func gpr(r x86asm.Reg) (int, bool) {
	switch {
	case r >= x86asm.AL && r <= x86asm.BH:
		return int(r-x86asm.AL) % 4, false
	case r >= x86asm.SPB && r <= x86asm.R15B:
		return int(r-x86asm.SPB) + 4, false
	case r >= x86asm.AX && r <= x86asm.R15W:
		return int(r - x86asm.AX), false
	case r >= x86asm.EAX && r <= x86asm.R15L:
		return int(r - x86asm.EAX), true
	case r >= x86asm.RAX && r <= x86asm.R15:
		return int(r - x86asm.RAX), true
	}
	return -1, false
}

const (
	regRAX = 0
	regRDI = 7
	// unknown is a register whose value the analysis does not know;
	// argRDI is rdi's value on entry to the function (its first argument).
	unknown = -1
	argRDI  = -2
)

// target returns the address an argument refers to: a relative branch's
// target or a rip-relative memory operand's address.
func target(a x86asm.Arg, next uint64) (uint64, bool, bool) {
	switch a := a.(type) {
	case x86asm.Rel:
		return next + uint64(int64(a)), true, false
	case x86asm.Mem:
		if a.Base == x86asm.RIP {
			return next + uint64(a.Disp), true, true
		}
	}
	return 0, false, false
}

// regState is what the analysis knows of the 16 general-purpose registers:
// a non-negative constant, unknown or argRDI.
type regState [17]int64

// stackSlot is the index in regState of the 8 bytes at [rsp]: the first
// argument of a Go ABI0 function.
const stackSlot = 16

func allUnknown() regState {
	var r regState
	for i := range r {
		r[i] = unknown
	}
	return r
}

// meet merges the states of two paths into a block.
func (r *regState) meet(o *regState) bool {
	changed := false
	for i := range r {
		if r[i] != o[i] && r[i] != unknown {
			r[i] = unknown
			changed = true
		}
	}
	return changed
}

// callerSaved are the registers a C call (System V ABI) clobbers: rax, rcx,
// rdx, rsi, rdi, r8-r11. Go's ABI preserves none.
var callerSaved = []int{0, 1, 2, 6, 7, 8, 9, 10, 11}

// step applies inst to the register state.
func (d *decoder) step(regs *regState, inst x86asm.Inst) {
	switch inst.Op {
	case x86asm.CALL:
		if d.im.Go {
			*regs = allUnknown()
			return
		}
		for _, i := range callerSaved {
			regs[i] = unknown
		}
		return
	case x86asm.SYSCALL:
		regs[regRAX], regs[1], regs[11] = unknown, unknown, unknown
		return
	case x86asm.PUSH, x86asm.POP, x86asm.PUSHF, x86asm.POPF:
		regs[stackSlot] = unknown
	}
	if m, ok := inst.Args[0].(x86asm.Mem); ok && m.Base == x86asm.RSP && m.Index == 0 && m.Disp > -16 && m.Disp < 8 {
		regs[stackSlot] = unknown
		if imm, ok := inst.Args[1].(x86asm.Imm); ok && inst.Op == x86asm.MOV && m.Disp == 0 && int64(imm) >= 0 {
			regs[stackSlot] = int64(imm)
		}
		return
	}
	if raxClobbers[inst.Op] {
		regs[regRAX], regs[2] = unknown, unknown // rax and rdx
	}
	if rdiClobbers[inst.Op] {
		regs[regRDI], regs[6], regs[1] = unknown, unknown, unknown // rdi, rsi, rcx
	}
	if inst.Op == x86asm.XCHG || inst.Op == x86asm.XADD || inst.Op == x86asm.CMPXCHG {
		if r, ok := inst.Args[1].(x86asm.Reg); ok {
			if i, _ := gpr(r); i >= 0 {
				regs[i] = unknown
			}
		}
	}
	dst, ok := inst.Args[0].(x86asm.Reg)
	if !ok || readOnly[inst.Op] {
		return
	}
	if dst == x86asm.RSP || dst == x86asm.ESP {
		regs[stackSlot] = unknown
	}
	di, whole := gpr(dst)
	if di < 0 {
		return
	}
	val := int64(unknown)
	if whole {
		switch inst.Op {
		case x86asm.MOV:
			switch src := inst.Args[1].(type) {
			case x86asm.Imm:
				if int64(src) >= 0 {
					val = int64(src)
				}
			case x86asm.Reg:
				if si, w := gpr(src); si >= 0 && w {
					val = regs[si]
				}
			}
		case x86asm.XOR:
			if src, ok := inst.Args[1].(x86asm.Reg); ok && src == dst {
				val = 0
			}
		}
	}
	regs[di] = val
}

// ends reports whether inst ends a basic block without falling through.
func ends(op x86asm.Op) bool {
	return op == x86asm.JMP || op == x86asm.RET || op == x86asm.HLT || op == x86asm.UD2 || op == x86asm.IRET ||
		op == x86asm.IRETQ || op == x86asm.SYSRET
}

type block struct {
	first, last int // instruction indices, inclusive
	succ        []int
	in          regState
	reached     bool
}

// decode decodes function j (its bytes b at address addr): its basic
// blocks, the constants of its registers by forward dataflow over them
// (meeting at joins, so that a constant set before a branch reaches the
// syscall after it), then its syscalls, calls and references.
func (d *decoder) decode(j int, b []byte, addr uint64) {
	fn := &d.im.Funcs[j]
	var insts []decoded
	index := map[uint64]int{}
	for off := 0; off < len(b); {
		inst, err := x86asm.Decode(b[off:], 64)
		if err != nil {
			off++
			continue
		}
		pc := addr + uint64(off)
		index[pc] = len(insts)
		insts = append(insts, decoded{pc, inst})
		off += inst.Len
	}
	if len(insts) == 0 {
		return
	}
	// Leaders: the first instruction, internal branch targets and what
	// follows a branch.
	leader := make([]bool, len(insts)+1)
	leader[0] = true
	internal := func(di decoded) (int, bool) {
		t, ok, mem := target(di.inst.Args[0], di.pc+uint64(di.inst.Len))
		if !ok || mem {
			return 0, false
		}
		i, ok := index[t]
		return i, ok
	}
	for i, di := range insts {
		if jumps[di.inst.Op] || ends(di.inst.Op) {
			leader[i+1] = true
			if t, ok := internal(di); ok && jumps[di.inst.Op] {
				leader[t] = true
			}
		}
	}
	var blocks []block
	blockOf := make([]int, len(insts))
	for i := range insts {
		if leader[i] {
			blocks = append(blocks, block{first: i})
		}
		blockOf[i] = len(blocks) - 1
		blocks[len(blocks)-1].last = i
	}
	for bi := range blocks {
		bl := &blocks[bi]
		last := insts[bl.last]
		if jumps[last.inst.Op] {
			if t, ok := internal(last); ok {
				bl.succ = append(bl.succ, blockOf[t])
			}
		}
		if !ends(last.inst.Op) && bl.last+1 < len(insts) {
			bl.succ = append(bl.succ, bi+1)
		}
	}
	entry := allUnknown()
	entry[regRDI] = argRDI
	blocks[0].in, blocks[0].reached = entry, true
	work := []int{0}
	for len(work) > 0 {
		bi := work[len(work)-1]
		work = work[:len(work)-1]
		out := blocks[bi].in
		for i := blocks[bi].first; i <= blocks[bi].last; i++ {
			d.step(&out, insts[i].inst)
		}
		for _, s := range blocks[bi].succ {
			sb := &blocks[s]
			if !sb.reached {
				sb.in, sb.reached = out, true
				work = append(work, s)
			} else if sb.in.meet(&out) {
				work = append(work, s)
			}
		}
	}
	calls := map[int]bool{}
	imports := map[string]bool{}
	sites := map[Site]bool{}
	sys := map[int]bool{}
	edge := func(t uint64) int {
		if t >= fn.Start && t < fn.End {
			return -1
		}
		if i := d.im.funcAt(t); i >= 0 {
			calls[i] = true
			return i
		}
		return -1
	}
	for bi := range blocks {
		regs := allUnknown() // a block no path of this function reaches
		if blocks[bi].reached {
			regs = blocks[bi].in
		}
		for _, di := range insts[blocks[bi].first : blocks[bi].last+1] {
			d.facts(fn, di, &regs, edge, imports, sites, sys)
			d.step(&regs, di.inst)
		}
	}
	fn.Sys = sortedInts(sys)
	fn.Calls = sortedInts(calls)
	for s := range imports {
		fn.Imports = append(fn.Imports, s)
	}
	sort.Strings(fn.Imports)
	for s := range sites {
		fn.Sites = append(fn.Sites, s)
	}
}

// facts records what one instruction does: its references (PLT, GOT,
// code addresses), its syscall and its call site.
func (d *decoder) facts(fn *Func, di decoded, regs *regState, edge func(uint64) int,
	imports map[string]bool, sites map[Site]bool, sys map[int]bool) {
	inst := di.inst
	next := di.pc + uint64(inst.Len)
	callee, imp := -1, ""
	for _, a := range inst.Args {
		if a == nil {
			break
		}
		t, ok, mem := target(a, next)
		if !ok {
			continue
		}
		if name, isPLT := d.plt[t&^15]; isPLT && !mem {
			imports[name] = true
			imp = name
			continue
		}
		if mem {
			if r, isRel := d.rel[t]; isRel {
				if r.sym != "" && r.undef {
					if r.fn {
						imports[r.sym] = true
						imp = r.sym
					}
					continue
				}
				if i := edge(r.value); i >= 0 && (inst.Op == x86asm.CALL || inst.Op == x86asm.JMP) {
					callee = i
				}
				continue
			}
			if inst.Op == x86asm.LEA {
				edge(t)
			}
			continue
		}
		callee = edge(t)
	}
	switch inst.Op {
	case x86asm.SYSCALL:
		switch rax := regs[regRAX]; {
		case fn.GenericReg != "":
		case rax == argRDI:
			fn.GenericReg = "rdi"
		case rax >= 0:
			sys[int(rax)] = true
		default:
			fn.Undet++
		}
	case x86asm.CALL, x86asm.JMP:
		if imp != "" || callee >= 0 {
			sites[Site{Callee: callee, Import: imp, RAX: max(regs[regRAX], unknown), RDI: max(regs[regRDI], unknown), Stack: regs[stackSlot]}] = true
		}
	}
}

// finish keeps only the local call sites whose callee is generic.
func (d *decoder) finish() {
	for i := range d.im.Funcs {
		fn := &d.im.Funcs[i]
		kept := fn.Sites[:0]
		for _, s := range fn.Sites {
			if s.Callee < 0 || d.im.Funcs[s.Callee].GenericReg != "" {
				kept = append(kept, s)
			}
		}
		sort.Slice(kept, func(a, b int) bool {
			x, y := kept[a], kept[b]
			if x.Callee != y.Callee {
				return x.Callee < y.Callee
			}
			if x.Import != y.Import {
				return x.Import < y.Import
			}
			if x.RAX != y.RAX {
				return x.RAX < y.RAX
			}
			return x.RDI < y.RDI
		})
		fn.Sites = kept
	}
}

func sortedInts[K comparable](m map[int]K) []int {
	out := make([]int, 0, len(m))
	for k := range m {
		out = append(out, k)
	}
	sort.Ints(out)
	return out
}
