package audit

import (
	"encoding/binary"
	"testing"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
)

// TestMarkerFilter runs the marker's filter in golang.org/x/net/bpf's VM:
// getcpu of the native ABI is logged, other calls and other ABIs allowed.
func TestMarkerFilter(t *testing.T) {
	prog, err := compileMarker()
	if err != nil {
		t.Fatal(err)
	}
	insns := make([]bpf.Instruction, len(prog))
	for i, f := range prog {
		insns[i] = bpf.RawInstruction{Op: f.Code, Jt: f.Jt, Jf: f.Jf, K: f.K}.Disassemble()
	}
	vm, err := bpf.NewVM(insns)
	if err != nil {
		t.Fatal(err)
	}
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	native, err := arch.Audit()
	if err != nil {
		t.Fatal(err)
	}
	// The VM loads 32-bit words big-endian; seccomp_data's nr and arch
	// are the first two words.
	data := func(nr, arch uint32) []byte {
		b := make([]byte, 64)
		binary.BigEndian.PutUint32(b[0:], nr)
		binary.BigEndian.PutUint32(b[4:], arch)
		return b
	}
	for _, tc := range []struct {
		nr, arch uint32
		want     uint32
	}{
		{MarkerNr, native, unix.SECCOMP_RET_LOG},
		{unix.SYS_GETPID, native, unix.SECCOMP_RET_ALLOW},
		{MarkerNr, native ^ 1, unix.SECCOMP_RET_ALLOW},
	} {
		got, err := vm.Run(data(tc.nr, tc.arch))
		if err != nil {
			t.Fatal(err)
		}
		if uint32(got) != tc.want {
			t.Errorf("nr %d arch %#x: %#x, want %#x", tc.nr, tc.arch, got, tc.want)
		}
	}
}
