package replay

import (
	"bytes"
	"encoding/binary"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/testenv"
	workloads "github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/learn"
)

// argLoops is how many futex+fcntl pairs one run of the argument-rule
// benchmark makes.
const argLoops = 500000

// writeFilter writes prog as raw struct sock_filter, native byte order.
func writeFilter(b *testing.B, prog []unix.SockFilter) string {
	var buf bytes.Buffer
	if err := binary.Write(&buf, binary.NativeEndian, prog); err != nil {
		b.Fatal(err)
	}
	path := filepath.Join(b.TempDir(), "filter.bpf")
	if err := os.WriteFile(path, buf.Bytes(), 0o644); err != nil {
		b.Fatal(err)
	}
	return path
}

// BenchmarkArgumentRules measures what argument rules cost under
// uncachedAllow is the shortest filter the kernel's action cache cannot
// decide: it loads an argument, then allows every call. What it costs
// above allow-all is what running any filter costs a call, whatever the
// filter's length: the floor under a filter with argument rules.
func uncachedAllow(b *testing.B, arch uint32, nr int32) []unix.SockFilter {
	prog := []unix.SockFilter{
		{Code: unix.BPF_LD | unix.BPF_W | unix.BPF_ABS, K: 16}, // args[0], low half
		{Code: unix.BPF_RET | unix.BPF_K, K: unix.SECCOMP_RET_ALLOW},
	}
	if filter.CacheAllows(prog, arch, nr) {
		b.Fatal("the cache emulation takes a filter that loads an argument for constant")
	}
	return prog
}

// enforcement: rwloop's futex(FUTEX_WAKE_PRIVATE)+fcntl(F_GETFD) loop,
// recorded and learned (so futex's op and fcntl's cmd are pinned), runs
// under an allow-all filter (the baseline: any filter's fixed costs), an
// allow-all filter the cache cannot decide (uncachedAllow), the learned
// profile by names only, as libseccomp compiles it (Compile) and
// hot-first (CompileHot), in alternating rounds. It prints the median and
// range of the loop's CPU time ratios to allow-all, and reports the
// medians as plain-x and hot-x.
func BenchmarkArgumentRules(b *testing.B) {
	bin := workloads.Build(b, "rwloop")
	rec := recordLoop(b, bin, "futex")
	p, err := learn.FromRecording(rec, learn.Options{})
	if err != nil {
		b.Fatal(err)
	}
	for _, name := range []string{"futex", "fcntl"} {
		if s := p.Lookup(name); s == nil || len(s.Rules) == 0 {
			b.Fatalf("the learned profile does not pin %s's arguments: %+v", name, s)
		}
	}
	names := *p
	names.Syscalls = slices.Clone(p.Syscalls)
	for i := range names.Syscalls {
		names.Syscalls[i].Rules = nil
	}
	compile := func(p *learn.Profile) string {
		prog, err := filter.Compile(p, filter.CompileOptions{})
		if err != nil {
			b.Fatal(err)
		}
		return writeFilter(b, prog)
	}
	hot, err := filter.CompileHot(p, p.Counts(), filter.CompileOptions{})
	if err != nil {
		b.Fatal(err)
	}
	audit, err := p.Arch.Audit()
	if err != nil {
		b.Fatal(err)
	}
	configs := []struct{ name, filter string }{
		{"allow-all filter", compile(&learn.Profile{Arch: p.Arch, DefaultAction: learn.Allow})},
		{"allow-all, not cacheable (any run)", writeFilter(b, uncachedAllow(b, audit, int32(testenv.SyscallNumber(b, "futex"))))},
		{"learned, names only", compile(&names)},
		{"learned, libseccomp (Compile)", compile(p)},
		{"learned, hot-first (CompileHot)", writeFilter(b, hot)},
	}
	rounds := 7
	if s := os.Getenv("PROFGEN_BENCH_ROUNDS"); s != "" {
		if rounds, err = strconv.Atoi(s); err != nil || rounds < 5 {
			b.Fatalf("PROFGEN_BENCH_ROUNDS=%q: want a number of rounds, at least 5", s)
		}
	}
	cpu := make([][]float64, len(configs))
	b.ResetTimer()
	for b.Loop() {
		for i := range cpu {
			cpu[i] = cpu[i][:0]
		}
		for r := 0; r < rounds; r++ {
			for j := range configs {
				c := (r + j) % len(configs)
				o, err := exec.Command(bin, strconv.Itoa(argLoops), "futex", configs[c].filter).Output()
				if err != nil {
					b.Fatalf("%s: rwloop: %v", configs[c].name, err)
				}
				f := strings.Fields(string(o))
				ns, err := strconv.ParseFloat(f[0], 64)
				if err != nil || ns <= 0 {
					b.Fatalf("rwloop printed %q", o)
				}
				cpu[c] = append(cpu[c], ns)
			}
		}
	}
	b.StopTimer()
	ratio := func(i int) (med, lo, hi float64) {
		v := make([]float64, rounds)
		for r := range v {
			v[r] = cpu[i][r] / cpu[0][r]
		}
		slices.Sort(v)
		med = v[len(v)/2]
		if len(v)%2 == 0 {
			med = (v[len(v)/2-1] + v[len(v)/2]) / 2
		}
		return med, v[0], v[len(v)-1]
	}
	fmt.Printf("\nenforcement: rwloop %d futex(FUTEX_WAKE_PRIVATE)+fcntl(F_GETFD) pairs, %d alternating rounds; median [min-max] of per-round ratios of the loop's CPU time to allow-all\n", argLoops, rounds)
	for i, c := range configs {
		med, lo, hi := ratio(i)
		fmt.Printf("%-34s %.3f [%.3f-%.3f]\n", c.name, med, lo, hi)
	}
	plain, _, _ := ratio(3)
	hotx, _, _ := ratio(4)
	floor, _, _ := ratio(1)
	b.ReportMetric(floor, "uncached-x")
	b.ReportMetric(plain, "plain-x")
	b.ReportMetric(hotx, "hot-x")
}
