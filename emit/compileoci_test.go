package emit_test

import (
	"testing"

	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
)

// TestCompileOCIIsRuncs: filter.CompileOCI, which the Landlock launcher
// loads in runc's stead, decides every call as the filter runc itself
// loads for the same OCI document: the learned profile as emitted (x86_64
// only: i386 and x32 calls get the bad-arch action), and the same with
// i386 and x32 listed (runc's ENOSYS stub on each, x32 apart) and a
// default that kills. Each architecture's numbers 0-999 with no argument,
// and every event of verdictEvents (argument conditions), are compared.
func TestCompileOCIIsRuncs(t *testing.T) {
	_, doc := runcPauserProfile(t)
	wide := *doc
	wide.Architectures = []specs.Arch{specs.ArchX86_64, specs.ArchX86, specs.ArchX32}
	wide.DefaultAction, wide.DefaultErrnoRet = specs.ActKillProcess, nil
	for name, d := range map[string]*specs.LinuxSeccomp{"as emitted": doc, "three ABIs, kill": &wide} {
		runcs, err := filter.NewVM(runcFilterProgram(t, d))
		if err != nil {
			t.Fatal(err)
		}
		compiled, err := filter.CompileOCI(d)
		if err != nil {
			t.Fatal(err)
		}
		ours, err := filter.NewVM(compiled.Program)
		if err != nil {
			t.Fatal(err)
		}
		var calls []filter.SeccompData
		for _, a := range []struct {
			arch  abi.Arch
			audit uint32
			base  int32
		}{{"amd64", unix.AUDIT_ARCH_X86_64, 0}, {"x86", unix.AUDIT_ARCH_I386, 0}, {"x32", unix.AUDIT_ARCH_X86_64, abi.X32SyscallBit}} {
			for nr := int32(0); nr < 1000; nr++ {
				calls = append(calls, filter.SeccompData{Nr: a.base + nr, Arch: a.audit})
			}
			for _, ev := range verdictEvents(t) {
				if nr, err := abi.SyscallNumber(a.arch, ev.name); err == nil {
					calls = append(calls, filter.SeccompData{Nr: int32(nr), Arch: a.audit, Args: ev.args})
				}
			}
		}
		differ := 0
		for _, c := range calls {
			want, err := runcs.Run(c)
			if err != nil {
				t.Fatal(err)
			}
			got, err := ours.Run(c)
			if err != nil {
				t.Fatal(err)
			}
			if got != want && differ < 10 {
				t.Errorf("%s: arch %#x nr %#x args %x: CompileOCI %#x, runc %#x", name, c.Arch, c.Nr, c.Args, got, want)
			}
			if got != want {
				differ++
			}
		}
		if differ > 0 {
			t.Errorf("%s: %d of %d calls decided otherwise than runc", name, differ, len(calls))
		}
	}
}
