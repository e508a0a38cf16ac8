package trace

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"github.com/cilium/ebpf/link"
	"github.com/profgen/profgen/internal/workload"
)

// serverRequests is how many SET and how many GET requests redis-benchmark
// makes per run of BenchmarkRecorderServer: PROFGEN_BENCH_REDIS_REQUESTS,
// default 100000 (about 3 s a run here).
func serverRequests(b *testing.B) int {
	return benchEnv(b, "PROFGEN_BENCH_REDIS_REQUESTS", "requests", 100000, 1000)
}

// redisBench runs redis-server on loopback under its own load generator.
type redisBench struct {
	b                  *testing.B
	server, load, cli  string
	serverCPU, loadCPU string // taskset CPU lists; "" leaves the scheduler free
	requests           int
}

func newRedisBench(b *testing.B) (*redisBench, bool) {
	server, err1 := exec.LookPath("redis-server")
	load, err2 := exec.LookPath("redis-benchmark")
	cli, err3 := exec.LookPath("redis-cli")
	if err1 != nil || err2 != nil || err3 != nil {
		return nil, false
	}
	return &redisBench{b: b, server: server, load: load, cli: cli, requests: 50000}, true
}

// freePort returns a loopback TCP port nothing listens on now.
func freePort(b testing.TB) int {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		b.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// serverSample is one run against redis-server: the time per request (the
// mean of SET's and GET's 1/throughput, times the requests) and the
// server's own CPU time (user+system, from its INFO cpu, over the load).
type serverSample struct {
	perRequest, serverCPU time.Duration
	// calls is the number of the server's syscalls profgen recorded (0
	// when it did not record).
	calls uint64
}

// pinned prefixes argv with taskset when cpus is set.
func pinned(cpus string, argv ...string) []string {
	if cpus == "" {
		return argv
	}
	return append([]string{"taskset", "-c", cpus}, argv...)
}

// run starts redis-server (bare, with prog attached to sys_enter, or under
// profgen record), runs redis-benchmark against it and returns what it
// measured.
func (r *redisBench) run(prog *ebpf.Program, record bool) serverSample {
	b := r.b
	port := strconv.Itoa(freePort(b))
	dir := b.TempDir()
	server := pinned(r.serverCPU, r.server, "--port", port, "--bind", "127.0.0.1", "--save", "", "--appendonly", "no",
		"--loglevel", "warning", "--logfile", filepath.Join(dir, "redis.log"))
	out, before, after := filepath.Join(dir, "load.csv"), filepath.Join(dir, "before"), filepath.Join(dir, "after")
	load := fmt.Sprintf("%[1]s -p %[2]s info cpu > %[3]s && %[4]s -p %[2]s -n %[5]d -c 10 -t set,get -q --csv > %[6]s && %[1]s -p %[2]s info cpu > %[7]s",
		r.cli, port, before, strings.Join(pinned(r.loadCPU, r.load), " "), r.requests, out, after)
	if prog != nil {
		l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
		if err != nil {
			b.Fatalf("attach the empty program: %v", err)
		}
		defer l.Close()
	}
	var calls uint64
	if record {
		be, err := NewEBPF(EBPFOptions{})
		if err != nil {
			b.Fatal(err)
		}
		defer be.Close()
		res, err := Record(context.Background(), Options{Command: server, Backend: be, Drive: load,
			Ready: "tcp:127.0.0.1:" + port, Stdout: os.Stderr, Stderr: os.Stderr, Tool: "profgen bench"})
		if err != nil {
			b.Fatal(err)
		}
		if res.Recording.Lost != 0 {
			b.Fatalf("redis-server recording lost %d calls", res.Recording.Lost)
		}
		for _, sc := range res.Recording.Syscalls {
			calls += sc.Count
		}
	} else {
		cmd := exec.Command(server[0], server[1:]...)
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		defer func() {
			cmd.Process.Kill()
			cmd.Wait()
		}()
		for i := 0; ; i++ {
			c, err := net.Dial("tcp", "127.0.0.1:"+port)
			if err == nil {
				c.Close()
				break
			}
			if i == 500 {
				b.Fatalf("redis-server did not listen on %s: %v", port, err)
			}
			time.Sleep(10 * time.Millisecond)
		}
		if o, err := exec.Command("sh", "-c", load).CombinedOutput(); err != nil {
			b.Fatalf("redis-benchmark: %v\n%s", err, o)
		}
	}
	return serverSample{perRequest: redisTime(b, out, r.requests), serverCPU: redisCPU(b, after) - redisCPU(b, before), calls: calls}
}

// redisTime reads redis-benchmark's CSV: the mean time per request of its
// tests, from their requests per second, times the requests of a test.
func redisTime(b *testing.B, path string, requests int) time.Duration {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Split(line, ",")
		if len(f) < 2 || f[0] == `"test"` {
			continue
		}
		rps, err := strconv.ParseFloat(strings.Trim(f[1], `"`), 64)
		if err != nil || rps <= 0 {
			b.Fatalf("redis-benchmark line %q: no throughput", line)
		}
		sum += 1 / rps
		n++
	}
	if n != 2 {
		b.Fatalf("redis-benchmark printed %d results, want SET and GET:\n%s", n, data)
	}
	return time.Duration(sum / float64(n) * float64(time.Second) * float64(requests))
}

// redisCPU reads used_cpu_sys and used_cpu_user (seconds, the server
// process's own rusage) from a saved INFO cpu.
func redisCPU(b *testing.B, path string) time.Duration {
	data, err := os.ReadFile(path)
	if err != nil {
		b.Fatal(err)
	}
	var sum float64
	n := 0
	for _, line := range strings.Split(string(data), "\n") {
		k, v, ok := strings.Cut(strings.TrimSpace(line), ":")
		if !ok || (k != "used_cpu_sys" && k != "used_cpu_user") {
			continue
		}
		f, err := strconv.ParseFloat(v, 64)
		if err != nil {
			b.Fatalf("redis INFO cpu line %q", line)
		}
		sum += f
		n++
	}
	if n != 2 {
		b.Fatalf("redis INFO cpu has no used_cpu_sys and used_cpu_user:\n%s", data)
	}
	return time.Duration(sum * float64(time.Second))
}

// bootstrapCI returns the median of v and a 95% percentile-bootstrap
// interval for it (2000 resamples, a fixed seed: the same data give the
// same interval).
func bootstrapCI(v []float64) (med, lo, hi float64) {
	medOf := func(s []float64) float64 {
		s = slices.Clone(s)
		slices.Sort(s)
		if len(s)%2 == 1 {
			return s[len(s)/2]
		}
		return (s[len(s)/2-1] + s[len(s)/2]) / 2
	}
	rng := rand.New(rand.NewPCG(1, 2))
	meds := make([]float64, 2000)
	re := make([]float64, len(v))
	for i := range meds {
		for j := range re {
			re[j] = v[rng.IntN(len(v))]
		}
		meds[i] = medOf(re)
	}
	slices.Sort(meds)
	return medOf(v), meds[len(meds)*25/1000], meds[len(meds)*975/1000-1]
}

// BenchmarkRecorderServer is issue 12's real-server row: redis-server on
// loopback under redis-benchmark (serverRequests SET and GET, 10
// clients), bare, under the floor (an empty sys_enter program) and under
// profgen record (eBPF backend), alternating in rounds (the order
// rotates), PROFGEN_BENCH_ROUNDS rounds (default 11). On a machine of 2
// CPUs or more the server runs on CPU 1 and the load generator on CPU 0
// (taskset), so that they do not take turns on one CPU. Two figures per
// run: the time per request (the inverse of throughput) and the server's
// own CPU time over the load (its INFO cpu), the cost the recorder puts on
// the server itself. It prints the median of per-round ratios with a 95%
// bootstrap interval of that median, and the verdict on "within 1% of the
// floor": met when the interval lies at or below 1.01, not met when it
// lies above, undecided when it straddles. Then, derived in the same
// rounds: rwloop under the floor and under profgen record (on the
// server's CPU) give the recorder's cost per call above the floor, which
// times the server's recorded calls per request is the share of its time
// per request the recorder should add.
func BenchmarkRecorderServer(b *testing.B) {
	srv, ok := newRedisBench(b)
	if !ok {
		b.Skip("redis-server, redis-benchmark and redis-cli are not installed (apt-get install redis-server redis-tools)")
	}
	srv.requests = serverRequests(b)
	if runtime.NumCPU() >= 2 {
		if _, err := exec.LookPath("taskset"); err == nil {
			srv.serverCPU, srv.loadCPU = "1", "0"
		}
	}
	rounds := 11
	if os.Getenv("PROFGEN_BENCH_ROUNDS") != "" {
		rounds = benchRounds(b)
	}
	floor := emptySysEnter(b)
	// The loop's runs give the recorder's cost per call above the floor
	// in the same rounds (perRequest holds the loop's CPU time).
	rwloop := workload.Build(b, "rwloop")
	loop := func(prog *ebpf.Program, record bool) serverSample {
		argv := pinned(srv.serverCPU, rwloop, strconv.Itoa(floorLoops))
		var out bytes.Buffer
		if record {
			be, err := NewEBPF(EBPFOptions{})
			if err != nil {
				b.Fatal(err)
			}
			defer be.Close()
			if _, err := Record(context.Background(), Options{Command: argv, Backend: be, Stdout: &out, Stderr: os.Stderr, Tool: "profgen bench"}); err != nil {
				b.Fatal(err)
			}
		} else {
			l, err := link.AttachRawTracepoint(link.RawTracepointOptions{Name: "sys_enter", Program: prog})
			if err != nil {
				b.Fatalf("attach the empty program: %v", err)
			}
			defer l.Close()
			o, err := exec.Command(argv[0], argv[1:]...).Output()
			if err != nil {
				b.Fatalf("rwloop: %v", err)
			}
			out.Write(o)
		}
		return serverSample{perRequest: loopTime(b, out.Bytes()).cpu}
	}
	configs := []struct {
		name string
		run  func() serverSample
	}{
		{"redis-server bare", func() serverSample { return srv.run(nil, false) }},
		{"redis-server, floor", func() serverSample { return srv.run(floor, false) }},
		{"redis-server, profgen record", func() serverSample { return srv.run(nil, true) }},
		{"rwloop, floor", func() serverSample { return loop(floor, false) }},
		{"rwloop, profgen record", func() serverSample { return loop(nil, true) }},
	}
	samples := make([][]serverSample, len(configs))
	b.ResetTimer()
	for b.Loop() {
		for i := range samples {
			samples[i] = samples[i][:0]
		}
		for r := 0; r < rounds; r++ {
			for j := range configs {
				c := (r + j) % len(configs)
				samples[c] = append(samples[c], configs[c].run())
			}
		}
	}
	b.StopTimer()
	ratio := func(num, den int, of func(serverSample) time.Duration) (med, lo, hi float64) {
		v := make([]float64, rounds)
		for r := range v {
			v[r] = float64(of(samples[num][r])) / float64(of(samples[den][r]))
		}
		return bootstrapCI(v)
	}
	perReq := func(s serverSample) time.Duration { return s.perRequest }
	cpu := func(s serverSample) time.Duration { return s.serverCPU }
	pin := "not pinned"
	if srv.serverCPU != "" {
		pin = "server on CPU " + srv.serverCPU + ", load on CPU " + srv.loadCPU
	}
	fmt.Printf("\nrecorder, real server: redis-server under redis-benchmark (%d SET + %d GET, 10 clients; %s), %d alternating rounds;\n"+
		"median of per-round ratios [95%% bootstrap interval of the median]\n", srv.requests, srv.requests, pin, rounds)
	fmt.Printf("%-30s %-14s %-26s %-26s %-14s %s\n", "configuration", "ms/N requests", "time per request x floor", "server CPU x floor", "x bare (time)", "x bare (server CPU)")
	for i, c := range configs[:3] {
		ms := make([]float64, rounds)
		for r := range ms {
			ms[r] = float64(samples[i][r].perRequest) / 1e6
		}
		m, _, _ := bootstrapCI(ms)
		t, tlo, thi := ratio(i, 1, perReq)
		u, ulo, uhi := ratio(i, 1, cpu)
		bt, _, _ := ratio(i, 0, perReq)
		bu, _, _ := ratio(i, 0, cpu)
		fmt.Printf("%-30s %-14.1f %-26s %-26s %-14.3f %.3f\n", c.name, m,
			fmt.Sprintf("%.3f [%.3f-%.3f]", t, tlo, thi), fmt.Sprintf("%.3f [%.3f-%.3f]", u, ulo, uhi), bt, bu)
	}
	verdict := func(lo, hi float64) string {
		switch {
		case hi <= 1.01:
			return "met"
		case lo > 1.01:
			return "not met"
		}
		return "undecided (the interval straddles 1.01)"
	}
	_, tlo, thi := ratio(2, 1, perReq)
	_, ulo, uhi := ratio(2, 1, cpu)
	fmt.Printf("within 1%% of the floor: throughput %s; server CPU %s\n", verdict(tlo, thi), verdict(ulo, uhi))
	// Derived: the recorder's cost per call above the floor (the loop's
	// CPU time per call, profgen less floor, per round) times the
	// server's recorded calls per request, against the time per request
	// under the floor. It leaves out the dispatcher's few instructions on
	// the load generator's calls, which are not the server's.
	perCall := make([]float64, rounds)
	var calls uint64
	for r := range perCall {
		perCall[r] = float64(samples[4][r].perRequest-samples[3][r].perRequest) / (2 * floorLoops)
		calls += samples[2][r].calls
	}
	dc, dlo, dhi := bootstrapCI(perCall)
	perReqFloor := make([]float64, rounds)
	for r := range perReqFloor {
		perReqFloor[r] = float64(samples[1][r].perRequest) / float64(srv.requests)
	}
	pf, _, _ := bootstrapCI(perReqFloor)
	callsPerReq := float64(calls) / float64(rounds) / float64(2*srv.requests)
	fmt.Printf("derived: the recorder adds %.1f ns [%.1f-%.1f] per call above the floor (rwloop, same rounds); the server makes %.2f calls per request (its recordings)\n"+
		"and takes %.0f ns per request under the floor: +%.2f%% [%.2f-%.2f] of its time per request\n",
		dc, dlo, dhi, callsPerReq, pf, 100*dc*callsPerReq/pf, 100*dlo*callsPerReq/pf, 100*dhi*callsPerReq/pf)
	t, _, _ := ratio(2, 1, perReq)
	u, _, _ := ratio(2, 1, cpu)
	b.ReportMetric(100*dc*callsPerReq/pf, "derived-%")
	b.ReportMetric(t, "profgen/floor-time")
	b.ReportMetric(u, "profgen/floor-cpu")
}
