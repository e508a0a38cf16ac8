package trace

import (
	"context"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/workload"
)

// benchCalls is how many getppid calls one run of the manycalls workload
// makes in the benchmarks.
const benchCalls = 200000

// BenchmarkRecordOverhead measures what recording costs the target: each
// iteration runs the manycalls workload (benchCalls getppid calls) bare,
// under the eBPF backend and under the log backend, and reports the time
// per syscall of each and the slowdown against the bare run of the same
// iteration (ebpf-x, log-x). Set-up (loading BPF, opening audit, making
// the cgroup) is included: it is what a user waits for.
func BenchmarkRecordOverhead(b *testing.B) {
	bin := workload.Build(b, "manycalls")
	argv := []string{bin, strconv.Itoa(benchCalls)}
	var bare, ebpf, logb time.Duration
	record := func(newBackend func() (Backend, error)) time.Duration {
		be, err := newBackend()
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		start := time.Now()
		res, err := Record(context.Background(), Options{Command: argv, Backend: be})
		d := time.Since(start)
		if err != nil {
			b.Fatal(err)
		}
		if s := res.Recording.Lookup("getppid"); s == nil || s.Count != benchCalls {
			b.Fatalf("recorded getppid %+v, want %d calls", s, benchCalls)
		}
		return d
	}
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		start := time.Now()
		if err := exec.Command(argv[0], argv[1:]...).Run(); err != nil {
			b.Fatal(err)
		}
		bare += time.Since(start)
		ebpf += record(func() (Backend, error) { return NewEBPF(EBPFOptions{}) })
		logb += record(func() (Backend, error) { return NewLog(LogOptions{}) })
	}
	calls := float64(b.N) * benchCalls
	b.ReportMetric(float64(bare.Nanoseconds())/calls, "bare-ns/call")
	b.ReportMetric(float64(ebpf.Nanoseconds())/calls, "ebpf-ns/call")
	b.ReportMetric(float64(logb.Nanoseconds())/calls, "log-ns/call")
	b.ReportMetric(float64(ebpf)/float64(bare), "ebpf-x")
	b.ReportMetric(float64(logb)/float64(bare), "log-x")
}
