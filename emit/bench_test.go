package emit_test

import (
	"context"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/trace"
)

// BenchmarkEnforcement measures what a learned profile costs the workload
// once enforced, against a bare run measured in the same iteration: the
// manycalls workload makes benchCalls fcntl(0, F_GETFD) calls under a
// launcher built from the profile's C output, with the argument pinned
// (--args shapes: the kernel must load and compare the argument, which
// also takes fcntl off its constant-action cache) and names only
// (--args none). Reported: ns per call of each, and the slowdowns
// names-x and shapes-x.
func BenchmarkEnforcement(b *testing.B) {
	const benchCalls = 200000
	bin := workload.Build(b, "manycalls")
	argv := []string{bin, strconv.Itoa(benchCalls), "fcntl"}

	backend, err := trace.NewEBPF(trace.EBPFOptions{})
	if err != nil {
		b.Fatal(err)
	}
	defer backend.Close()
	res, err := trace.Record(context.Background(), trace.Options{Command: argv, Backend: backend})
	if err != nil {
		b.Fatal(err)
	}
	dir := b.TempDir()
	launcher := func(args learn.ArgsMode) string {
		p, err := learn.FromRecording(res.Recording, learn.Options{Args: args, Runtime: learn.LoaderNone})
		if err != nil {
			b.Fatal(err)
		}
		if args == learn.ArgsShapes && len(p.Lookup("fcntl").Rules) == 0 {
			b.Fatal("fcntl is not pinned in the learned profile")
		}
		src := filepath.Join(dir, string(args)+".c")
		f, err := os.Create(src)
		if err != nil {
			b.Fatal(err)
		}
		if err := emit.WriteC(f, p, emit.Options{Version: "bench"}); err != nil {
			b.Fatal(err)
		}
		f.Close()
		out := filepath.Join(dir, string(args))
		if msg, err := exec.Command("cc", "-O2", "-DPROFGEN_MAIN", "-o", out, src, "-lseccomp").CombinedOutput(); err != nil {
			b.Fatalf("cc: %v\n%s", err, msg)
		}
		return out
	}
	names, shapes := launcher(learn.ArgsNone), launcher(learn.ArgsShapes)
	run := func(cmd ...string) time.Duration {
		start := time.Now()
		if out, err := exec.Command(cmd[0], cmd[1:]...).CombinedOutput(); err != nil {
			b.Fatalf("%v: %v\n%s", cmd, err, out)
		}
		return time.Since(start)
	}

	var bare, none, pinned time.Duration
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		bare += run(argv...)
		none += run(append([]string{names}, argv...)...)
		pinned += run(append([]string{shapes}, argv...)...)
	}
	calls := float64(b.N) * benchCalls
	b.ReportMetric(float64(bare.Nanoseconds())/calls, "bare-ns/call")
	b.ReportMetric(float64(none.Nanoseconds())/calls, "names-ns/call")
	b.ReportMetric(float64(pinned.Nanoseconds())/calls, "shapes-ns/call")
	b.ReportMetric(float64(none)/float64(bare), "names-x")
	b.ReportMetric(float64(pinned)/float64(bare), "shapes-x")
}
