package replay

import (
	"encoding/json"
	"fmt"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"syscall"
	"testing"
	"unsafe"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/learn"
)

// The kernel check: a child process (this test binary again) loads a
// compiled filter on one thread and makes getpid with each event's
// arguments; the errno it gets is the kernel's verdict. The filter only
// returns ALLOW or ERRNO, so the child survives every call.

const kernelCheckEnv = "PROFGEN_TEST_KERNEL_CHECK"

type kernelCheck struct {
	Prog   []unix.SockFilter `json:"prog"`
	Events [][6]uint64       `json:"events"`
	Errnos []int             `json:"errnos,omitempty"`
}

// TestKernelCheckHelper is not a test: it is the child of kernelVerdicts.
func TestKernelCheckHelper(t *testing.T) {
	path := os.Getenv(kernelCheckEnv)
	if path == "" {
		return
	}
	var kc kernelCheck
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &kc)
	}
	if err != nil {
		t.Fatal(err)
	}
	runtime.LockOSThread() // never unlocked: the thread dies with the filter
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		t.Fatal(err)
	}
	fprog := unix.SockFprog{Len: uint16(len(kc.Prog)), Filter: &kc.Prog[0]}
	if _, _, e := unix.RawSyscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER, 0, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		t.Fatalf("seccomp: %v", e)
	}
	for _, a := range kc.Events {
		_, _, e := unix.RawSyscall6(unix.SYS_GETPID, uintptr(a[0]), uintptr(a[1]), uintptr(a[2]), uintptr(a[3]), uintptr(a[4]), uintptr(a[5]))
		kc.Errnos = append(kc.Errnos, int(e))
	}
	out, _ := json.Marshal(kc)
	if err := os.WriteFile(path, out, 0o644); err != nil {
		t.Fatal(err)
	}
}

// kernelVerdicts returns the errno the kernel gives getpid(args) under
// prog, for each event (0: allowed).
func kernelVerdicts(t *testing.T, prog []unix.SockFilter, events [][6]uint64) []int {
	t.Helper()
	path := filepath.Join(t.TempDir(), "check.json")
	data, _ := json.Marshal(kernelCheck{Prog: prog, Events: events})
	if err := os.WriteFile(path, data, 0o644); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(os.Args[0], "-test.run=^TestKernelCheckHelper$")
	cmd.Env = append(os.Environ(), kernelCheckEnv+"="+path)
	if out, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("kernel check child: %v\n%s", err, out)
	}
	var kc kernelCheck
	data, err := os.ReadFile(path)
	if err == nil {
		err = json.Unmarshal(data, &kc)
	}
	if err != nil || len(kc.Errnos) != len(events) {
		t.Fatalf("kernel check child: %v, %d results for %d events", err, len(kc.Errnos), len(events))
	}
	return kc.Errnos
}

// vmErrno runs getpid(args) in vm: 0 when allowed, the errno otherwise.
func vmErrno(t *testing.T, vm *filter.VM, args [6]uint64) int {
	t.Helper()
	act, err := vm.Verdict(filter.SeccompData{Nr: unix.SYS_GETPID, Arch: unix.AUDIT_ARCH_X86_64, Args: args})
	if err != nil {
		t.Fatal(err)
	}
	switch act.Kind {
	case learn.ActAllow:
		return 0
	case learn.ActErrno:
		return int(act.Errno)
	}
	t.Fatalf("getpid%#x: %s", args, act)
	return -1
}

// TestVMMatchesKernel: for random rule sets of every comparison on getpid,
// the VM's verdict is the kernel's, event for event. This is what lets the
// static replay stand in for the kernel.
func TestVMMatchesKernel(t *testing.T) {
	if runtime.GOARCH != "amd64" {
		t.Skip("the events are built for x86_64 (AUDIT_ARCH_X86_64, SYS_GETPID)")
	}
	rng := rand.New(rand.NewPCG(5, 7))
	all := []int{mEqual, mNotEqual, mLess, mLessEqual, mGreater, mGreaterEqual, mMaskedEqual}
	var progs [][]unix.SockFilter
	var events [][][6]uint64
	for range 30 {
		p := &learn.Profile{Arch: "amd64", DefaultAction: learn.Allow}
		var rules []learn.Rule
		for range 1 + rng.IntN(3) {
			var r learn.Rule
			for range 1 + rng.IntN(3) {
				// Single comparisons only: libseccomp 2.5.4 takes
				// exponential time on some NE combinations.
				r[rng.IntN(6)] = randMatcher(rng, all)
			}
			rules = append(rules, r)
		}
		if err := p.Add(learn.Syscall{Name: "getpid", Action: learn.Errno(syscall.EACCES), Rules: rules}); err != nil {
			t.Fatal(err)
		}
		prog, err := filter.Compile(p, filter.CompileOptions{})
		if err != nil {
			t.Fatal(err)
		}
		evs := crafted(p)["getpid"]
		for range 20 {
			var a [6]uint64
			for k := range a {
				a[k] = randValue(rng)
			}
			evs = append(evs, a)
		}
		progs, events = append(progs, prog), append(events, evs)
	}
	n := 0
	for i, prog := range progs {
		vm, err := filter.NewVM(prog)
		if err != nil {
			t.Fatal(err)
		}
		kernel := kernelVerdicts(t, prog, events[i])
		for j, args := range events[i] {
			if got := vmErrno(t, vm, args); got != kernel[j] {
				t.Errorf("program %d: getpid%#x: VM errno %d, kernel %d", i, args, got, kernel[j])
			}
			n++
		}
	}
	t.Logf("%d events: VM and kernel agree", n)
}

// TestLibseccompMixedOperators records a libseccomp 2.5.4 miscompilation
// the differential test found: two rules for one syscall, one testing an
// argument with NE and the other the same argument with EQ, while both
// test a second 64-bit argument. The kernel (and the VM) allow a call the
// second rule matches. Checker must report the disagreement, naming the
// call, rather than pass it.
func TestLibseccompMixedOperators(t *testing.T) {
	p := &learn.Profile{Arch: "amd64", DefaultAction: learn.Allow}
	err := p.Add(learn.Syscall{Name: "getpid", Action: learn.Errno(syscall.EACCES), Rules: []learn.Rule{
		{0: learn.NotEqual{Value: 7}, 4: learn.Equal{Value: 0}},
		{0: learn.Equal{Value: 3}, 4: learn.Equal{Value: 1 << 32}},
	}})
	if err != nil {
		t.Fatal(err)
	}
	args := [6]uint64{3, 0, 0, 0, 1 << 32, 0}
	if got := p.Verdict("getpid", args); got != learn.Errno(syscall.EACCES) {
		t.Fatalf("model: %s", got)
	}
	c, err := NewChecker(p)
	if err != nil {
		t.Fatal(err)
	}
	kernel := kernelVerdicts(t, mustCompile(t, p), [][6]uint64{args})[0]
	_, err = c.Check("getpid", args)
	if kernel == int(syscall.EACCES) {
		// libseccomp compiles it correctly (a fixed version): the
		// checker must agree.
		if err != nil {
			t.Fatalf("libseccomp is right here, yet: %v", err)
		}
		t.Logf("this libseccomp compiles the mixed NE/EQ rules correctly")
		return
	}
	if err == nil {
		t.Fatal("the kernel allows getpid(3, ..., 1<<32) against the model, and Checker did not notice")
	}
	t.Logf("libseccomp %s miscompiles mixed NE/EQ rules; Checker says: %v", libseccompVersion(), err)
	for _, want := range []string{"getpid(0x3, 0x0, 0x0, 0x0, 0x100000000, 0x0)", "the compiled filter says allow but the profile model says errno(EACCES)"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not say %q", err, want)
		}
	}
}

func mustCompile(t *testing.T, p *learn.Profile) []unix.SockFilter {
	t.Helper()
	prog, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

func libseccompVersion() string {
	major, minor, micro := seccomp.GetLibraryVersion()
	return fmt.Sprintf("%d.%d.%d", major, minor, micro)
}
