package replay

import (
	"os"
	"testing"

	workloads "github.com/profgen/profgen/internal/workload"
)

// TestRecordLoopCloses: the benchmarks' recorder releases its eBPF
// backend: running recordLoop leaves no file descriptor open.
func TestRecordLoopCloses(t *testing.T) {
	bin := workloads.Build(t, "rwloop")
	fds := func() int {
		ents, err := os.ReadDir("/proc/self/fd")
		if err != nil {
			t.Fatal(err)
		}
		return len(ents)
	}
	before := fds()
	runs := 0
	testing.Benchmark(func(b *testing.B) {
		runs++
		if rec := recordLoop(b, bin, "futex"); len(rec.Syscalls) == 0 {
			t.Errorf("recordLoop recorded no syscall")
		}
	})
	if runs == 0 {
		t.Fatal("recordLoop never ran")
	}
	if after := fds(); after > before {
		t.Errorf("%d file descriptors open after %d recordLoop runs, %d before", after, runs, before)
	}
}
