package trace

import (
	"context"
	"path/filepath"
	"sort"
	"testing"

	"github.com/profgen/profgen/internal/workload"
)

// timingDependent are syscalls whose presence in a run depends on timing
// or contention, not on what the program does, so one run may show them
// and another not: pthread_join and lock contention (futex), the
// scheduler (sched_yield), a sleep interrupted by ptrace's stops
// (restart_syscall: strace stops the tracee, so it is typical under strace
// and rare without).
var timingDependent = map[string]bool{
	"futex":           true,
	"sched_yield":     true,
	"restart_syscall": true,
}

// TestRecordMatchesStrace checks the eBPF recorder against an independent
// oracle: for each deterministic workload, the set of syscalls recorded
// equals the set `strace -f` sees for the same command, apart from the
// timing-dependent calls above; calls the workload makes a fixed number of
// times have the same count under both. The Go HTTP server is left out: the
// Go runtime's calls depend on scheduling (tgkill for preemption, madvise,
// extra threads), so two runs of it differ under any recorder; it is
// covered end to end by replaying it under its learned profile.
func TestRecordMatchesStrace(t *testing.T) {
	dir := t.TempDir()
	for _, c := range []struct {
		name  string
		argv  []string
		exact []string // syscalls with the same count under both
	}{
		{"cfiletcp", []string{workload.Build(t, "cfiletcp"), dir}, []string{"socket", "bind", "listen", "connect", "rename", "unlink", "fsync"}},
		{"pipeline", []string{"/bin/sh", workload.Path(t, "multiproc/pipeline.sh")}, []string{"pipe2", "wait4"}},
		{"daemon", []string{workload.Build(t, "multiproc/daemon.c"), filepath.Join(dir, "daemon.out"), "50"}, []string{"getppid", "setsid", "rename"}},
		{"threads", []string{workload.Build(t, "multiproc/threads.c"), "4"}, []string{"sched_yield", "getcpu", "gettid"}},
		{"argshapes", []string{workload.Build(t, "argshapes")}, []string{"socket", "prctl", "ioctl"}},
		{"manycalls", []string{workload.Build(t, "manycalls"), "500"}, []string{"getppid", "personality"}},
	} {
		t.Run(c.name, func(t *testing.T) {
			be := newTestEBPF(t, EBPFOptions{})
			// Standard output is /dev/null under both (nil), so that glibc makes
			// the same isatty check: a pipe would not get the ioctl.
			res, err := Record(context.Background(), Options{Command: c.argv, Backend: be})
			if err != nil {
				t.Fatal(err)
			}
			if res.ExitCode != 0 {
				t.Fatalf("recorded run exited %d", res.ExitCode)
			}
			oracle, err := workload.Strace(t, c.argv)
			if err != nil {
				t.Fatalf("strace: %v", err)
			}
			recorded := map[string]uint64{}
			for _, s := range res.Recording.Syscalls {
				recorded[s.Name] = s.Count
			}
			var onlyRec, onlyStrace []string
			for name := range recorded {
				if _, ok := oracle[name]; !ok && !timingDependent[name] {
					onlyRec = append(onlyRec, name)
				}
			}
			for name := range oracle {
				if _, ok := recorded[name]; !ok && !timingDependent[name] {
					onlyStrace = append(onlyStrace, name)
				}
			}
			sort.Strings(onlyRec)
			sort.Strings(onlyStrace)
			if len(onlyRec)+len(onlyStrace) > 0 {
				t.Errorf("recorded set differs from strace's: only recorded %v, only under strace %v", onlyRec, onlyStrace)
			}
			for _, name := range c.exact {
				if recorded[name] == 0 || recorded[name] != uint64(oracle[name]) {
					t.Errorf("%s: recorded %d times, strace saw %d", name, recorded[name], oracle[name])
				}
			}
		})
	}
}
