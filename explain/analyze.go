package explain

import (
	"fmt"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/seccomp"
)

// maxSyscallNr bounds the syscall numbers probed on each architecture;
// libseccomp names none above it on any Linux architecture today.
const maxSyscallNr = 1024

// probeArch is an ABI a process on this machine can make syscalls through.
type probeArch struct {
	arch  abi.Arch
	audit uint32 // seccomp_data.arch
	base  int32  // added to the syscall number (x32)
}

// probeArches returns the native ABI first, then the compat ABIs the
// native kernel runs.
func probeArches(native abi.Arch) ([]probeArch, error) {
	nat, err := native.Audit()
	if err != nil {
		return nil, err
	}
	out := []probeArch{{arch: native, audit: nat}}
	switch native {
	case "amd64":
		out = append(out, probeArch{arch: "x86", audit: unix.AUDIT_ARCH_I386}, probeArch{arch: "x32", audit: unix.AUDIT_ARCH_X86_64, base: abi.X32SyscallBit})
	case "arm64":
		out = append(out, probeArch{arch: "arm", audit: unix.AUDIT_ARCH_ARM})
	}
	return out, nil
}

// syscallEntry is a syscall of one architecture.
type syscallEntry struct {
	name string
	nr   int32 // as seccomp_data.nr carries it
}

// table returns the syscalls libseccomp knows on a, by number.
func (a probeArch) table() []syscallEntry {
	var out []syscallEntry
	for n := int32(0); n < maxSyscallNr; n++ {
		name, err := abi.SyscallName(a.arch, int(a.base+n))
		if err != nil || name == "" {
			continue
		}
		out = append(out, syscallEntry{name: name, nr: a.base + n})
	}
	return out
}

// marker is what the probe program returns instead of loading a word of
// seccomp_data beyond nr and arch: markerAction|offset. No seccomp action
// has the value markerAction.
const (
	markerAction = 0x7ffe0000
	markerMask   = 0xffff0000
)

// words of seccomp_data after nr and arch: the instruction pointer (8, 12)
// and the six arguments (16 + 8*i low word, 20 + 8*i high word, on a
// little-endian machine).
const (
	firstArgWord = 8
	dataSize     = 64
)

// prober runs a filter, and variants of it that report the first word of
// seccomp_data past nr and arch they read, in the VM.
type prober struct {
	prog []unix.SockFilter
	vm   *filter.VM
	// patched caches the variants by the set of word offsets (bit
	// off/4) whose loads return a marker.
	patched map[uint16]*filter.VM
}

func newProber(prog []unix.SockFilter) (*prober, error) {
	vm, err := filter.NewVM(prog)
	if err != nil {
		return nil, err
	}
	return &prober{prog: prog, vm: vm, patched: map[uint16]*filter.VM{}}, nil
}

// variant returns the program whose loads of the words in set return a
// marker.
func (p *prober) variant(set uint16) (*filter.VM, error) {
	if vm, ok := p.patched[set]; ok {
		return vm, nil
	}
	prog := make([]unix.SockFilter, len(p.prog))
	copy(prog, p.prog)
	for i, ins := range prog {
		if ins.Code == unix.BPF_LD|unix.BPF_W|unix.BPF_ABS && ins.K < dataSize && set&(1<<(ins.K/4)) != 0 {
			prog[i] = unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: markerAction | ins.K}
		}
	}
	vm, err := filter.NewVM(prog)
	if err != nil {
		return nil, err
	}
	p.patched[set] = vm
	return vm, nil
}

// allWords is the set of every word past nr and arch.
const allWords = uint16(0xffff) &^ 0b11

// verdict is what the filter does with one syscall of one architecture.
type verdict struct {
	// ret is the return value with every argument (and the instruction
	// pointer) zero.
	ret uint32
	// words is the set (bit off/4) of seccomp_data words past nr and arch
	// the filter reads on its way to ret; empty when the verdict does not
	// depend on the arguments.
	words uint16
}

// conditional reports whether the verdict depends on the arguments.
func (v verdict) conditional() bool { return v.words != 0 }

// args returns the argument indexes v reads, and whether it reads the
// instruction pointer.
func (v verdict) args() (args []int, ip bool) {
	for i := 0; i < 6; i++ {
		if v.words&(0b11<<(4+2*i)) != 0 {
			args = append(args, i)
		}
	}
	return args, v.words&0b1100 != 0
}

// lowOnly returns the argument indexes whose low word v reads but not the
// high one: a 64-bit argument compared on 32 bits.
func (v verdict) lowOnly() []int {
	var out []int
	for i := 0; i < 6; i++ {
		lo, hi := uint16(1)<<(4+2*i), uint16(1)<<(5+2*i)
		if v.words&lo != 0 && v.words&hi == 0 {
			out = append(out, i)
		}
	}
	return out
}

// run returns the verdict for d: the real return value, and the words read
// on the way, found by letting each read return a marker in turn.
func (p *prober) run(d filter.SeccompData) (verdict, error) {
	ret, err := p.vm.Run(d)
	if err != nil {
		return verdict{}, err
	}
	v := verdict{ret: ret}
	set := allWords
	for set != 0 {
		vm, err := p.variant(set)
		if err != nil {
			return verdict{}, err
		}
		r, err := vm.Run(d)
		if err != nil {
			return verdict{}, err
		}
		if r&markerMask != markerAction || r&^markerMask >= dataSize {
			break
		}
		bit := uint16(1) << ((r &^ markerMask) / 4)
		v.words |= bit
		set &^= bit
	}
	return v, nil
}

// archResult is the filter's verdict on every syscall of one architecture.
type archResult struct {
	probeArch
	syscalls []syscallEntry
	verdicts []verdict
}

// admitted reports whether any syscall of the architecture may run.
func (r *archResult) admitted() bool {
	for _, v := range r.verdicts {
		if v.conditional() || seccomp.DecodeRet(v.ret).Allows() {
			return true
		}
	}
	return false
}

// lookup returns the verdict for the named syscall.
func (r *archResult) lookup(name string) (verdict, bool) {
	for i, s := range r.syscalls {
		if s.name == name {
			return r.verdicts[i], true
		}
	}
	return verdict{}, false
}

// analysis is a filter run over every syscall of every architecture.
type analysis struct {
	prober *prober
	arches []*archResult // native first
	// anyArch holds the native syscalls' verdicts under an architecture
	// value no ABI has: what the filter does without an architecture
	// check.
	anyArch *archResult
	defRet  uint32
}

// bogusArch is a seccomp_data.arch value of no architecture.
const bogusArch = 0x1

// analyze runs prog over every syscall of arch and of the compat ABIs a
// kernel of arch runs (arch is the native architecture, or that of a
// profile written for another machine).
func analyze(prog []unix.SockFilter, arch abi.Arch) (*analysis, error) {
	pr, err := newProber(prog)
	if err != nil {
		return nil, err
	}
	pas, err := probeArches(arch)
	if err != nil {
		return nil, err
	}
	a := &analysis{prober: pr}
	for _, pa := range pas {
		r, err := pr.runArch(pa, pa.table())
		if err != nil {
			return nil, err
		}
		a.arches = append(a.arches, r)
	}
	bogus := pas[0]
	bogus.audit = bogusArch
	a.anyArch, err = pr.runArch(bogus, a.arches[0].syscalls)
	if err != nil {
		return nil, err
	}
	if err := a.computeDefault(); err != nil {
		return nil, err
	}
	return a, nil
}

func (p *prober) runArch(pa probeArch, table []syscallEntry) (*archResult, error) {
	r := &archResult{probeArch: pa, syscalls: table, verdicts: make([]verdict, len(table))}
	for i, s := range table {
		v, err := p.run(filter.SeccompData{Nr: s.nr, Arch: pa.audit})
		if err != nil {
			return nil, fmt.Errorf("syscall %s on %s: %w", s.name, pa.arch, err)
		}
		r.verdicts[i] = v
	}
	return r, nil
}

// native is the native architecture's result.
func (a *analysis) native() *archResult { return a.arches[0] }

// defaultRet is the profile's default action: what the filter returns for
// syscall numbers no profile can name, the gaps of the native table below
// its highest number (an ENOSYS stub for numbers above the highest a
// profile names, as runc adds, does not reach them). On a table without
// gaps it is the most common return value among the syscalls decided by
// number alone.
func (a *analysis) defaultRet() uint32 {
	return a.defRet
}

func (a *analysis) computeDefault() error {
	nat := a.native()
	count := map[uint32]int{}
	named := map[int32]bool{}
	var top int32
	for _, s := range nat.syscalls {
		named[s.nr] = true
		top = max(top, s.nr)
	}
	for n := nat.base; n < top; n++ {
		if named[n] {
			continue
		}
		ret, err := a.prober.vm.Run(filter.SeccompData{Nr: n, Arch: nat.audit})
		if err != nil {
			return err
		}
		count[ret]++
	}
	if len(count) == 0 {
		for _, v := range nat.verdicts {
			if !v.conditional() {
				count[v.ret]++
			}
		}
	}
	n := -1
	for ret, c := range count {
		if c > n || c == n && ret < a.defRet {
			a.defRet, n = ret, c
		}
	}
	return nil
}

// allowsArgs reports whether the native filter allows name with the given
// arguments.
func (a *analysis) allowsArgs(name string, args [6]uint64) (bool, error) {
	for _, s := range a.native().syscalls {
		if s.name == name {
			ret, err := a.prober.vm.Run(filter.SeccompData{Nr: s.nr, Arch: a.native().audit, Args: args})
			if err != nil {
				return false, err
			}
			return seccomp.DecodeRet(ret).Allows(), nil
		}
	}
	return false, nil
}
