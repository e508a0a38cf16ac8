package trace

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/asm"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/trace/dispatch"
)

// floorLoops is how many read+write pairs one run of rwloop makes in
// BenchmarkRecorderFloor (2M syscalls, like dd bs=64 count=1000000).
const floorLoops = 1000000

// benchRounds is how many alternating rounds the ratio benchmarks run:
// PROFGEN_BENCH_ROUNDS, at least 5, default 7.
func benchRounds(b *testing.B) int {
	return benchEnv(b, "PROFGEN_BENCH_ROUNDS", "rounds", 7, 5)
}

// benchEnv reads a benchmark's setting from the environment variable
// name: a number of what, at least min, def when unset.
func benchEnv(b *testing.B, name, what string, def, min int) int {
	s := os.Getenv(name)
	if s == "" {
		return def
	}
	v, err := strconv.Atoi(s)
	if err != nil || v < min {
		b.Fatalf("%s=%q: want a number of %s, at least %d", name, s, what, min)
	}
	return v
}

// loopSample is one run's loop time as rwloop measures it.
type loopSample struct {
	cpu  time.Duration // the thread's CPU time: what the benchmark compares
	wall time.Duration
}

// loopTime parses the loop's own times that rwloop prints: "CPU WALL" ns.
func loopTime(b *testing.B, out []byte) loopSample {
	f := strings.Fields(string(out))
	var ns [2]int64
	for i := range ns {
		var err error
		if len(f) != 2 {
			err = fmt.Errorf("%d fields", len(f))
		} else {
			ns[i], err = strconv.ParseInt(f[i], 10, 64)
		}
		if err != nil || ns[i] <= 0 {
			b.Fatalf("rwloop printed %q, want its CPU and wall time in ns", out)
		}
	}
	return loopSample{time.Duration(ns[0]), time.Duration(ns[1])}
}

// emptySysEnter loads a raw tracepoint program that only returns 0: the
// least any sys_enter recorder can cost.
func emptySysEnter(b *testing.B) *ebpf.Program {
	prog, err := ebpf.NewProgram(&ebpf.ProgramSpec{
		Name:    "floor",
		Type:    ebpf.RawTracepoint,
		License: "GPL",
		Instructions: asm.Instructions{
			asm.Mov.Imm(asm.R0, 0),
			asm.Return(),
		},
	})
	if err != nil {
		b.Fatalf("load the empty sys_enter program: %v", err)
	}
	b.Cleanup(func() { prog.Close() })
	return prog
}

// alternate runs each of runs once per round, rounds times, the order
// rotating each round, and returns each one's samples by round.
func alternate(b *testing.B, rounds int, runs []func() loopSample) [][]loopSample {
	times := make([][]loopSample, len(runs))
	b.ResetTimer()
	for b.Loop() {
		for i := range times {
			times[i] = times[i][:0]
		}
		for r := 0; r < rounds; r++ {
			for j := range runs {
				c := (r + j) % len(runs)
				times[c] = append(times[c], runs[c]())
			}
		}
	}
	b.StopTimer()
	return times
}

// ratioStats is the median and range of one configuration's ratios.
type ratioStats struct{ med, min, max float64 }

func statsOf(v []float64) ratioStats {
	s := slices.Clone(v)
	slices.Sort(s)
	med := s[len(s)/2]
	if len(s)%2 == 0 {
		med = (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	return ratioStats{med, s[0], s[len(s)-1]}
}

func (r ratioStats) String() string {
	return fmt.Sprintf("%.3f [%.3f-%.3f]", r.med, r.min, r.max)
}

// BenchmarkRecorderFloor measures the eBPF recorder against the floor of
// its tracepoint: rwloop (floorLoops read+write pairs, timed by the loop
// itself; the ratios are of its CPU time, which leaves out the time it
// waited for a CPU on a shared machine) runs bare, under an empty raw
// tracepoint sys_enter program the benchmark attaches itself, and under
// profgen record (eBPF backend), through the shared dispatcher (the
// default, trace/dispatch) and with a program of its own; on shorter loops,
// each against a bare run
// of its own length, under the log backend and under strace (wall time:
// the tracee's CPU time leaves out its ptrace stops). The configurations
// alternate in rounds (the order rotates each round). It prints a table of
// the median and range of each configuration's ratio to its bare run and
// to the floor run of the same round, and reports the medians as floor-x,
// ebpf-x (to bare), ebpf/floor, exclusive/floor and log-x. The real
// server's rows are BenchmarkRecorderServer's.
func BenchmarkRecorderFloor(b *testing.B) {
	bin := workload.Build(b, "rwloop")
	floor := emptySysEnter(b)
	rounds := benchRounds(b)

	runN := func(loops int) loopSample {
		out, err := exec.Command(bin, strconv.Itoa(loops)).Output()
		if err != nil {
			b.Fatalf("rwloop: %v", err)
		}
		return loopTime(b, out)
	}
	// record runs rwloop under profgen record with be and checks that it
	// counted every call; a backend that may lose calls (allowLost)
	// reports them in the table instead.
	lost := map[string]uint64{}
	record := func(name string, be Backend, err error, loops int, allowLost bool) loopSample {
		if err != nil {
			b.Fatal(err)
		}
		var out bytes.Buffer
		argv := []string{bin, strconv.Itoa(loops)}
		res, err := Record(context.Background(), Options{Command: argv, Backend: be, Stdout: &out, Stderr: os.Stderr, Tool: "profgen bench"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Recording.Lost != 0 && !allowLost {
			b.Fatalf("%s: recording lost %d calls", name, res.Recording.Lost)
		}
		lost[name] += res.Recording.Lost
		for _, sc := range []string{"read", "write"} {
			if s := res.Recording.Lookup(sc); (s == nil || s.Count < uint64(loops)) && res.Recording.Lost == 0 {
				b.Fatalf("%s: recorded %s %+v, want at least %d calls", name, sc, s, loops)
			}
		}
		return loopTime(b, out.Bytes())
	}
	const (
		logLoops    = floorLoops / 10  // the log backend costs µs per call
		straceLoops = floorLoops / 100 // strace costs about 600x
	)
	type config struct {
		name  string
		loops int
		base  int  // index of the bare run of the same loop
		wall  bool // compare wall time (strace: the tracee's CPU time leaves out its stops)
		run   func() loopSample
	}
	configs := []config{
		{"bare", floorLoops, 0, false, func() loopSample { return runN(floorLoops) }},
		{"floor (empty sys_enter program)", floorLoops, 0, false, func() loopSample {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: floor})
			if err != nil {
				b.Fatalf("attach the empty program: %v", err)
			}
			defer l.Close()
			return runN(floorLoops)
		}},
		{"profgen record (eBPF)", floorLoops, 0, false, func() loopSample {
			be, err := NewEBPF(EBPFOptions{})
			return record("profgen record (eBPF)", be, err, floorLoops, false)
		}},
		{"profgen, a program of its own", floorLoops, 0, false, func() loopSample {
			be, err := NewEBPF(EBPFOptions{Exclusive: true})
			return record("profgen, a program of its own", be, err, floorLoops, false)
		}},
		{"profgen, the shared dispatcher", floorLoops, 0, false, func() loopSample {
			be, err := NewEBPF(EBPFOptions{Share: true})
			return record("profgen, the shared dispatcher", be, err, floorLoops, false)
		}},
		{"bare", logLoops, 5, false, func() loopSample { return runN(logLoops) }},
		{"profgen record --backend log", logLoops, 5, false, func() loopSample {
			be, err := NewLog(LogOptions{})
			return record("profgen record --backend log", be, err, logLoops, true)
		}},
	}
	if _, err := exec.LookPath("strace"); err == nil {
		configs = append(configs,
			config{"bare", straceLoops, len(configs), true, func() loopSample { return runN(straceLoops) }},
			config{"strace -f -c (wall time)", straceLoops, len(configs), true, func() loopSample {
				cmd := exec.Command("strace", "-f", "-c", "-o", "/dev/null", bin, strconv.Itoa(straceLoops))
				out, err := cmd.Output()
				if err != nil {
					b.Fatalf("strace: %v", err)
				}
				return loopTime(b, out)
			}})
	} else {
		fmt.Println("recorder: strace is not installed: its rows are left out")
	}
	if _, err := exec.LookPath("bpftrace"); err == nil {
		configs = append(configs, config{"bpftrace, a count per syscall", floorLoops, 0, false, func() loopSample {
			return underBpftrace(b, bin, floorLoops)
		}})
	} else {
		fmt.Println("recorder: bpftrace is not installed (make deps-bench installs it): its row is left out")
	}
	runs := make([]func() loopSample, len(configs))
	for i := range configs {
		runs[i] = configs[i].run
	}
	times := alternate(b, rounds, runs)

	cpu := func(s loopSample) time.Duration { return s.cpu }
	wall := func(s loopSample) time.Duration { return s.wall }
	ratios := func(num, den int, of func(loopSample) time.Duration) ratioStats {
		v := make([]float64, rounds)
		for r := range v {
			v[r] = float64(of(times[num][r])) / float64(of(times[den][r]))
		}
		return statsOf(v)
	}
	var tab strings.Builder
	fmt.Fprintf(&tab, "\nrecorder: rwloop N read+write pairs, %d alternating rounds; median [min-max] of per-round ratios of the loop's CPU time (wall time: last column) to the bare run of the same N and to the floor\n", rounds)
	fmt.Fprintf(&tab, "(strace: wall time; a real server: BenchmarkRecorderServer)\n")
	fmt.Fprintf(&tab, "%-32s %-8s %-22s %-22s %-22s %s\n", "configuration", "N", "cpu ms", "x bare", "x floor", "wall x bare")
	for i, c := range configs {
		of := cpu
		if c.wall {
			of = wall
		}
		ms := make([]float64, rounds)
		for r := range ms {
			ms[r] = float64(of(times[i][r])) / 1e6
		}
		msStats := statsOf(ms)
		xfloor := "-"
		switch {
		case c.loops == floorLoops:
			xfloor = ratios(i, 1, cpu).String()
		}
		name := c.name
		if n := lost[c.name]; n > 0 {
			name += fmt.Sprintf(" (lost %d)", n)
		}
		fmt.Fprintf(&tab, "%-32s %-8d %-22s %-22s %-22s %s\n", name, c.loops,
			fmt.Sprintf("%.1f [%.1f-%.1f]", msStats.med, msStats.min, msStats.max),
			ratios(i, c.base, of), xfloor, ratios(i, c.base, wall))
	}
	fmt.Print(tab.String())

	// The programs' own time per call, from the kernel's BPF statistics:
	// free of the scheduling noise of the loop times above.
	floorNs := float64(statsOfDur(times[1], cpu)) / (2 * floorLoops)
	pt := programTimes(b, bin, floor)
	xf := printProgramTimes(pt, floorNs)
	// A recording alone (the bench's) runs a program of its own by
	// default (trace/dispatch: Solo).
	alone, shared := pt.defaults()
	b.ReportMetric(xf(alone), "prog-time/floor")
	b.ReportMetric(xf(shared), "prog-time-shared/floor")
	b.ReportMetric(ratios(1, 0, cpu).med, "floor-x")
	b.ReportMetric(ratios(2, 0, cpu).med, "ebpf-x")
	b.ReportMetric(ratios(2, 1, cpu).med, "ebpf/floor")
	b.ReportMetric(ratios(3, 1, cpu).med, "exclusive/floor")
	b.ReportMetric(ratios(4, 1, cpu).med, "shared/floor")
	b.ReportMetric(ratios(6, 5, cpu).med, "log-x")
	if last := len(configs) - 1; strings.HasPrefix(configs[last].name, "bpftrace") {
		b.ReportMetric(ratios(last, 0, cpu).med, "bpftrace-x")
	}
}

// printProgramTimes prints pt against the floor's time per call of the
// loop, floorNs, and returns the conversion of a program's time to the
// loop's time as a ratio to the floor.
func printProgramTimes(pt progTimes, floorNs float64) (xf func(float64) float64) {
	xf = func(ns float64) float64 { return (floorNs + ns - pt.empty) / floorNs }
	fmt.Printf("BPF programs' own time per call (kernel.bpf_stats_enabled; median of %d runs), above the empty program (%.1f ns), and as the loop's time x floor (the floor's %.0f ns per call of the loop):\n",
		programTimeRuns, pt.empty, floorNs)
	for _, r := range []struct {
		name         string
		fast, helper float64
	}{
		{"profgen, a program of its own (alone)", pt.own, pt.helperOwn},
		{"profgen, shared dispatcher and recorder", pt.shared, pt.helperShared},
		{"dispatcher, a call it does not record", pt.idle, pt.helperIdle},
	} {
		fmt.Printf("  %-40s task from its CPU's slot %5.1f ns (+%4.1f, %.3f x floor); by the helper %5.1f ns (+%4.1f, %.3f x floor)\n",
			r.name, r.fast, r.fast-pt.empty, xf(r.fast), r.helper, r.helper-pt.empty, xf(r.helper))
	}
	fmt.Printf("  %-40s task from its CPU's slot %5.1f ns (+%4.1f, %.3f x floor)\n",
		"shared, 8 other recordings' slots first", pt.crowded, pt.crowded-pt.empty, xf(pt.crowded))
	alone, shared := pt.defaults()
	fmt.Printf("  this machine's default (the task %s): a recording alone %.3f x floor, beside another %.3f x floor\n",
		map[bool]string{true: "from its CPU's slot", false: "by the helper"}[dispatch.CurrentTasks().Fast()], xf(alone), xf(shared))
	return xf
}

// BenchmarkRecorderProgramTimes prints only the programs' own times of
// BenchmarkRecorderFloor, with the floor's time per call measured by
// PROFGEN_BENCH_ROUNDS (default 7) runs of the loop under the empty
// program (~40 s). Not in make bench.
func BenchmarkRecorderProgramTimes(b *testing.B) {
	bin := workload.Build(b, "rwloop")
	floor := emptySysEnter(b)
	var samples []loopSample
	for range benchRounds(b) {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: floor})
		if err != nil {
			b.Fatal(err)
		}
		out, err := exec.Command(bin, strconv.Itoa(floorLoops)).Output()
		l.Close()
		if err != nil {
			b.Fatalf("rwloop: %v", err)
		}
		samples = append(samples, loopTime(b, out))
	}
	floorNs := float64(statsOfDur(samples, func(s loopSample) time.Duration { return s.cpu })) / (2 * floorLoops)
	pt := programTimes(b, bin, floor)
	xf := printProgramTimes(pt, floorNs)
	alone, shared := pt.defaults()
	b.ReportMetric(xf(alone), "prog-time/floor")
	b.ReportMetric(xf(shared), "prog-time-shared/floor")
}

// bpftraceScript is what a user would type to count a program's syscalls
// per number with bpftrace.
const bpftraceScript = `tracepoint:raw_syscalls:sys_enter /comm == "rwloop"/ { @[args->id] = count(); }`

// underBpftrace runs rwloop's loop of loops pairs while bpftraceScript
// counts it, and checks bpftrace counted every read and write. bpftrace
// reads tracepoints from tracefs: where it is not mounted, bpftrace gets a
// mount of its own (a private mount namespace).
func underBpftrace(b *testing.B, bin string, loops int) loopSample {
	cmd := exec.Command("unshare", "-m", "sh", "-c",
		`mountpoint -q /sys/kernel/tracing || mount -t tracefs tracefs /sys/kernel/tracing || exit 1; exec bpftrace -e "$1"`, "sh", bpftraceScript)
	var out bytes.Buffer
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	cmd.Stdout, cmd.Stderr = pw, &out
	if err := cmd.Start(); err != nil {
		b.Fatalf("bpftrace: %v", err)
	}
	pw.Close()
	attached, done := make(chan error, 1), make(chan struct{})
	var printed bytes.Buffer
	go func() {
		defer close(done)
		buf := make([]byte, 4096)
		signalled := false
		for {
			n, err := pr.Read(buf)
			printed.Write(buf[:n])
			if !signalled && strings.Contains(printed.String(), "Attaching") {
				signalled = true
				attached <- nil
			}
			if err != nil {
				if !signalled {
					attached <- fmt.Errorf("bpftrace ended: %s", out.String())
				}
				return
			}
		}
	}()
	if err := <-attached; err != nil {
		cmd.Wait()
		<-done
		b.Fatal(err)
	}
	time.Sleep(100 * time.Millisecond) // "Attaching" comes just before the probe is
	o, err := exec.Command(bin, strconv.Itoa(loops)).Output()
	if err != nil {
		b.Fatalf("rwloop: %v", err)
	}
	cmd.Process.Signal(unix.SIGINT)
	cmd.Wait()
	<-done // bpftrace printed its counts and closed the pipe
	pr.Close()
	counts := map[string]uint64{}
	for _, line := range strings.Split(printed.String(), "\n") {
		if k, v, ok := strings.Cut(line, ": "); ok {
			n, _ := strconv.ParseUint(strings.TrimSpace(v), 10, 64)
			counts[k] = n
		}
	}
	if counts["@[0]"] < uint64(loops) || counts["@[1]"] < uint64(loops) {
		b.Fatalf("bpftrace counted read %d and write %d, want at least %d each:\n%s", counts["@[0]"], counts["@[1]"], loops, printed.String())
	}
	return loopTime(b, o)
}

// statsOfDur is the median of of(s) over samples.
func statsOfDur(samples []loopSample, of func(loopSample) time.Duration) time.Duration {
	v := make([]float64, len(samples))
	for i, x := range samples {
		v[i] = float64(of(x))
	}
	return time.Duration(statsOf(v).med)
}

// programTimeRuns is how many runs of each configuration programTimes
// takes the median of.
const programTimeRuns = 5

// progTimes is the mean time per call, in ns, of the sys_enter programs
// while rwloop runs: the empty floor program; profgen's recorder attached
// on its own; the shared dispatcher with the recorder it tail-calls; the
// dispatcher on a loop it does not record (what every other syscall of the
// machine pays). The last three twice: with the running task read from
// its CPU's current_task slot (the default here, trace/dispatch/current.go) and
// with the helper bpf_get_current_task_btf (PROFGEN_EBPF_TASK_HELPER=1).
type progTimes struct {
	empty                               float64
	own, shared, idle                   float64
	helperOwn, helperShared, helperIdle float64
	// crowded is shared with 8 other recordings' slots in use before the
	// loop's (8 recordings at once, each an empty cgroup's).
	crowded float64
}

// defaults returns the programs' own times of a recording made as this
// machine makes it by default, alone (a program of its own) and shared
// (beside another recording): the task read from the CPU's slot where the
// kernel reports returns mitigated, by the helper elsewhere
// (trace/dispatch/current.go).
func (pt progTimes) defaults() (alone, shared float64) {
	if dispatch.CurrentTasks().Fast() {
		return pt.own, pt.shared
	}
	return pt.helperOwn, pt.helperShared
}

// withTaskSlot runs f with the programs reading the task from their CPU's
// slot, whatever the CPU's mitigations make the default.
func withTaskSlot(f func()) {
	saved := dispatch.CurrentTasks
	dispatch.CurrentTasks = dispatch.SlotCurrentTasks
	defer func() { dispatch.CurrentTasks = saved }()
	f()
}

// withTaskHelper runs f with the programs finding the task by the helper.
func withTaskHelper(f func()) {
	saved := dispatch.CurrentTasks
	dispatch.CurrentTasks = func() dispatch.CurrentTask {
		return dispatch.HelperCurrentTask(errors.New("the benchmark asks for the helper"))
	}
	defer func() { dispatch.CurrentTasks = saved }()
	f()
}

// programTimes measures progTimes with the kernel's BPF run-time
// statistics on (they cost two clock reads per call, the same for every
// program, so the differences are the programs' own). Each program's
// counts include every syscall of the machine it ran for, which during
// the loop are nearly all the loop's.
func programTimes(b *testing.B, bin string, floor *ebpf.Program) progTimes {
	if !dispatch.SlotCurrentTasks().Fast() {
		b.Fatalf("the programs cannot read the task from a slot here: %v", dispatch.SlotCurrentTasks().Err())
	}
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Fatalf("enable BPF statistics: %v", err)
	}
	defer stats.Close()
	perCall := func(p *ebpf.Program, run func()) float64 {
		before, err := p.Stats()
		if err != nil {
			b.Fatal(err)
		}
		run()
		after, err := p.Stats()
		if err != nil {
			b.Fatal(err)
		}
		n := after.RunCount - before.RunCount
		if n < 2*floorLoops {
			b.Fatalf("program ran %d times for the loop's %d calls", n, 2*floorLoops)
		}
		return float64(after.Runtime-before.Runtime) / float64(n)
	}
	loop := func() {
		if err := exec.Command(bin, strconv.Itoa(floorLoops)).Run(); err != nil {
			b.Fatalf("rwloop: %v", err)
		}
	}
	record := func(be *EBPF) {
		var out bytes.Buffer
		if _, err := Record(context.Background(), Options{Command: []string{bin, strconv.Itoa(floorLoops)}, Backend: be, Stdout: &out, Stderr: os.Stderr}); err != nil {
			b.Fatal(err)
		}
	}
	own := func() float64 {
		be, err := NewEBPF(EBPFOptions{Exclusive: true})
		if err != nil {
			b.Fatal(err)
		}
		// The recorder's programs are loaded again by Prepare: read the
		// one that runs once the recording ran (its counts start at 0).
		record(be)
		st, err := be.objs.ProfgenEnter.Stats()
		be.Close()
		if err != nil || st.RunCount < 2*floorLoops {
			b.Fatalf("recorder statistics %+v, %v", st, err)
		}
		return float64(st.Runtime) / float64(st.RunCount)
	}
	// A recording of an empty cgroup holds the dispatcher, so that its
	// program can be read before and after the loop's, recorded or not.
	dispatched := func(recorded bool, others int) float64 {
		hold, release := holdDispatcher(b)
		defer release()
		for range others - 1 {
			_, release := holdDispatcher(b)
			defer release()
		}
		l, err := link.NewFromID(link.ID(hold.slot.LinkID()))
		if err != nil {
			b.Fatal(err)
		}
		info, err := l.Info()
		l.Close()
		if err != nil {
			b.Fatal(err)
		}
		dp, err := ebpf.NewProgramFromID(info.Program)
		if err != nil {
			b.Fatal(err)
		}
		defer dp.Close()
		if !recorded {
			return perCall(dp, loop)
		}
		return perCall(dp, func() {
			be, err := NewEBPF(EBPFOptions{Share: true})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			record(be)
			if be.shareErr != nil || be.solo != nil {
				b.Fatalf("the loop's recording is not shared: %v", be.shareErr)
			}
		})
	}
	var t [8][]float64
	for i := 0; i < programTimeRuns; i++ {
		t[0] = append(t[0], perCall(floor, func() {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: floor})
			if err != nil {
				b.Fatal(err)
			}
			defer l.Close()
			loop()
		}))
		withTaskSlot(func() {
			t[1] = append(t[1], own())
			t[2] = append(t[2], dispatched(true, 1))
			t[3] = append(t[3], dispatched(false, 1))
			t[7] = append(t[7], dispatched(true, 8))
		})
		withTaskHelper(func() {
			t[4] = append(t[4], own())
			t[5] = append(t[5], dispatched(true, 1))
			t[6] = append(t[6], dispatched(false, 1))
		})
	}
	med := func(i int) float64 { return statsOf(t[i]).med }
	return progTimes{med(0), med(1), med(2), med(3), med(4), med(5), med(6), med(7)}
}

// BenchmarkRecorderBreakdown splits the recorder's cost on rwloop's loop
// into its parts, each as the median of per-round ratios of the loop's
// CPU time to the floor's in the same round (PROFGEN_BENCH_ROUNDS rounds,
// default 11): the floor with the loop in a fresh cgroup (as a recording
// runs it), the loop not recorded while the shared dispatcher is attached
// for another cgroup (the check every syscall of the machine pays), and
// the loop recorded through the dispatcher and with a program of its own;
// the unrecorded and shared rows again with the task found by the helper
// (as PROFGEN_EBPF_TASK_HELPER=1). Not in make bench; docs/performance.md
// quotes it.
func BenchmarkRecorderBreakdown(b *testing.B) {
	bin := workload.Build(b, "rwloop")
	floor := emptySysEnter(b)
	rounds := benchEnv(b, "PROFGEN_BENCH_ROUNDS", "rounds", 11, 5)
	argv := []string{bin, strconv.Itoa(floorLoops)}
	loop := func(cgroupFD int) float64 {
		cmd := exec.Command(argv[0], argv[1:]...)
		if cgroupFD >= 0 {
			cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cgroupFD}
		}
		out, err := cmd.Output()
		if err != nil {
			b.Fatalf("rwloop: %v", err)
		}
		return float64(loopTime(b, out).cpu)
	}
	underFloor := func(cgroupFD int) float64 {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: floor})
		if err != nil {
			b.Fatalf("attach the empty program: %v", err)
		}
		defer l.Close()
		return loop(cgroupFD)
	}
	newCgroup := func() *Cgroup {
		cg, err := cgroup.New()
		if err != nil {
			b.Fatal(err)
		}
		return cg
	}
	recorded := func(exclusive bool) float64 {
		be, err := NewEBPF(EBPFOptions{Exclusive: exclusive, Share: !exclusive})
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		var out bytes.Buffer
		if _, err := Record(context.Background(), Options{Command: argv, Backend: be, Stdout: &out, Stderr: os.Stderr}); err != nil {
			b.Fatal(err)
		}
		return float64(loopTime(b, out.Bytes()).cpu)
	}
	configs := []struct {
		name string
		run  func() float64
	}{
		{"floor", func() float64 { return underFloor(-1) }},
		{"floor, the loop in a fresh cgroup", func() float64 {
			cg := newCgroup()
			defer cg.Close()
			return underFloor(cg.FD())
		}},
		{"dispatcher, the loop not recorded", func() float64 {
			_, release := holdDispatcher(b)
			defer release()
			return loop(-1)
		}},
		{"recorded, shared dispatcher", func() float64 { return recorded(false) }},
		{"recorded, a program of its own", func() float64 { return recorded(true) }},
		{"dispatcher, not recorded, task helper", func() (v float64) {
			withTaskHelper(func() {
				_, release := holdDispatcher(b)
				defer release()
				v = loop(-1)
			})
			return v
		}},
		{"recorded, shared, task helper", func() (v float64) {
			withTaskHelper(func() { v = recorded(false) })
			return v
		}},
	}
	ratios := make([][]float64, len(configs))
	b.ResetTimer()
	for b.Loop() {
		for r := 0; r < rounds; r++ {
			t := make([]float64, len(configs))
			for j := range configs {
				c := (r + j) % len(configs)
				t[c] = configs[c].run()
			}
			for j := range configs {
				ratios[j] = append(ratios[j], t[j]/t[0])
			}
		}
	}
	fmt.Printf("\nrecorder breakdown: rwloop %d read+write pairs, %d alternating rounds; median [min-max] of per-round ratios of the loop's CPU time to the floor\n", floorLoops, rounds)
	for j, c := range configs {
		fmt.Printf("%-36s %s\n", c.name, statsOf(ratios[j]))
	}
}

// holdDispatcher starts a recording of an empty cgroup: it holds the
// shared dispatcher attached (with one slot in use) until release.
func holdDispatcher(b *testing.B) (hold *EBPF, release func()) {
	cg, err := cgroup.New()
	if err != nil {
		b.Fatal(err)
	}
	hold, err = NewEBPF(EBPFOptions{Share: true})
	if err != nil {
		cg.Close()
		b.Fatal(err)
	}
	a, err := Attach(AttachOptions{Cgroup: cg.Path, Backend: hold, Tool: "bench"})
	if err != nil {
		hold.Close()
		cg.Close()
		b.Fatal(err)
	}
	if hold.slot == nil {
		b.Fatalf("the holding recording is not shared: %v", hold.shareErr)
	}
	return hold, func() {
		a.Finish(false)
		hold.Close()
		cg.Close()
	}
}
