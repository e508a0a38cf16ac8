package trace

import (
	"bufio"
	"bytes"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf/link"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/trace/dispatch"
)

// scaleTimes are the two points BenchmarkRecorderScale samples the
// recorder at: 10 s and 30 s by default, 1 minute and
// PROFGEN_BENCH_SCALE_MINUTES minutes when that is set.
func scaleTimes(b *testing.B) (first, last time.Duration) {
	s := os.Getenv("PROFGEN_BENCH_SCALE_MINUTES")
	if s == "" {
		return 10 * time.Second, 30 * time.Second
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 2 {
		b.Fatalf("PROFGEN_BENCH_SCALE_MINUTES=%q: want a number of minutes, at least 2", s)
	}
	return time.Minute, time.Duration(n) * time.Minute
}

// buildProfgen builds cmd/profgen into a temporary directory.
func buildProfgen(b *testing.B) string {
	bin := filepath.Join(b.TempDir(), "profgen")
	cmd := exec.Command("go", "build", "-o", bin, "./cmd/profgen")
	cmd.Dir = workload.Root(b)
	if out, err := cmd.CombinedOutput(); err != nil {
		b.Fatalf("build profgen: %v\n%s", err, out)
	}
	return bin
}

// recorderMemory is what a recorder process holds: its resident set
// (VmRSS) and the memory of the BPF maps it has open (the memlock of each
// map's fdinfo, what the kernel charges for the map).
type recorderMemory struct {
	rss, maps int64 // bytes
}

// readRecorderMemory reads pid's memory from /proc.
func readRecorderMemory(pid int) (recorderMemory, error) {
	var m recorderMemory
	status, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return m, err
	}
	for _, line := range strings.Split(string(status), "\n") {
		if f := strings.Fields(line); len(f) == 3 && f[0] == "VmRSS:" && f[2] == "kB" {
			kb, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				return m, fmt.Errorf("pid %d: VmRSS %q: %w", pid, f[1], err)
			}
			m.rss = kb << 10
		}
	}
	dir := fmt.Sprintf("/proc/%d/fdinfo", pid)
	ents, err := os.ReadDir(dir)
	if err != nil {
		return m, err
	}
	for _, e := range ents {
		f, err := os.Open(filepath.Join(dir, e.Name()))
		if err != nil {
			continue // closed since
		}
		var isMap bool
		var memlock int64
		sc := bufio.NewScanner(f)
		for sc.Scan() {
			k, v, ok := strings.Cut(sc.Text(), ":")
			if !ok {
				continue
			}
			switch k {
			case "map_type":
				isMap = true
			case "memlock":
				memlock, _ = strconv.ParseInt(strings.TrimSpace(v), 10, 64)
			}
		}
		f.Close()
		if isMap {
			m.maps += memlock
		}
	}
	if m.rss == 0 || m.maps == 0 {
		return m, fmt.Errorf("pid %d: rss %d, map memory %d: not a recorder", pid, m.rss, m.maps)
	}
	return m, nil
}

// scaleRun runs redis-server under `profgen record` with redis-benchmark
// looping against it for length, samples the recorder's memory at each of
// at (offsets from the start of the load), and returns the samples and
// the recording's size.
func scaleRun(b *testing.B, profgen string, srv *redisBench, length time.Duration, at ...time.Duration) ([]recorderMemory, int64) {
	dir := b.TempDir()
	port := strconv.Itoa(freePort(b))
	rec := filepath.Join(dir, "rec.json")
	load := fmt.Sprintf(`end=$(( $(date +%%s) + %d )); while [ "$(date +%%s)" -lt "$end" ]; do %s -p %s -n 20000 -c 10 -t set,get -q > /dev/null || exit 1; done`,
		int(length.Seconds()), srv.load, port)
	cmd := exec.Command(profgen, "record", "-o", rec, "--ready", "tcp:127.0.0.1:"+port, "--drive", load, "--",
		srv.server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--loglevel", "warning", "--logfile", filepath.Join(dir, "redis.log"))
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	start := time.Now()
	if err := cmd.Start(); err != nil {
		b.Fatal(err)
	}
	var samples []recorderMemory
	for _, t := range at {
		time.Sleep(time.Until(start.Add(t)))
		m, err := readRecorderMemory(cmd.Process.Pid)
		if err != nil {
			cmd.Process.Kill()
			cmd.Wait()
			b.Fatalf("at %s: %v\n%s", t, err, stderr.String())
		}
		samples = append(samples, m)
	}
	if err := cmd.Wait(); err != nil {
		b.Fatalf("profgen record redis-server: %v\n%s", err, stderr.String())
	}
	fi, err := os.Stat(rec)
	if err != nil {
		b.Fatal(err)
	}
	return samples, fi.Size()
}

// batchCost is what a batch of rwloop runs cost: the loops' own CPU
// time, the recorders' CPU time (user+system, from their rusage) and the
// sum of the recorders' peak resident sets.
type batchCost struct {
	loop, recorder time.Duration
	maxRSS         int64
}

// runBatch runs n rwloops of loops pairs, each under its own `profgen
// record` (or bare, with profgen ""), all at once or one after another;
// env is added to the recorders' environment.
func runBatch(b *testing.B, profgen, rwloop string, n, loops int, together bool, env ...string) batchCost {
	dir := b.TempDir()
	var mu sync.Mutex
	var c batchCost
	one := func(i int) {
		var cmd *exec.Cmd
		if profgen == "" {
			cmd = exec.Command(rwloop, strconv.Itoa(loops))
		} else {
			cmd = exec.Command(profgen, "record", "-o", filepath.Join(dir, fmt.Sprintf("rec%d.json", i)), "--", rwloop, strconv.Itoa(loops))
			cmd.Env = append(os.Environ(), env...)
		}
		var out, stderr bytes.Buffer
		cmd.Stdout, cmd.Stderr = &out, &stderr
		if err := cmd.Run(); err != nil {
			b.Errorf("run %d: %v\n%s", i, err, stderr.String())
			return
		}
		s := loopTime(b, out.Bytes())
		ru := cmd.ProcessState.SysUsage().(*syscall.Rusage)
		mu.Lock()
		defer mu.Unlock()
		c.loop += time.Duration(s.cpu)
		if profgen != "" {
			c.recorder += cmd.ProcessState.UserTime() + cmd.ProcessState.SystemTime() - time.Duration(s.cpu)
			c.maxRSS += ru.Maxrss << 10
		}
	}
	if together {
		var wg sync.WaitGroup
		for i := 0; i < n; i++ {
			wg.Add(1)
			go func() { defer wg.Done(); one(i) }()
		}
		wg.Wait()
	} else {
		for i := 0; i < n; i++ {
			one(i)
		}
	}
	if b.Failed() {
		b.FailNow()
	}
	return c
}

// BenchmarkRecorderScale is issue 12's scale table. A redis-server under
// redis-benchmark in a loop is recorded by `profgen record` (the
// subprocess, so that its memory is the recorder's own); its resident set
// and the memory of its BPF maps (each map's memlock in the recorder's
// fdinfo) are read at the first and the last of scaleTimes, and the
// recording's size is compared with that of a recording as long as the
// first time. Then 8 rwloops recorded at once are compared with 8 recorded
// one after another, and 8 bare rwloops at once with 8 one after another
// (what running 8 at once on this machine costs without a recorder), and
// 8 bare rwloops one after another under 8 empty sys_enter programs with
// under 1 (every attached program runs on every syscall of the machine, so
// 8 recorders' programs run on each of a loop's calls):
// the loops' CPU time, the recorders' CPU time (their own, the loop's
// taken out: the recorder's rusage includes its waited-for child's) and
// the sum of their peak resident sets, medians of per-round ratios.
func BenchmarkRecorderScale(b *testing.B) {
	srv, ok := newRedisBench(b)
	if !ok {
		b.Skip("redis-server and redis-benchmark are not installed (apt-get install redis-server redis-tools)")
	}
	profgen := buildProfgen(b)
	rwloop := workload.Build(b, "rwloop")
	first, last := scaleTimes(b)
	rounds := benchRounds(b)
	const n, loops = 8, 200000
	b.ResetTimer()
	for b.Loop() {
		mem, longSize := scaleRun(b, profgen, srv, last+2*time.Second, first, last)
		_, shortSize := scaleRun(b, profgen, srv, first)
		fmt.Printf("\nscale: redis-server under profgen record, redis-benchmark in a loop (20000 SET+GET a run, 10 clients)\n")
		fmt.Printf("%-34s %-14s %-14s %s\n", "", "after "+first.String(), "after "+last.String(), "last / first")
		row := func(name string, a, z int64) {
			fmt.Printf("%-34s %-14s %-14s %.3f\n", name, fmt.Sprintf("%.1f MiB", float64(a)/(1<<20)), fmt.Sprintf("%.1f MiB", float64(z)/(1<<20)), float64(z)/float64(a))
		}
		row("recorder RSS", mem[0].rss, mem[1].rss)
		row("BPF map memory (fdinfo memlock)", mem[0].maps, mem[1].maps)
		fmt.Printf("%-34s %-14s %-14s %.3f\n", "recording size", fmt.Sprintf("%d B", shortSize), fmt.Sprintf("%d B", longSize), float64(longSize)/float64(shortSize))
		b.ReportMetric(float64(mem[1].rss)/float64(mem[0].rss), "rss-growth")
		b.ReportMetric(float64(longSize)/float64(shortSize), "size-growth")

		b.ReportMetric(concurrentRecordings(b, profgen, rwloop, rounds), "8-at-once-x")
	}
}

// BenchmarkRecorderConcurrent is the scale table's second part alone: 8
// recordings at once against one after another (see BenchmarkRecorderScale).
func BenchmarkRecorderConcurrent(b *testing.B) {
	profgen := buildProfgen(b)
	rwloop := workload.Build(b, "rwloop")
	rounds := benchRounds(b)
	b.ResetTimer()
	for b.Loop() {
		b.ReportMetric(concurrentRecordings(b, profgen, rwloop, rounds), "8-at-once-x")
	}
}

// concurrentRecordings prints the table of 8 rwloops recorded at once
// against one after another: by default (a recording alone runs a program
// of its own, so one after another each does; at once the first does and
// the other 7 share the dispatcher), all sharing one sys_enter program
// (PROFGEN_EBPF_SHARE=1, the default before session 7) and with a program
// each (PROFGEN_EBPF_EXCLUSIVE=1, what profgen did before the dispatcher),
// and the references: bare loops, and 8 empty sys_enter programs against
// 1. It returns the default recorders' median ratio.
func concurrentRecordings(b *testing.B, profgen, rwloop string, rounds int) float64 {
	const n, loops = 8, 200000
	exclusive, share := dispatch.Env+"=1", dispatch.ShareEnv+"=1"
	var loopX, recX, rssX, bareX, floorX, exclX, shareX []float64
	empty := emptySysEnter(b)
	// floorBatch runs the bare loops one after another under k copies
	// of the empty sys_enter program: what k recorders' programs cost
	// at the least.
	floorBatch := func(k int) batchCost {
		var ls []link.Link
		for i := 0; i < k; i++ {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: empty})
			if err != nil {
				b.Fatalf("attach the empty program: %v", err)
			}
			ls = append(ls, l)
		}
		defer func() {
			for _, l := range ls {
				l.Close()
			}
		}()
		return runBatch(b, "", rwloop, n, loops, false)
	}
	for r := 0; r < rounds; r++ {
		if r%2 == 0 {
			f8, f1 := floorBatch(n), floorBatch(1)
			floorX = append(floorX, float64(f8.loop)/float64(f1.loop))
		} else {
			f1, f8 := floorBatch(1), floorBatch(n)
			floorX = append(floorX, float64(f8.loop)/float64(f1.loop))
		}
		var tog, seq, btog, bseq, xtog, xseq, stog, sseq batchCost
		if r%2 == 0 {
			tog = runBatch(b, profgen, rwloop, n, loops, true)
			seq = runBatch(b, profgen, rwloop, n, loops, false)
			stog = runBatch(b, profgen, rwloop, n, loops, true, share)
			sseq = runBatch(b, profgen, rwloop, n, loops, false, share)
			xtog = runBatch(b, profgen, rwloop, n, loops, true, exclusive)
			xseq = runBatch(b, profgen, rwloop, n, loops, false, exclusive)
			btog = runBatch(b, "", rwloop, n, loops, true)
			bseq = runBatch(b, "", rwloop, n, loops, false)
		} else {
			bseq = runBatch(b, "", rwloop, n, loops, false)
			btog = runBatch(b, "", rwloop, n, loops, true)
			xseq = runBatch(b, profgen, rwloop, n, loops, false, exclusive)
			xtog = runBatch(b, profgen, rwloop, n, loops, true, exclusive)
			sseq = runBatch(b, profgen, rwloop, n, loops, false, share)
			stog = runBatch(b, profgen, rwloop, n, loops, true, share)
			seq = runBatch(b, profgen, rwloop, n, loops, false)
			tog = runBatch(b, profgen, rwloop, n, loops, true)
		}
		exclX = append(exclX, float64(xtog.loop)/float64(xseq.loop))
		shareX = append(shareX, float64(stog.loop)/float64(sseq.loop))
		loopX = append(loopX, float64(tog.loop)/float64(seq.loop))
		recX = append(recX, float64(tog.recorder)/float64(seq.recorder))
		rssX = append(rssX, float64(tog.maxRSS)/float64(seq.maxRSS))
		bareX = append(bareX, float64(btog.loop)/float64(bseq.loop))
	}
	stat := func(v []float64) string {
		v = slices.Clone(v)
		slices.Sort(v)
		return fmt.Sprintf("%.3f [%.3f-%.3f]", v[len(v)/2], v[0], v[len(v)-1])
	}
	fmt.Printf("\nscale: %d rwloops of %d read+write pairs at once vs one after another, %d alternating rounds; median [min-max] of per-round ratios (at once / one after another)\n", n, loops, rounds)
	fmt.Printf("%-44s %s\n", "bare loops: the loops' CPU time", stat(bareX))
	fmt.Printf("%-44s %s\n", "floor: 8 empty sys_enter programs / 1", stat(floorX))
	fmt.Printf("%-44s %s\n", "recorded, a program each: the loops' CPU time", stat(exclX))
	fmt.Printf("%-44s %s\n", "recorded, all sharing: the loops' CPU time", stat(shareX))
	fmt.Printf("%-44s %s\n", "recorded (default): the loops' CPU time", stat(loopX))
	fmt.Printf("%-44s %s\n", "recorded (default): the recorders' CPU time", stat(recX))
	fmt.Printf("%-44s %s\n", "recorded (default): the recorders' peak RSS", stat(rssX))
	slices.Sort(loopX)
	return loopX[len(loopX)/2]
}
