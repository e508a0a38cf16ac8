package filter

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/recording"
)

// Offsets in struct seccomp_data.
const (
	offNr   = 0
	offArch = 4
)

// CacheAllows reports whether the kernel's constant-action cache (Linux
// 5.11, kernel/seccomp.c: seccomp_cache_prepare and seccomp_is_const_allow)
// lets syscall nr of architecture arch through prog without running it: the
// path prog takes for (arch, nr) loads only the syscall number and the
// architecture, uses only JEQ, JGE, JGT and JSET against constants, JA and
// AND with a constant, and ends in SECCOMP_RET_ALLOW. It emulates the
// kernel's check instruction by instruction, so a path that loads an
// argument, or any other instruction, is not cacheable.
func CacheAllows(prog []unix.SockFilter, arch uint32, nr int32) bool {
	var a uint32
	for pc := 0; pc < len(prog); pc++ {
		in := prog[pc]
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			switch in.K {
			case offNr:
				a = uint32(nr)
			case offArch:
				a = arch
			default:
				return false
			}
		case unix.BPF_RET | unix.BPF_K:
			return in.K == unix.SECCOMP_RET_ALLOW
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K:
			if jump(in.Code, a, in.K) {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		default:
			return false
		}
	}
	return false
}

func jump(code uint16, a, k uint32) bool {
	switch code & 0xf0 {
	case unix.BPF_JEQ:
		return a == k
	case unix.BPF_JGE:
		return a >= k
	case unix.BPF_JGT:
		return a > k
	default: // BPF_JSET
		return a&k != 0
	}
}

// Steps runs prog on d and returns the number of instructions it executed
// and its return value: the filter's cost for one syscall, which
// golang.org/x/net/bpf's VM does not report. It runs the instructions
// seccomp filters are made of (32-bit absolute loads of seccomp_data, the
// scratch memory, ALU and jumps with constants or X, returns); any other is
// an error naming it.
func Steps(prog []unix.SockFilter, d SeccompData) (int, uint32, error) {
	data := d.bytes() // each 32-bit word big-endian: read it back that way
	word := func(off uint32) (uint32, error) {
		if off%4 != 0 || off+4 > seccompDataSize {
			return 0, fmt.Errorf("load of seccomp_data offset %d", off)
		}
		return uint32(data[off])<<24 | uint32(data[off+1])<<16 | uint32(data[off+2])<<8 | uint32(data[off+3]), nil
	}
	var (
		a, x uint32
		mem  [16]uint32
	)
	for pc, n := 0, 1; pc < len(prog); pc, n = pc+1, n+1 {
		in := prog[pc]
		var err error
		switch in.Code {
		case unix.BPF_LD | unix.BPF_W | unix.BPF_ABS:
			a, err = word(in.K)
		case unix.BPF_LD | unix.BPF_IMM:
			a = in.K
		case unix.BPF_LDX | unix.BPF_IMM:
			x = in.K
		case unix.BPF_LD | unix.BPF_MEM, unix.BPF_LDX | unix.BPF_MEM, unix.BPF_ST, unix.BPF_STX:
			if in.K >= uint32(len(mem)) {
				return 0, 0, fmt.Errorf("instruction %d: scratch memory slot %d", pc, in.K)
			}
			switch in.Code {
			case unix.BPF_LD | unix.BPF_MEM:
				a = mem[in.K]
			case unix.BPF_LDX | unix.BPF_MEM:
				x = mem[in.K]
			case unix.BPF_ST:
				mem[in.K] = a
			default:
				mem[in.K] = x
			}
		case unix.BPF_MISC | unix.BPF_TAX:
			x = a
		case unix.BPF_MISC | unix.BPF_TXA:
			a = x
		case unix.BPF_ALU | unix.BPF_AND | unix.BPF_K:
			a &= in.K
		case unix.BPF_ALU | unix.BPF_OR | unix.BPF_K:
			a |= in.K
		case unix.BPF_RET | unix.BPF_K:
			return n, in.K, nil
		case unix.BPF_RET | unix.BPF_A:
			return n, a, nil
		case unix.BPF_JMP | unix.BPF_JA:
			pc += int(in.K)
		case unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_K, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_K,
			unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_X, unix.BPF_JMP | unix.BPF_JGE | unix.BPF_X,
			unix.BPF_JMP | unix.BPF_JGT | unix.BPF_X, unix.BPF_JMP | unix.BPF_JSET | unix.BPF_X:
			k := in.K
			if in.Code&unix.BPF_X != 0 {
				k = x
			}
			if jump(in.Code, a, k) {
				pc += int(in.Jt)
			} else {
				pc += int(in.Jf)
			}
		default:
			return 0, 0, fmt.Errorf("instruction %d: opcode %#x is not one Steps runs", pc, in.Code)
		}
		if err != nil {
			return 0, 0, fmt.Errorf("instruction %d: %w", pc, err)
		}
	}
	return 0, 0, fmt.Errorf("the program runs off its end")
}

// FilterCost is what a filter costs the calls of a recording, each call
// weighted by its recorded count.
type FilterCost struct {
	// Calls is the number of recorded calls.
	Calls uint64
	// Steps is the mean number of filter instructions run per call.
	Steps float64
	// Cached is the share of calls that the kernel's constant-action
	// cache allows without running the filter (CacheAllows); Uncached is
	// the mean number of instructions per call counting those as 0.
	Cached   float64
	Uncached float64
}

// Cost runs every recorded event of rec (each argument shape, as Static
// expands them) through prog with Steps and weights it by its count.
func Cost(prog []unix.SockFilter, arch uint32, rec *recording.Recording) (FilterCost, error) {
	var c FilterCost
	var steps, uncached, cached float64
	for _, s := range rec.Syscalls {
		d := SeccompData{Nr: int32(s.Number), Arch: arch}
		hit := CacheAllows(prog, arch, d.Nr)
		for _, ev := range s.Events() {
			d.Args = ev.Args
			n, _, err := Steps(prog, d)
			if err != nil {
				return FilterCost{}, fmt.Errorf("filter cost of %s: %w", s.Name, err)
			}
			w := float64(ev.Count)
			c.Calls += ev.Count
			steps += w * float64(n)
			if hit {
				cached += w
			} else {
				uncached += w * float64(n)
			}
		}
	}
	if c.Calls > 0 {
		c.Steps = steps / float64(c.Calls)
		c.Uncached = uncached / float64(c.Calls)
		c.Cached = cached / float64(c.Calls)
	}
	return c, nil
}
