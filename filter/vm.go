package filter

import (
	"encoding/binary"
	"fmt"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
)

// SeccompData is struct seccomp_data, what a seccomp filter sees of a
// syscall.
type SeccompData struct {
	Nr   int32
	Arch uint32 // AUDIT_ARCH_*
	IP   uint64
	Args [6]uint64
}

// seccompDataSize is sizeof(struct seccomp_data).
const seccompDataSize = 64

// bytes returns d as golang.org/x/net/bpf's VM must see it. The kernel
// lays seccomp_data out in native byte order and a seccomp filter reads it
// only with aligned 32-bit absolute loads, which it takes in native order;
// the VM takes them big-endian. So every 32-bit word of the native layout
// is written big-endian: a load then yields what the kernel's would.
func (d *SeccompData) bytes() []byte {
	var native [seccompDataSize]byte
	binary.NativeEndian.PutUint32(native[0:], uint32(d.Nr))
	binary.NativeEndian.PutUint32(native[4:], d.Arch)
	binary.NativeEndian.PutUint64(native[8:], d.IP)
	for i, a := range d.Args {
		binary.NativeEndian.PutUint64(native[16+8*i:], a)
	}
	out := make([]byte, seccompDataSize)
	for off := 0; off < seccompDataSize; off += 4 {
		binary.BigEndian.PutUint32(out[off:], binary.NativeEndian.Uint32(native[off:]))
	}
	return out
}

// VM runs a seccomp classic-BPF program in golang.org/x/net/bpf's
// virtual machine.
type VM struct {
	vm *bpf.VM
}

// NewVM prepares prog to run. Every instruction must be one a seccomp
// filter may use and that the VM implements; an instruction it cannot
// decode is an error naming it.
func NewVM(prog []unix.SockFilter) (*VM, error) {
	raw := RawInstructions(prog)
	insns := make([]bpf.Instruction, len(raw))
	for i, r := range raw {
		ins := r.Disassemble()
		if _, undecoded := ins.(bpf.RawInstruction); undecoded {
			return nil, fmt.Errorf("filter instruction %d (%#v): not understood by the BPF VM", i, r)
		}
		switch ins := ins.(type) {
		case bpf.LoadAbsolute:
			if ins.Size != 4 || ins.Off%4 != 0 || ins.Off+4 > seccompDataSize {
				return nil, fmt.Errorf("filter instruction %d (%v): seccomp allows only aligned 32-bit loads within seccomp_data", i, ins)
			}
		case bpf.LoadIndirect, bpf.LoadMemShift, bpf.LoadExtension:
			return nil, fmt.Errorf("filter instruction %d (%v): not allowed in a seccomp filter", i, ins)
		}
		insns[i] = ins
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		return nil, fmt.Errorf("BPF VM: %w", err)
	}
	return &VM{vm: vm}, nil
}

// Run returns the SECCOMP_RET_* value the program returns for d.
func (v *VM) Run(d SeccompData) (uint32, error) {
	r, err := v.vm.Run(d.bytes())
	if err != nil {
		return 0, fmt.Errorf("BPF VM: %w", err)
	}
	return uint32(r), nil
}

// Verdict returns the action the program takes for d.
func (v *VM) Verdict(d SeccompData) (learn.Action, error) {
	ret, err := v.Run(d)
	if err != nil {
		return learn.Action{}, err
	}
	return ActionFromRet(ret)
}

// RawInstructions converts a program to golang.org/x/net/bpf's form.
func RawInstructions(prog []unix.SockFilter) []bpf.RawInstruction {
	out := make([]bpf.RawInstruction, len(prog))
	for i, ins := range prog {
		out[i] = bpf.RawInstruction{Op: ins.Code, Jt: ins.Jt, Jf: ins.Jf, K: ins.K}
	}
	return out
}
