package trace

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
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

// Sizes of the file-heavy loop of BenchmarkRecordPaths: pathsIter passes
// over pathsDirs directories of pathsFiles files each (open, read 64
// bytes, close).
const (
	pathsDirs  = 8
	pathsFiles = 64
	pathsIter  = 300
)

// BenchmarkRecordPaths measures what recording the landlock section
// (EBPFOptions.Paths, trace/bpf/paths.h) costs. The file-heavy loop
// (pathops tree: open, read, close over a tree of pathsDirs x pathsFiles
// files, pathsIter times) runs under the empty sys_enter program (the
// floor), under profgen record without and with paths; rwloop's syscall
// loop (floorLoops read+write pairs, no file syscall) runs under profgen
// record without and with paths. Rounds alternate as in
// BenchmarkRecorderFloor; the table gives the median and range of the
// per-round ratios of the loops' CPU time, and the metrics
// paths/floor (the file loop recorded with paths to the floor: bounded by
// 1.25 in docs/performance.md), paths/nopaths (file loop) and
// rw-paths/nopaths (the syscall loop). Each recording with paths is
// checked: every file of the tree read pathsIter times.
func BenchmarkRecordPaths(b *testing.B) {
	ops := workload.Build(b, "pathops")
	rw := workload.Build(b, "rwloop")
	floor := emptySysEnter(b)
	rounds := benchRounds(b)
	tree := b.TempDir()
	for d := range pathsDirs {
		sub := filepath.Join(tree, fmt.Sprintf("d%02d", d))
		if err := os.Mkdir(sub, 0o755); err != nil {
			b.Fatal(err)
		}
		for f := range pathsFiles {
			if err := os.WriteFile(filepath.Join(sub, fmt.Sprintf("f%03d", f)), make([]byte, 64), 0o644); err != nil {
				b.Fatal(err)
			}
		}
	}
	fileArgv := []string{ops, "tree", tree, strconv.Itoa(pathsDirs), strconv.Itoa(pathsFiles), strconv.Itoa(pathsIter)}
	rwArgv := []string{rw, strconv.Itoa(floorLoops)}
	bare := func(argv []string) loopSample {
		out, err := exec.Command(argv[0], argv[1:]...).Output()
		if err != nil {
			b.Fatalf("%s: %v", argv[0], err)
		}
		return loopTime(b, out)
	}
	record := func(argv []string, paths bool) loopSample {
		be, err := NewEBPF(EBPFOptions{Paths: paths})
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		var out bytes.Buffer
		res, err := Record(context.Background(), Options{Command: argv, Backend: be, Stdout: &out, Stderr: os.Stderr, Tool: "profgen bench"})
		if err != nil {
			b.Fatal(err)
		}
		if paths && argv[0] == ops {
			checkTreeRecorded(b, res.Recording, tree)
		}
		return loopTime(b, out.Bytes())
	}
	configs := []struct {
		name string
		run  func() loopSample
	}{
		{"file loop, empty sys_enter program", func() loopSample {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: floor})
			if err != nil {
				b.Fatalf("attach the empty program: %v", err)
			}
			defer l.Close()
			return bare(fileArgv)
		}},
		{"file loop, profgen record --landlock=false", func() loopSample { return record(fileArgv, false) }},
		{"file loop, profgen record (paths)", func() loopSample { return record(fileArgv, true) }},
		{"rwloop, profgen record --landlock=false", func() loopSample { return record(rwArgv, false) }},
		{"rwloop, profgen record (paths)", func() loopSample { return record(rwArgv, true) }},
	}
	runs := make([]func() loopSample, len(configs))
	for i := range configs {
		runs[i] = configs[i].run
	}
	times := make([][]time.Duration, len(configs))
	for i, samples := range alternate(b, rounds, runs) {
		for _, s := range samples {
			times[i] = append(times[i], s.cpu)
		}
	}
	ratio := func(num, den int) ratioStats {
		v := make([]float64, rounds)
		for r := range v {
			v[r] = float64(times[num][r]) / float64(times[den][r])
		}
		return statsOf(v)
	}
	fmt.Printf("\npaths: %d alternating rounds; median [min-max] of the loops' CPU time and of per-round ratios\n", rounds)
	fmt.Printf("%-44s %-22s %s\n", "configuration", "cpu ms", "x reference")
	refs := []int{0, 0, 0, 3, 3}
	for i, c := range configs {
		ms := make([]float64, rounds)
		for r := range ms {
			ms[r] = float64(times[i][r]) / 1e6
		}
		s := statsOf(ms)
		fmt.Printf("%-44s %-22s %s (to %s)\n", c.name, fmt.Sprintf("%.1f [%.1f-%.1f]", s.med, s.min, s.max), ratio(i, refs[i]), configs[refs[i]].name)
	}
	// The path program's own time per run, from the kernel's BPF
	// statistics (free of the scheduling noise of the loop times), as
	// the file loop's time x floor: one run per open.
	floorNs := float64(statsOf(durs(times[0])).med) / (pathsDirs * pathsFiles * pathsIter)
	ownNs := pathsProgramTime(b, fileArgv)
	fmt.Printf("the path program's own time (kernel.bpf_stats_enabled): %.1f ns per open; the floor's %.0f ns per open+read+close: +%.3f x floor\n",
		ownNs, floorNs, ownNs/floorNs)
	b.ReportMetric(ownNs, "paths-prog-ns")
	b.ReportMetric(ratio(2, 0).med, "paths/floor")
	b.ReportMetric(ratio(2, 1).med, "paths/nopaths")
	b.ReportMetric(ratio(4, 3).med, "rw-paths/nopaths")
}

// checkTreeRecorded fails b unless rec's landlock section has every file
// of the benchmark's tree read pathsIter times.
func checkTreeRecorded(b *testing.B, rec *recording.Recording, tree string) {
	raw, ok := rec.Sections[recording.LandlockKind]
	if !ok {
		b.Fatalf("no landlock section: %q", rec.Notes)
	}
	sec, err := recording.ParseLandlock(raw)
	if err != nil {
		b.Fatal(err)
	}
	n := 0
	for _, a := range sec.Accesses {
		if strings.HasPrefix(a.Path, tree+"/d") && a.Right == "read_file" {
			if a.OK != pathsIter {
				b.Fatalf("%s read %d times, want %d", a.Path, a.OK, pathsIter)
			}
			n++
		}
	}
	if n != pathsDirs*pathsFiles {
		b.Fatalf("%d files of the tree recorded, want %d", n, pathsDirs*pathsFiles)
	}
}

func durs(d []time.Duration) []float64 {
	v := make([]float64, len(d))
	for i, x := range d {
		v[i] = float64(x)
	}
	return v
}

// pathsProgramTime records argv with paths under the kernel's BPF
// statistics and returns the path program's mean time per run, in ns.
func pathsProgramTime(b *testing.B, argv []string) float64 {
	stats, err := ebpf.EnableStats(uint32(unix.BPF_STATS_RUN_TIME))
	if err != nil {
		b.Fatalf("enable BPF statistics: %v", err)
	}
	defer stats.Close()
	be, err := NewEBPF(EBPFOptions{Paths: true})
	if err != nil {
		b.Fatal(err)
	}
	defer be.Close()
	if _, err := Record(context.Background(), Options{Command: argv, Backend: be, Stdout: io.Discard, Tool: "profgen bench"}); err != nil {
		b.Fatal(err)
	}
	st, err := be.objs.ProfgenPathsEvent.Stats()
	if err != nil {
		b.Fatal(err)
	}
	if st.RunCount == 0 {
		b.Fatal("the path program never ran (not on the syscalls' exit events?)")
	}
	return float64(st.Runtime.Nanoseconds()) / float64(st.RunCount)
}
