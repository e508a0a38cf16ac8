package replay

import (
	"bytes"
	"context"
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	dockerseccomp "github.com/moby/profiles/seccomp"
	specs "github.com/opencontainers/runtime-spec/specs-go"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/runc"
	"github.com/profgen/profgen/internal/seccomp"
	"github.com/profgen/profgen/internal/testenv"
	workloads "github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
	"github.com/profgen/profgen/trace"
)

// runcLoops is how many pairs of calls one run of a loop makes in
// BenchmarkEnforcementRunc.
const runcLoops = 500000

// benchRounds is PROFGEN_BENCH_ROUNDS (default 7, at least 5).
func benchRounds(b *testing.B) int {
	rounds := 7
	if s := os.Getenv("PROFGEN_BENCH_ROUNDS"); s != "" {
		var err error
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 5 {
			b.Fatalf("PROFGEN_BENCH_ROUNDS=%q: want a number of rounds, at least 5", s)
		}
	}
	return rounds
}

// median returns the median of v (sorted in place), its minimum and its
// maximum.
func median(v []float64) (med, lo, hi float64) {
	slices.Sort(v)
	med = v[len(v)/2]
	if len(v)%2 == 0 {
		med = (v[len(v)/2-1] + v[len(v)/2]) / 2
	}
	return med, v[0], v[len(v)-1]
}

// recordLoop records rwloop's loop in mode (rw or futex) with the eBPF
// backend, closed before it returns.
func recordLoop(b *testing.B, bin, mode string) *recording.Recording {
	be, err := trace.NewEBPF(trace.EBPFOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	var out bytes.Buffer
	res, err := trace.Record(context.Background(), trace.Options{Command: []string{bin, "1000", mode}, Backend: be,
		Stdout: &out, Stderr: os.Stderr, Tool: "profgen bench"})
	if err != nil {
		b.Fatalf("record rwloop %s: %v", mode, err)
	}
	return res.Recording
}

// runcLoadedFilter returns the filter runc loads for doc: rwloop waits
// in a container (noNewPrivileges, as the benchmark's) while its filter
// is read back.
func runcLoadedFilter(b *testing.B, bin, dir string, doc *specs.LinuxSeccomp) []unix.SockFilter {
	bu, err := runc.NewBundle(dir, runc.BundleOptions{Args: []string{bin, "1", "wait"}, Seccomp: doc, NoNewPrivileges: true})
	if err != nil {
		b.Fatal(err)
	}
	pr, pw, err := os.Pipe()
	if err != nil {
		b.Fatal(err)
	}
	defer pr.Close()
	var errb bytes.Buffer
	c, err := runc.Start(bu, runc.NewID("profgen-bench"), runc.Options{Stdio: runc.Stdio{Stdin: pr, Stderr: &errb}})
	if err != nil {
		b.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	pid, err := c.WaitExec(ctx, bin)
	var prog []unix.SockFilter
	if err == nil {
		prog, err = seccomp.GetFilter(pid, 0)
	}
	pw.Close() // rwloop reads its end and exits
	if code, werr := c.Wait(ctx); err == nil && (werr != nil || code != 0) {
		err = fmt.Errorf("rwloop wait in runc: exit %d, %v: %s", code, werr, errb.String())
	}
	if err != nil {
		b.Fatal(err)
	}
	return prog
}

// BenchmarkEnforcementRunc is the enforcement table under runc (issue 12,
// table 2). rwloop's two loops, the cacheable read/write loop and the
// futex(FUTEX_WAKE_PRIVATE)+fcntl(F_GETFD) loop whose arguments the
// learned profile pins, each timed by the loop itself (its thread's CPU
// time), run in a runc container under: no filter; an allow-all profile;
// Docker's default profile (github.com/moby/profiles/seccomp, for the
// bundle's capabilities); the profile profgen learns for both loops (with
// runc's own syscalls), by names only; and as emitted. runc compiles those
// OCI documents with its own libseccomp, so profgen's hot-first order
// (filter.CompileHot: syscall priorities, which OCI JSON cannot carry)
// cannot reach them; it is measured with the filter loaded by rwloop
// itself inside a container that runc starts with no filter, next to an
// allow-all filter and libseccomp's default program (filter.Compile) of
// the same profile loaded the same way. Configurations alternate within
// each round; the table gives the median [min-max] of per-round ratios to
// the round's run with no filter and to the allow-all run of the same
// loader, and the filters' instructions per recorded call in the VM
// (Cost): for the runc rows, of the program runc really loaded, read back
// from the container (runcLoadedFilter).
func BenchmarkEnforcementRunc(b *testing.B) {
	if _, err := runc.Look(); err != nil {
		b.Skipf("runc is not installed: %v", err)
	}
	bin := workloads.Build(b, "rwloop")
	recs := map[string]*recording.Recording{"rw": recordLoop(b, bin, "rw"), "futex": recordLoop(b, bin, "futex")}
	var ps []*learn.Profile
	for _, mode := range []string{"rw", "futex"} {
		p, err := learn.FromRecording(recs[mode], learn.Options{Runtime: learn.LoaderRunc})
		if err != nil {
			b.Fatal(err)
		}
		ps = append(ps, p)
	}
	p, err := learn.Merge(ps...)
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"futex", "fcntl"} {
		if s := p.Lookup(name); s == nil || len(s.Rules) == 0 {
			b.Fatalf("the learned profile does not pin %s's arguments: %+v", name, s)
		}
	}
	names := p.Copy()
	for i := range names.Syscalls {
		names.Syscalls[i].Rules = nil
	}
	allowAll := &learn.Profile{Arch: p.Arch, DefaultAction: learn.Allow}
	oci := func(p *learn.Profile) *specs.LinuxSeccomp {
		doc, err := emit.OCI(p, emit.OCIOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return doc
	}
	caps := []string{"CAP_AUDIT_WRITE", "CAP_KILL", "CAP_NET_BIND_SERVICE"} // what runc.NewBundle grants
	docker, err := dockerseccomp.GetDefaultProfile(&specs.Spec{Process: &specs.Process{Capabilities: &specs.LinuxCapabilities{
		Bounding: caps, Effective: caps, Permitted: caps}}})
	if err != nil {
		b.Fatal(err)
	}
	plain, err := filter.Compile(p, filter.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	hot, err := filter.CompileHot(p, p.Counts(), filter.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	allowProg, err := filter.Compile(allowAll, filter.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	audit, err := p.Arch.Audit()
	if err != nil {
		b.Fatal(err)
	}
	uncached := uncachedAllow(b, audit, int32(testenv.SyscallNumber(b, "futex")))
	type config struct {
		name   string
		doc    *specs.LinuxSeccomp // loaded by runc
		prog   []unix.SockFilter   // loaded by rwloop
		loaded []unix.SockFilter   // what runc loaded for doc (PTRACE_SECCOMP_GET_FILTER)
		base   int                 // the allow-all config of the same loader
		bundle map[string]*runc.Bundle
	}
	configs := []*config{
		{name: "runc, no filter"},
		{name: "runc: allow-all profile", doc: oci(allowAll), base: 1},
		{name: "runc: Docker's default profile", doc: docker, base: 1},
		{name: "runc: profgen, names only", doc: oci(names), base: 1},
		{name: "runc: profgen as emitted", doc: oci(p), base: 1},
		{name: "loaded: allow-all filter", prog: allowProg, base: 5},
		{name: "loaded: profgen, libseccomp default", prog: plain, base: 5},
		{name: "loaded: profgen optimised (hot-first)", prog: hot, base: 5},
		{name: "loaded: allow-all, not cacheable", prog: uncached, base: 5},
	}
	dir := b.TempDir()
	for i, c := range configs {
		c.bundle = map[string]*runc.Bundle{}
		for _, mode := range []string{"rw", "futex"} {
			args := []string{bin, strconv.Itoa(runcLoops), mode}
			var binds []runc.Bind
			if c.prog != nil {
				path := writeFilter(b, c.prog)
				args = append(args, path)
				binds = append(binds, runc.Bind{Source: path, Destination: path})
			}
			bu, err := runc.NewBundle(filepath.Join(dir, fmt.Sprintf("%d-%s", i, mode)), runc.BundleOptions{
				Args: args, Binds: binds, Seccomp: c.doc, NoNewPrivileges: true})
			if err != nil {
				b.Fatal(err)
			}
			c.bundle[mode] = bu
		}
	}
	// The program runc really loads for each profile, read back from
	// rwloop waiting in a container: for the VM's instruction counts.
	for i, c := range configs {
		if c.doc != nil {
			c.loaded = runcLoadedFilter(b, bin, filepath.Join(dir, fmt.Sprintf("%d-wait", i)), c.doc)
		}
	}
	rounds := benchRounds(b)
	cpu := map[string][][]float64{}
	run := func(c *config, mode string) float64 {
		var out, errb bytes.Buffer
		code, err := runc.Run(context.Background(), c.bundle[mode], runc.NewID("profgen-bench"), runc.Stdio{Stdout: &out, Stderr: &errb})
		if err != nil || code != 0 {
			b.Fatalf("%s: rwloop %s in runc: exit %d, %v: %s", c.name, mode, code, err, errb.String())
		}
		f := strings.Fields(out.String())
		if len(f) != 2 {
			b.Fatalf("%s: rwloop %s printed %q", c.name, mode, out.String())
		}
		ns, err := strconv.ParseFloat(f[0], 64)
		if err != nil || ns <= 0 {
			b.Fatalf("%s: rwloop %s printed %q", c.name, mode, out.String())
		}
		return ns
	}
	b.ResetTimer()
	for b.Loop() {
		for _, mode := range []string{"rw", "futex"} {
			cpu[mode] = make([][]float64, len(configs))
		}
		for r := 0; r < rounds; r++ {
			for _, mode := range []string{"rw", "futex"} {
				for j := range configs {
					c := (r + j) % len(configs)
					cpu[mode][c] = append(cpu[mode][c], run(configs[c], mode))
				}
			}
		}
	}
	b.StopTimer()
	cost := func(prog []unix.SockFilter, mode string) string {
		if prog == nil {
			return "-"
		}
		c, err := filter.Cost(prog, audit, recs[mode])
		if err != nil {
			b.Fatal(err)
		}
		return fmt.Sprintf("%.2f (%.2f)", c.Uncached, c.Steps)
	}
	ratio := func(mode string, i, base int) (med, lo, hi float64) {
		v := make([]float64, rounds)
		for r := range v {
			v[r] = cpu[mode][i][r] / cpu[mode][base][r]
		}
		return median(v)
	}
	loops := map[string]string{"rw": "read+write (cacheable)", "futex": "futex(FUTEX_WAKE_PRIVATE)+fcntl(F_GETFD)"}
	fmt.Printf("\nenforcement under runc 1.x: rwloop %d pairs a run, %d alternating rounds; median [min-max] of per-round ratios of the loop's CPU time\n", runcLoops, rounds)
	fmt.Printf("(runc: the profile in config.json, compiled by runc's libseccomp; loaded: no profile in config.json, rwloop loads the filter itself before its loop)\n")
	for _, mode := range []string{"rw", "futex"} {
		fmt.Printf("%s loop\n%-40s %-10s %-22s %-22s %s\n", loops[mode], "configuration", "cpu ms", "x no filter", "x allow-all", "VM instructions/call, cache-allowed as 0 (all)")
		for i, c := range configs {
			ms := slices.Clone(cpu[mode][i])
			m, _, _ := median(ms)
			nf, nlo, nhi := ratio(mode, i, 0)
			aa := "-"
			if i != 0 {
				a, alo, ahi := ratio(mode, i, c.base)
				aa = fmt.Sprintf("%.3f [%.3f-%.3f]", a, alo, ahi)
			}
			prog := c.prog
			if prog == nil {
				prog = c.loaded
			}
			fmt.Printf("%-40s %-10.1f %-22s %-22s %s\n", c.name, m/1e6, fmt.Sprintf("%.3f [%.3f-%.3f]", nf, nlo, nhi), aa, cost(prog, mode))
		}
		emitted, _, _ := ratio(mode, 4, 1)
		optimised, _, _ := ratio(mode, 7, 5)
		b.ReportMetric(emitted, mode+"-emitted-x")
		b.ReportMetric(optimised, mode+"-optimised-x")
	}
}
