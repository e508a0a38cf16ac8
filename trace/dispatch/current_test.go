package dispatch

import (
	"fmt"
	"os"
	"runtime"
	"strings"
	"syscall"
	"testing"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/testenv"
)

// requireFastCurrent returns the machine's current task addresses, failing
// the test on a kernel that should have them (x86-64, 6.10 and later).
func requireFastCurrent(t *testing.T) CurrentTask {
	t.Helper()
	c := SlotCurrentTasks()
	if !c.Fast() {
		if os.Geteuid() != 0 {
			t.Skipf("not root: %v", c.err)
		}
		if kernelAtLeast(t, 6, 10) {
			t.Fatalf("the programs use the task helper on this kernel: %v", c.err)
		}
		t.Skipf("the programs use the task helper on this kernel (before 6.10): %v", c.err)
	}
	return c
}

// kernelAtLeast reports whether the running kernel is major.minor or later.
func kernelAtLeast(t *testing.T, major, minor int) bool {
	t.Helper()
	var u unix.Utsname
	if err := unix.Uname(&u); err != nil {
		t.Fatal(err)
	}
	var a, b int
	release := unix.ByteSliceToString(u.Release[:])
	if _, err := fmt.Sscanf(release, "%d.%d", &a, &b); err != nil {
		t.Fatalf("kernel release %q: %v", release, err)
	}
	return a > major || a == major && b >= minor
}

// TestCurrentTask attaches a program that compares current_task() (the
// per-CPU slot) with the helper on every syscall of the machine while the
// test makes syscalls pinned to each CPU in turn: they must never differ.
func TestCurrentTask(t *testing.T) {
	c := requireFastCurrent(t)
	spec, err := loadPercpu()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(spec); err != nil {
		t.Fatal(err)
	}
	var objs struct {
		Check     *ebpf.Program `ebpf:"profgen_percpu_check"`
		Counts    *ebpf.Map     `ebpf:"pc_check"`
		CurrentAt *ebpf.Map     `ebpf:"current_at"`
	}
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		t.Fatal(err)
	}
	defer objs.Check.Close()
	defer objs.Counts.Close()
	defer objs.CurrentAt.Close()
	if err := c.Fill(objs.CurrentAt); err != nil {
		t.Fatal(err)
	}
	l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: objs.Check})
	if err != nil {
		t.Fatal(err)
	}
	const calls = 20000
	online := 0
	for cpu, at := range c.at {
		if at == 0 {
			continue
		}
		online++
		done := make(chan error)
		go func() {
			runtime.LockOSThread() // the thread ends with the goroutine
			var set unix.CPUSet
			set.Set(cpu)
			if err := unix.SchedSetaffinity(0, &set); err != nil {
				done <- err
				return
			}
			for range calls {
				syscall.Getppid()
			}
			done <- nil
		}()
		if err := <-done; err != nil {
			l.Close()
			t.Fatalf("CPU %d: %v", cpu, err)
		}
	}
	l.Close()
	var agree, differ []uint64
	if err := objs.Counts.Lookup(uint32(0), &agree); err != nil {
		t.Fatal(err)
	}
	if err := objs.Counts.Lookup(uint32(1), &differ); err != nil {
		t.Fatal(err)
	}
	for cpu, at := range c.at {
		if at == 0 {
			continue
		}
		if differ[cpu] != 0 {
			t.Errorf("CPU %d: current_task() and the helper differed on %d of %d calls", cpu, differ[cpu], differ[cpu]+agree[cpu])
		}
		if agree[cpu] < calls {
			t.Errorf("CPU %d: %d calls compared, want at least %d", cpu, agree[cpu], calls)
		}
	}
	if online == 0 {
		t.Fatal("no CPU has an address")
	}
}

// TestCallsCostly checks the reading of the kernel's mitigation reports:
// the lines of the AMD EPYC host the slots were measured on (Safe RET) and
// of an Intel host whose returns are not mitigated.
func TestCallsCostly(t *testing.T) {
	for _, c := range []struct {
		srso, retbleed string
		costly         bool
	}{
		{"Mitigation: Safe RET", "Not affected", true},
		{"Not affected", "Mitigation: untrained return thunk; SMT vulnerable", true},
		{"Not affected", "Mitigation: Stuffing", true},
		{"Not affected", "Vulnerable", false},
		{"Mitigation: IBPB on VMEXIT only", "Mitigation: Enhanced IBRS", false},
		{"", "", false}, // no reports (an older kernel, another architecture)
	} {
		dir := t.TempDir()
		for name, line := range map[string]string{"spec_rstack_overflow": c.srso, "retbleed": c.retbleed} {
			if line != "" {
				if err := os.WriteFile(dir+"/"+name, []byte(line+"\n"), 0o644); err != nil {
					t.Fatal(err)
				}
			}
		}
		if costly, why := callsCostly(dir); costly != c.costly || why == "" {
			t.Errorf("srso %q, retbleed %q: costly %v (%s), want %v", c.srso, c.retbleed, costly, why, c.costly)
		}
	}
}

// TestCurrentTaskChoice checks that the programs read the slot exactly
// when this machine's returns are mitigated, and PROFGEN_EBPF_TASK_HELPER=0
// reads it anyway.
func TestCurrentTaskChoice(t *testing.T) {
	requireFastCurrent(t)
	costly, why := callsCostly(vulnerabilitiesDir)
	t.Setenv(currentTaskEnv, "")
	if c := findCurrentTask(); c.Fast() != costly {
		t.Errorf("%s: the programs read the slot: %v, want %v", why, c.Fast(), costly)
	} else if !costly && !strings.Contains(c.Err().Error(), "not mitigated") {
		t.Errorf("the helper's reason: %v", c.Err())
	}
	t.Setenv(currentTaskEnv, "0")
	if c := findCurrentTask(); !c.Fast() {
		t.Errorf("%s=0: the helper (%v)", currentTaskEnv, c.Err())
	}
}

// TestCurrentTaskHelperEnv checks that PROFGEN_EBPF_TASK_HELPER=1 keeps
// the helper on every CPU.
func TestCurrentTaskHelperEnv(t *testing.T) {
	t.Setenv(currentTaskEnv, "1")
	c := findCurrentTask()
	if c.Fast() || !strings.Contains(c.err.Error(), currentTaskEnv) {
		t.Fatalf("findCurrentTask with %s=1: %+v", currentTaskEnv, c)
	}
	spec, err := loadPercpu()
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Configure(spec); err != nil {
		t.Fatal(err)
	}
	if spec.Maps["current_at"].MaxEntries != 1 {
		t.Errorf("current_at sized %d without addresses", spec.Maps["current_at"].MaxEntries)
	}
	var fast uint32
	if err := spec.Variables["current_fast"].Get(&fast); err != nil || fast != 0 {
		t.Errorf("current_fast = %d, %v; want 0", fast, err)
	}
}

func TestInlinedCPUNumber(t *testing.T) {
	inlined := asm.Instructions{
		asm.Mov.Imm(asm.R0, -2085568460),
		{OpCode: asm.Mov.Op(asm.RegSource), Dst: asm.R0, Src: asm.R0, Offset: bpfAddrPercpu},
		asm.LoadMem(asm.R0, asm.R0, 0, asm.Word),
		asm.Return(),
	}
	if addr, ok := inlinedCPUNumber(inlined); !ok || addr != 0xffffffff83b0c034 {
		t.Errorf("inlined: %#x, %v", addr, ok)
	}
	plainMove := append(asm.Instructions{}, inlined...)
	plainMove[1].Offset = 0
	for name, insns := range map[string]asm.Instructions{
		"a call":          {asm.FnGetSmpProcessorId.Call(), asm.Return()},
		"no per-CPU move": plainMove,
		"too short":       inlined[:2],
		"zero address":    {asm.Mov.Imm(asm.R0, 0), inlined[1], inlined[2]},
	} {
		if addr, ok := inlinedCPUNumber(insns); ok {
			t.Errorf("%s: %#x, want none", name, addr)
		}
	}
}

func TestPercpuOffsets(t *testing.T) {
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		testenv.EBPFUnsupported(t, err)
	}
	off, err := percpuOffsets(kernel, "cpu_number", "current_task")
	if err != nil {
		t.Fatal(err)
	}
	if off[0] == off[1] {
		t.Errorf("cpu_number and current_task at the same offset %d", off[0])
	}
	if _, err := percpuOffsets(kernel, "no_such_percpu_variable"); err == nil || !strings.Contains(err.Error(), "no_such_percpu_variable") {
		t.Errorf("a missing variable: %v", err)
	}
}
