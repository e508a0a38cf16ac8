package filter

import (
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// TestCacheAllowsNamesOnly walks the path of every syscall in a learned
// profile's compiled filter (Compile's and CompileHot's) the way the kernel's constant-action cache
// does: every syscall allowed without argument rules touches only the
// syscall number and architecture on its way to ALLOW (the kernel decides
// it from a bitmap); every one with argument rules loads an argument (it
// runs the filter); one the profile does not allow, and any syscall of the
// i386 ABI, are not cache-allowed.
func TestCacheAllowsNamesOnly(t *testing.T) {
	p, rec := learnFixture(t, learn.Options{})
	plain, err := Compile(p, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	hot, err := CompileHot(p, recordedCounts(rec), CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	t.Run("plain", func(t *testing.T) { checkCacheable(t, p, plain) })
	t.Run("hot", func(t *testing.T) { checkCacheable(t, p, hot) })
}

func checkCacheable(t *testing.T, p *learn.Profile, prog []unix.SockFilter) {
	var names, args int
	for _, s := range p.Syscalls {
		nr, err := abi.SyscallNumber(p.Arch, s.Name)
		if err != nil {
			t.Fatal(err)
		}
		got := CacheAllows(prog, unix.AUDIT_ARCH_X86_64, int32(nr))
		switch {
		case s.Action == learn.Allow && len(s.Rules) == 0:
			names++
			if !got {
				t.Errorf("%s is allowed by name, but its path in the filter is not cacheable", s.Name)
			}
		case s.Action == learn.Allow:
			args++
			if got {
				t.Errorf("%s has argument rules, but its path is cache-allowed", s.Name)
			}
		}
		if CacheAllows(prog, unix.AUDIT_ARCH_I386, int32(nr)) {
			t.Errorf("i386 syscall %d is cache-allowed", nr)
		}
	}
	if names < 5 || args < 2 {
		t.Fatalf("fixture profile has %d names-only and %d argument-checked syscalls; the test needs both", names, args)
	}
	if CacheAllows(prog, unix.AUDIT_ARCH_X86_64, int32(unix.SYS_REBOOT)) || p.Lookup("reboot") != nil {
		t.Error("reboot, which the profile does not allow, is cache-allowed")
	}
}

// TestCacheAllowsEmulation: the emulation follows the kernel's rules on
// hand-written programs, so that it can say no.
func TestCacheAllowsEmulation(t *testing.T) {
	ld := func(off uint32) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: off}
	}
	ret := func(k uint32) unix.SockFilter { return unix.SockFilter{Code: unix.BPF_RET | unix.BPF_K, K: k} }
	jeq := func(k uint32, jt, jf uint8) unix.SockFilter {
		return unix.SockFilter{Code: unix.BPF_JMP | unix.BPF_JEQ | unix.BPF_K, K: k, Jt: jt, Jf: jf}
	}
	// nr 1: allow after loading arg0's low half; nr 2: allow; else kill.
	prog := []unix.SockFilter{
		ld(offNr),
		jeq(1, 0, 2),
		ld(16), // args[0]
		ret(unix.SECCOMP_RET_ALLOW),
		jeq(2, 0, 1),
		ret(unix.SECCOMP_RET_ALLOW),
		ret(unix.SECCOMP_RET_KILL_PROCESS),
	}
	for _, c := range []struct {
		nr   int32
		want bool
	}{{1, false}, {2, true}, {3, false}} {
		if got := CacheAllows(prog, unix.AUDIT_ARCH_X86_64, c.nr); got != c.want {
			t.Errorf("nr %d: %v, want %v", c.nr, got, c.want)
		}
	}
	// An instruction outside the kernel's list (TAX) makes it uncacheable.
	tax := []unix.SockFilter{ld(offNr), {Code: unix.BPF_MISC | unix.BPF_TAX}, ret(unix.SECCOMP_RET_ALLOW)}
	if CacheAllows(tax, unix.AUDIT_ARCH_X86_64, 0) {
		t.Error("a path through TAX is cache-allowed")
	}
}

// TestStepsMatchesVM: for every recorded event of the fixture, Steps
// returns what golang.org/x/net/bpf's VM returns, so its instruction count
// is of the same run; the recording-weighted cost of libseccomp's default
// output is logged.
func TestStepsMatchesVM(t *testing.T) {
	p, rec := learnFixture(t, learn.Options{})
	prog, err := Compile(p, CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	vm, err := NewVM(prog)
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, s := range rec.Syscalls {
		// Every recorded event, and the call with no argument set.
		var datas []SeccompData
		for _, ev := range append(s.Events(), recording.Event{}) {
			datas = append(datas, SeccompData{Nr: int32(s.Number), Arch: unix.AUDIT_ARCH_X86_64, Args: ev.Args})
		}
		for _, e := range datas {
			n, ret, err := Steps(prog, e)
			if err != nil {
				t.Fatal(err)
			}
			want, err := vm.Run(e)
			if err != nil {
				t.Fatal(err)
			}
			if ret != want || n < 3 || n > len(prog) {
				t.Errorf("%s %v: Steps returned %#x after %d instructions, the VM %#x", s.Name, e.Args, ret, n, want)
			}
			checked++
		}
	}
	cost, err := Cost(prog, unix.AUDIT_ARCH_X86_64, rec)
	if err != nil {
		t.Fatal(err)
	}
	if cost.Calls == 0 || cost.Steps < 3 || cost.Cached <= 0 || cost.Cached >= 1 || cost.Uncached >= cost.Steps {
		t.Errorf("cost %+v", cost)
	}
	t.Logf("%d events checked; libseccomp's filter (%d instructions): %.1f instructions per recorded call, %.0f%% of calls cache-allowed, %.1f per call counting those as 0",
		checked, len(prog), cost.Steps, 100*cost.Cached, cost.Uncached)
}
