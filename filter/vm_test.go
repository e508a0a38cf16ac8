package filter

import (
	"testing"
	"unsafe"

	"golang.org/x/sys/unix"
)

// TestSeccompDataLayout: the VM sees the words a kernel seccomp filter
// loads: nr at 0, arch at 4, the low half of a 64-bit argument first on a
// little-endian machine.
func TestSeccompDataLayout(t *testing.T) {
	d := SeccompData{Nr: 41, Arch: unix.AUDIT_ARCH_X86_64, IP: 0x1122334455667788, Args: [6]uint64{0xaaaaaaaa_bbbbbbbb, 2, 3, 4, 5, 0xcccccccc_dddddddd}}
	b := d.bytes()
	word := func(off int) uint32 {
		return uint32(b[off])<<24 | uint32(b[off+1])<<16 | uint32(b[off+2])<<8 | uint32(b[off+3])
	}
	// The kernel's struct seccomp_data, read with 32-bit native loads.
	var k struct {
		nr   int32
		arch uint32
		ip   uint64
		args [6]uint64
	}
	k.nr, k.arch, k.ip, k.args = d.Nr, d.Arch, d.IP, d.Args
	raw := (*[seccompDataSize]byte)(unsafe.Pointer(&k))
	for off := 0; off < seccompDataSize; off += 4 {
		want := *(*uint32)(unsafe.Pointer(&raw[off]))
		if got := word(off); got != want {
			t.Errorf("word at %d: VM loads %#x, kernel %#x", off, got, want)
		}
	}
}

// TestNewVMRejects: instructions a seccomp filter may not use are refused
// before running.
func TestNewVMRejects(t *testing.T) {
	for _, prog := range [][]unix.SockFilter{
		{{Code: unix.BPF_LD | unix.BPF_H | unix.BPF_ABS, K: 0}, {Code: unix.BPF_RET | unix.BPF_K}},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 2}, {Code: unix.BPF_RET | unix.BPF_K}},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 64}, {Code: unix.BPF_RET | unix.BPF_K}},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_IND, K: 0}, {Code: unix.BPF_RET | unix.BPF_K}},
		{{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 0}},
		{{Code: 0xffff}},
	} {
		if _, err := NewVM(prog); err == nil {
			t.Errorf("%+v accepted", prog)
		}
	}
}
