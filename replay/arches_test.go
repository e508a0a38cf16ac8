package replay

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
)

// TestCompileArches: CompileOptions.Arches admits the other ABIs with every
// rule translated by name; without it they get the bad-arch action.
func TestCompileArches(t *testing.T) {
	native, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	if native != "amd64" {
		t.Skipf("i386 is x86_64's compat ABI; this machine is %s", native)
	}
	p := &learn.Profile{Arch: native, DefaultAction: learn.Action{Kind: learn.ActErrno, Errno: 1}, Inputs: 1}
	if err := p.Add(learn.Syscall{Name: "getppid", Action: learn.Allow, Origin: learn.OriginImported}); err != nil {
		t.Fatal(err)
	}
	i386Getppid := filter.SeccompData{Nr: 64, Arch: unix.AUDIT_ARCH_I386}
	i386Read := filter.SeccompData{Nr: 3, Arch: unix.AUDIT_ARCH_I386}
	for _, tc := range []struct {
		arches         []abi.Arch
		getppid, other uint32
	}{
		{nil, unix.SECCOMP_RET_KILL_PROCESS, unix.SECCOMP_RET_KILL_PROCESS},
		{[]abi.Arch{"x86"}, unix.SECCOMP_RET_ALLOW, unix.SECCOMP_RET_ERRNO | 1},
	} {
		prog, err := filter.Compile(p, filter.CompileOptions{Arches: tc.arches})
		if err != nil {
			t.Fatal(err)
		}
		vm, err := filter.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		for d, want := range map[filter.SeccompData]uint32{i386Getppid: tc.getppid, i386Read: tc.other} {
			if got, err := vm.Run(d); err != nil || got != want {
				t.Errorf("arches %v, i386 nr %d: %#x, %v; want %#x", tc.arches, d.Nr, got, err, want)
			}
		}
	}
	if _, err := filter.Compile(p, filter.CompileOptions{Arches: []abi.Arch{"vax"}}); err == nil {
		t.Error("unknown architecture accepted")
	}
}
