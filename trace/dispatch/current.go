package dispatch

import (
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/btf"
	"golang.org/x/sys/unix"
)

// currentTaskEnv, set to 1, makes the programs find the running task with
// the helper bpf_get_current_task_btf on every CPU (the benchmarks compare
// both; a way out should a kernel ever disagree with the check below); set
// to 0, with the per-CPU slot wherever it was found and checked, whatever
// callsCostly says.
const currentTaskEnv = "PROFGEN_EBPF_TASK_HELPER"

// CurrentTask is how the programs find the task running on a CPU
// (current_task in trace/bpf/kernel.h): at[cpu] is the address of that
// CPU's current_task, found and checked by findCurrentTask, 0 for a CPU
// that uses the helper; err says why every CPU uses it.
type CurrentTask struct {
	at  []uint64
	err error
}

// CurrentTasks is findCurrentTask's answer, found once a process: the
// addresses do not change while the machine runs. A variable for the
// benchmarks, which replace it.
var CurrentTasks = sync.OnceValue(findCurrentTask)

// SlotCurrentTasks is every CPU's current_task slot that could be found
// and checked, whatever callsCostly says (the tests of the slots, and the
// benchmarks that compare both ways).
var SlotCurrentTasks = sync.OnceValue(func() CurrentTask {
	at, err := currentTaskAddrs()
	if err != nil {
		return CurrentTask{err: err}
	}
	return CurrentTask{at: at}
})

// HelperCurrentTask is a CurrentTask that makes every CPU use the helper,
// for why.
func HelperCurrentTask(why error) CurrentTask { return CurrentTask{err: why} }

// Err says why every CPU uses the helper; nil when Fast.
func (c CurrentTask) Err() error { return c.err }

// Fast reports whether at least one CPU reads current_task directly.
func (c CurrentTask) Fast() bool { return c.err == nil }

// Configure sets current_fast and the size of current_at in a spec whose
// programs include kernel.h.
func (c CurrentTask) Configure(spec *ebpf.CollectionSpec) error {
	if !c.Fast() {
		return nil
	}
	spec.Maps["current_at"].MaxEntries = uint32(len(c.at))
	if err := spec.Variables["current_fast"].Set(uint32(1)); err != nil {
		return fmt.Errorf("set current_fast: %w", err)
	}
	return nil
}

// Fill writes the addresses into a loaded current_at.
func (c CurrentTask) Fill(m *ebpf.Map) error {
	if !c.Fast() {
		return nil
	}
	keys := make([]uint32, len(c.at))
	for i := range keys {
		keys[i] = uint32(i)
	}
	if _, err := m.BatchUpdate(keys, c.at, nil); err != nil {
		for i, at := range c.at { // BatchUpdate needs 5.6
			if err := m.Put(uint32(i), at); err != nil {
				return fmt.Errorf("fill current_at: %w", err)
			}
		}
	}
	return nil
}

// findCurrentTask finds the address of every online CPU's current_task
// and checks each on its CPU against the helper (trace/bpf/percpu.c says
// how), on a CPU whose returns are mitigated (callsCostly). Any step the
// kernel does not allow leaves the helper in use, which is always correct,
// only slower.
func findCurrentTask() CurrentTask {
	switch os.Getenv(currentTaskEnv) {
	case "1":
		return CurrentTask{err: fmt.Errorf("%s=1 is set", currentTaskEnv)}
	case "0":
	default:
		if costly, why := callsCostly(vulnerabilitiesDir); !costly {
			return CurrentTask{err: errors.New(why)}
		}
	}
	return SlotCurrentTasks()
}

// vulnerabilitiesDir is where the kernel reports the CPU's mitigations.
const vulnerabilitiesDir = "/sys/devices/system/cpu/vulnerabilities"

// callsCostly reports whether the kernel mitigates the CPU's returns, so
// that the helper's call and return cost more than reading the slot, and
// says why. Reading the slot is a chain of dependent loads (the CPU
// number, the map, the slot, the task): on an AMD EPYC with Safe RET the
// helper cost ~20 ns a call more than that chain, on an Intel Xeon whose
// returns are not mitigated ~6 ns less (docs/performance.md). The
// mitigations that send every kernel return through a thunk: SRSO's Safe
// RET (spec_rstack_overflow), Retbleed's untrained return thunk and call
// depth tracking (retbleed: "Stuffing"). A file that cannot be read counts
// as not mitigated there.
func callsCostly(dir string) (bool, string) {
	var seen []string
	for _, f := range []struct{ name, mitigated string }{
		{"spec_rstack_overflow", "Mitigation: Safe RET"},
		{"retbleed", "Mitigation: untrained return thunk"},
		{"retbleed", "Mitigation: Stuffing"},
	} {
		b, err := os.ReadFile(filepath.Join(dir, f.name))
		if err != nil {
			continue
		}
		line := strings.TrimSpace(string(b))
		if strings.HasPrefix(line, f.mitigated) {
			return true, f.name + ": " + line
		}
		if !slices.Contains(seen, f.name+": "+line) {
			seen = append(seen, f.name+": "+line)
		}
	}
	return false, fmt.Sprintf("the CPU's returns are not mitigated (%s): the helper's call costs less than the slot's loads", strings.Join(seen, "; "))
}

func currentTaskAddrs() ([]uint64, error) {
	variable, err := currentTaskVar()
	if err != nil {
		return nil, err
	}
	ncpu, err := ebpf.PossibleCPU()
	if err != nil {
		return nil, err
	}
	spec, err := loadPercpu()
	if err != nil {
		return nil, err
	}
	if err := spec.Variables[percpuVarCurrentTaskVar].Set(variable); err != nil {
		return nil, err
	}
	var objs struct {
		Probe *ebpf.Program `ebpf:"profgen_percpu_probe"`
		Found *ebpf.Map     `ebpf:"pc_found"`
	}
	if err := spec.LoadAndAssign(&objs, nil); err != nil {
		return nil, fmt.Errorf("load the per-CPU probe: %w", err)
	}
	defer objs.Probe.Close()
	defer objs.Found.Close()
	for cpu := range ncpu {
		// An offline CPU cannot run it (ENXIO): it keeps the helper.
		_, _ = objs.Probe.Run(&ebpf.RunOptions{Context: make([]byte, 8), Flags: unix.BPF_F_TEST_RUN_ON_CPU, CPU: uint32(cpu)})
	}
	found := make([]percpuPcFound, ncpu)
	if err := objs.Found.Lookup(uint32(0), found); err != nil {
		return nil, fmt.Errorf("read the per-CPU probe: %w", err)
	}
	at := make([]uint64, ncpu)
	checked := 0
	for cpu, f := range found {
		if f.Cpu == uint64(cpu)+1 && f.Task != 0 && f.SlotTask == f.Task {
			at[cpu] = f.At
			checked++
		}
	}
	if checked == 0 {
		return nil, errors.New("no CPU's current_task was where it was looked for")
	}
	return at, nil
}

// currentTaskVar returns the address of the per-CPU variable current_task
// in the kernel image (before a CPU's offset is added). kallsyms lists no
// data symbols without CONFIG_KALLSYMS_ALL, so it is found from another
// per-CPU variable whose address the verifier shows: its inlined
// bpf_get_smp_processor_id (x86-64, 6.10 and later) loads cpu_number's
// address as an immediate, then adds the CPU's offset. The two variables'
// offsets in the kernel BTF's .data..percpu section give the rest.
func currentTaskVar() (uint64, error) {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Type:         ebpf.RawTracepoint,
		License:      "Dual MIT/GPL",
		Instructions: asm.Instructions{asm.FnGetSmpProcessorId.Call(), asm.Return()},
	})
	if err != nil {
		return 0, fmt.Errorf("load a program: %w", err)
	}
	defer prog.Close()
	info, err := prog.Info()
	if err != nil {
		return 0, err
	}
	insns, err := info.Instructions()
	if err != nil {
		return 0, fmt.Errorf("read a program's instructions: %w", err)
	}
	cpuNumber, ok := inlinedCPUNumber(insns)
	if !ok {
		return 0, errors.New("the kernel does not inline bpf_get_smp_processor_id with a per-CPU address")
	}
	kernel, err := btf.LoadKernelSpec()
	if err != nil {
		return 0, err
	}
	offsets, err := percpuOffsets(kernel, "cpu_number", "current_task")
	if err != nil {
		return 0, err
	}
	return cpuNumber - offsets[0] + offsets[1], nil
}

// bpfAddrPercpu is the offset field of the verifier's internal per-CPU
// move (BPF_ADDR_PERCPU): dst = src + this CPU's per-CPU offset.
const bpfAddrPercpu = -1

// inlinedCPUNumber returns cpu_number's address from the translated
// instructions of {call bpf_get_smp_processor_id; exit}: r0 = address
// (32-bit immediate, sign-extended), r0 = per-CPU(r0), r0 = *(u32 *)r0.
func inlinedCPUNumber(insns asm.Instructions) (uint64, bool) {
	if len(insns) < 3 {
		return 0, false
	}
	mov, pcpu, load := insns[0], insns[1], insns[2]
	if mov.OpCode != asm.Mov.Op(asm.ImmSource) || mov.Dst != asm.R0 ||
		pcpu.OpCode != asm.Mov.Op(asm.RegSource) || pcpu.Dst != asm.R0 || pcpu.Src != asm.R0 || pcpu.Offset != bpfAddrPercpu ||
		load.OpCode != asm.LoadMemOp(asm.Word) || load.Dst != asm.R0 || load.Src != asm.R0 || load.Offset != 0 {
		return 0, false
	}
	addr := uint64(int64(int32(mov.Constant)))
	return addr, addr != 0
}

// percpuOffsets returns the offsets of the named variables in the
// kernel BTF's .data..percpu section.
func percpuOffsets(kernel *btf.Spec, names ...string) ([]uint64, error) {
	var sec *btf.Datasec
	if err := kernel.TypeByName(".data..percpu", &sec); err != nil {
		return nil, fmt.Errorf("kernel BTF: .data..percpu: %w", err)
	}
	offsets := make([]uint64, len(names))
	for i, name := range names {
		found := false
		for _, v := range sec.Vars {
			if v.Type.TypeName() == name {
				offsets[i], found = uint64(v.Offset), true
				break
			}
		}
		if !found {
			return nil, fmt.Errorf("kernel BTF: no per-CPU variable %s", name)
		}
	}
	return offsets, nil
}
