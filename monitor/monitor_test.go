package monitor

import (
	"bufio"
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"golang.org/x/net/bpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/testenv"
)

// The test binary re-executed with childEnv set installs a filter (loaded
// with SECCOMP_FILTER_FLAG_LOG so that errno denials are logged too):
// getppid is logged, getpriority denied with EACCES, setpriority kills the
// process, everything else is allowed. It writes "ready", waits for a line
// on standard input, then makes the calls its arguments name:
//
//	log N      N getppid calls
//	errno      one getpriority (which must fail with EACCES)
//	kill       one setpriority (the process dies of SIGSYS)
//	wait       wait for standard input to close
//	exec PATH  exec PATH (under the filter)
//
// Calls through the i386 and x32 ABIs are logged too.
const childEnv = "PROFGEN_MONITOR_TEST_CHILD"

func TestMain(m *testing.M) {
	if os.Getenv(childEnv) != "" {
		os.Exit(child(os.Args[1:]))
	}
	os.Exit(m.Run())
}

func nr(name string) uint32 {
	a, err := abi.Native()
	if err != nil {
		panic(err)
	}
	n, err := abi.SyscallNumber(a, name)
	if err != nil {
		panic(err)
	}
	return uint32(n)
}

func child(args []string) int {
	rs, err := bpf.Assemble([]bpf.Instruction{
		bpf.LoadAbsolute{Off: 4, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: unix.AUDIT_ARCH_I386, SkipTrue: 6}, // i386: log
		bpf.LoadAbsolute{Off: 0, Size: 4},
		bpf.JumpIf{Cond: bpf.JumpGreaterOrEqual, Val: abi.X32SyscallBit, SkipTrue: 4}, // x32: log
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr("getppid"), SkipTrue: 3},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr("getpriority"), SkipTrue: 3},
		bpf.JumpIf{Cond: bpf.JumpEqual, Val: nr("setpriority"), SkipTrue: 3},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ALLOW},
		bpf.RetConstant{Val: unix.SECCOMP_RET_LOG},
		bpf.RetConstant{Val: unix.SECCOMP_RET_ERRNO | uint32(unix.EACCES)},
		bpf.RetConstant{Val: unix.SECCOMP_RET_KILL_PROCESS},
	})
	if err != nil {
		panic(err)
	}
	prog := make([]unix.SockFilter, len(rs))
	for i, r := range rs {
		prog[i] = unix.SockFilter{Code: r.Op, Jt: r.Jt, Jf: r.Jf, K: r.K}
	}
	if err := unix.Prctl(unix.PR_SET_NO_NEW_PRIVS, 1, 0, 0, 0); err != nil {
		panic(err)
	}
	fprog := unix.SockFprog{Len: uint16(len(prog)), Filter: &prog[0]}
	if _, _, e := unix.Syscall(unix.SYS_SECCOMP, unix.SECCOMP_SET_MODE_FILTER,
		unix.SECCOMP_FILTER_FLAG_TSYNC|unix.SECCOMP_FILTER_FLAG_LOG, uintptr(unsafe.Pointer(&fprog))); e != 0 {
		panic(e)
	}
	in := bufio.NewReader(os.Stdin)
	os.Stdout.WriteString("ready\n")
	in.ReadString('\n')
	for i := 0; i < len(args); i++ {
		switch args[i] {
		case "log":
			n, _ := strconv.Atoi(args[i+1])
			i++
			for j := 0; j < n; j++ {
				unix.Syscall(unix.SYS_GETPPID, 0, 0, 0)
			}
		case "errno":
			if _, _, e := unix.Syscall(unix.SYS_GETPRIORITY, 0, 0, 0); e != unix.EACCES {
				fmt.Fprintf(os.Stderr, "getpriority: %v, want EACCES\n", e)
				return 1
			}
		case "kill":
			unix.Syscall(unix.SYS_SETPRIORITY, 0, 0, 0)
			return 1 // not reached
		case "wait":
			io.Copy(io.Discard, in)
		case "exec":
			err := unix.Exec(args[i+1], args[i+1:i+2], os.Environ())
			fmt.Fprintln(os.Stderr, err)
			return 1
		}
	}
	return 0
}

// testChild is a started child, stopped before its calls.
type testChild struct {
	cmd   *exec.Cmd
	stdin io.WriteCloser
	pid   int
}

func startChild(t *testing.T, args ...string) *testChild {
	t.Helper()
	cmd := exec.Command(os.Args[0], args...)
	cmd.Env = append(os.Environ(), childEnv+"=1")
	stdin, err := cmd.StdinPipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		t.Fatal(err)
	}
	cmd.Stderr = os.Stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	c := &testChild{cmd: cmd, stdin: stdin, pid: cmd.Process.Pid}
	t.Cleanup(func() { stdin.Close(); cmd.Process.Kill(); cmd.Wait() })
	buf := make([]byte, 6)
	if _, err := io.ReadFull(stdout, buf); err != nil || string(buf) != "ready\n" {
		t.Fatalf("child not ready: %q %v", buf, err)
	}
	return c
}

// run lets the child make its calls.
func (c *testChild) run(t *testing.T) {
	t.Helper()
	if _, err := c.stdin.Write([]byte("go\n")); err != nil {
		t.Fatal(err)
	}
}

// syncBuffer is an io.Writer the test reads while the monitor writes.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) lines() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return strings.Split(strings.TrimRight(s.b.String(), "\n"), "\n")
}

// running is a monitor running in the background.
type running struct {
	m      *Monitor
	out    *syncBuffer
	cancel context.CancelFunc
	done   chan error
}

func startMonitor(t *testing.T, opts Options) *running {
	t.Helper()
	out := &syncBuffer{}
	if opts.Out == nil {
		opts.Out = out
	}
	opts.Refresh = 50 * time.Millisecond
	m, err := Open(opts)
	if err != nil {
		testenv.AuditUnsupported(t, err)
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	r := &running{m: m, out: out, cancel: cancel, done: make(chan error, 1)}
	go func() { r.done <- m.Run(ctx) }()
	t.Cleanup(func() { r.stop(t) })
	return r
}

func (r *running) stop(t *testing.T) {
	t.Helper()
	if r.cancel == nil {
		return
	}
	r.cancel()
	r.cancel = nil
	if err := <-r.done; err != nil {
		t.Errorf("monitor: %v", err)
	}
}

// events returns the event lines of pid (all, with pid 0).
func events(t *testing.T, lines []string, pid int) []Event {
	t.Helper()
	var out []Event
	for _, l := range lines {
		if l == "" || strings.Contains(l, `"lost":`) {
			continue
		}
		var ev Event
		if err := json.Unmarshal([]byte(l), &ev); err != nil {
			t.Fatalf("line %q: %v", l, err)
		}
		if pid == 0 || ev.Process.Pid == pid {
			out = append(out, ev)
		}
	}
	return out
}

// waitEvents waits (at most a minute) until the monitor wrote n events of
// pid.
func (r *running) waitEvents(t *testing.T, pid, n int) []Event {
	t.Helper()
	key := []byte(fmt.Sprintf(`"process":{"pid":%d,`, pid))
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		r.out.mu.Lock()
		seen := bytes.Count(r.out.b.Bytes(), key)
		r.out.mu.Unlock()
		if seen >= n {
			return events(t, r.out.lines(), pid)
		}
	}
	t.Fatalf("fewer than %d events of pid %d: %v", n, pid, r.out.lines())
	return nil
}

func TestMonitorActions(t *testing.T) {
	a := startChild(t, "log", "1", "errno", "kill")
	b := startChild(t, "log", "1", "errno", "wait")
	summary := &syncBuffer{}
	only := startMonitor(t, Options{Filter: Filter{Pid: a.pid}, Summary: summary})
	all := startMonitor(t, Options{Filter: Filter{Exe: mustExe(t)}})
	a.run(t)
	b.run(t)
	if err := a.cmd.Wait(); err == nil || !strings.Contains(err.Error(), "bad system call") {
		t.Errorf("child a: %v, want killed by SIGSYS", err)
	}
	evs := only.waitEvents(t, a.pid, 3)
	all.waitEvents(t, b.pid, 2) // b's calls were made and logged
	all.waitEvents(t, a.pid, 3)
	time.Sleep(100 * time.Millisecond)
	only.stop(t)
	for _, ev := range events(t, only.out.lines(), 0) {
		if ev.Process.Pid != a.pid {
			t.Errorf("--pid %d let through an event of %d: %+v", a.pid, ev.Process.Pid, ev)
		}
	}
	sum := strings.Join(summary.lines(), "\n")
	for _, w := range []string{"3 events", "by syscall", "amd64/getpriority", "by process", "kill_process"} {
		if !strings.Contains(sum, w) {
			t.Errorf("live summary lacks %q:\n%s", w, sum)
		}
	}
	want := []struct{ name, action string }{{"getppid", "log"}, {"getpriority", "errno"}, {"setpriority", "kill_process"}}
	if len(evs) != 3 {
		t.Fatalf("events %+v, want 3", evs)
	}
	arch, _ := abi.Native()
	for i, w := range want {
		ev := evs[i]
		if ev.Syscall.Name != w.name || ev.Action.String() != w.action || ev.Syscall.Arch != string(arch) || ev.Syscall.Nr != int64(nr(w.name)) {
			t.Errorf("event %d: %+v, want %s %s", i, ev, w.name, w.action)
		}
		if ev.Process.Comm == "" || ev.Process.Exe != mustExe(t) || ev.Details.Serial == 0 || ev.Timestamp.IsZero() || !strings.HasPrefix(ev.Details.IP, "0x") {
			t.Errorf("event %d: incomplete %+v", i, ev)
		}
	}
	// The kernel's record carries the action, not the errno number
	// (code=0x50000): none is made up.
	if evs[1].Action.Errno != nil || evs[1].Action.Ret != unix.SECCOMP_RET_ERRNO {
		t.Errorf("errno action: %+v, want no number and ret 0x50000", evs[1].Action)
	}
	if evs[2].Details.Signal != int(unix.SIGSYS) {
		t.Errorf("kill event signal %d", evs[2].Details.Signal)
	}
	lines := only.out.lines()
	var last LostLine
	if err := json.Unmarshal([]byte(lines[len(lines)-1]), &last); err != nil || !last.Final || last.Events != 3 {
		t.Errorf("last line %q: want the final lost line with 3 events (%v)", lines[len(lines)-1], err)
	}
}

func mustExe(t *testing.T) string {
	exe, err := os.Executable()
	if err != nil {
		t.Fatal(err)
	}
	return exe
}

// TestMonitorCgroup: --cgroup and --container keep the processes of one
// cgroup only.
func TestMonitorCgroup(t *testing.T) {
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	id := strings.Repeat("3f2a9c", 10) + "abcd"
	parent := fmt.Sprintf("/profgen-monitor-test-%d", os.Getpid())
	rel := parent + "/docker-" + id + ".scope"
	dir := filepath.Join(mnt, rel)
	if err := os.MkdirAll(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.Remove(dir); os.Remove(filepath.Dir(dir)) })
	in := startChild(t, "log", "2", "wait")
	out := startChild(t, "log", "2", "wait")
	if err := os.WriteFile(filepath.Join(dir, "cgroup.procs"), []byte(strconv.Itoa(in.pid)), 0o644); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		in.stdin.Close()
		in.cmd.Wait()
	})
	byCgroup := startMonitor(t, Options{Filter: Filter{Cgroup: parent}})
	byContainer := startMonitor(t, Options{Filter: Filter{Container: id[:12]}})
	all := startMonitor(t, Options{Filter: Filter{Exe: mustExe(t)}})
	in.run(t)
	out.run(t)
	all.waitEvents(t, out.pid, 2)
	for name, r := range map[string]*running{"cgroup": byCgroup, "container": byContainer} {
		r.waitEvents(t, in.pid, 2)
		time.Sleep(100 * time.Millisecond)
		r.stop(t)
		for _, ev := range events(t, r.out.lines(), 0) {
			if ev.Process.Pid != in.pid {
				t.Errorf("--%s let through pid %d", name, ev.Process.Pid)
			}
		}
	}
}

// TestMonitorRotation: with --max-size 1M, every rotated file is gzipped,
// at most 1 MiB uncompressed, full before it was rotated, and together
// with the current file they hold every event.
func TestMonitorRotation(t *testing.T) {
	const calls = 12000 // about 3.5 MB of lines
	dir := t.TempDir()
	path := filepath.Join(dir, "seccomp.json")
	rot, err := NewRotating(path, 1, 0, true)
	if err != nil {
		t.Fatal(err)
	}
	c := startChild(t, "log", strconv.Itoa(calls))
	r := startMonitor(t, Options{Filter: Filter{Pid: c.pid}, Out: rot})
	c.run(t)
	if err := c.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(50 * time.Millisecond) {
		if ev, lost := r.m.eventsLost(); ev+lost.Missed >= calls {
			break
		}
	}
	r.stop(t)
	if err := rot.Close(); err != nil {
		t.Fatal(err)
	}
	events, lost := r.m.Stats()
	gz, _ := filepath.Glob(filepath.Join(dir, "seccomp-*.json.gz"))
	plain, _ := filepath.Glob(filepath.Join(dir, "seccomp-*.json"))
	if len(plain) != 0 {
		t.Errorf("rotated files left uncompressed: %v", plain)
	}
	var total int64
	lines := 0
	for _, f := range gz {
		data := gunzip(t, f)
		if len(data) > 1<<20 || len(data) <= 1<<20-MaxBatch {
			t.Errorf("%s: %d bytes uncompressed, want more than %d and at most %d", f, len(data), 1<<20-MaxBatch, 1<<20)
		}
		if !bytes.HasSuffix(data, []byte("\n")) {
			t.Errorf("%s does not end with a whole line", f)
		}
		total += int64(len(data))
		lines += bytes.Count(data, []byte("\n"))
	}
	cur, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	total += int64(len(cur))
	lines += bytes.Count(cur, []byte("\n"))
	// Every rotation happened when the next batch would not fit: n
	// rotated files of more than 1M-MaxBatch bytes each.
	if min, max := int(total/(1<<20)), int(total/(1<<20-MaxBatch)); len(gz) < min || len(gz) > max || len(gz) < 2 {
		t.Errorf("%d gzip files for %d bytes, want %d..%d (and at least 2)", len(gz), total, min, max)
	}
	if events > calls || events+lost.Missed < calls {
		t.Errorf("%d events and %d missed for %d calls", events, lost.Missed, calls)
	}
	// Every event line and the lost lines are in the files.
	if uint64(lines) < events {
		t.Errorf("%d lines in the files, %d events written", lines, events)
	}
}

// eventsLost is Stats for a running monitor, read racily but only for a
// wait loop.
func (m *Monitor) eventsLost() (uint64, Lost) {
	m.mu.Lock()
	defer m.mu.Unlock()
	var n uint64
	for _, v := range m.byProcess {
		n += v
	}
	return n, Lost{Missed: m.reader.Missed()}
}

func gunzip(t *testing.T, path string) []byte {
	t.Helper()
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	zr, err := gzip.NewReader(f)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	data, err := io.ReadAll(zr)
	if err != nil {
		t.Fatalf("%s: %v", path, err)
	}
	return data
}

func TestRotationKeep(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "out.json")
	rot, err := NewRotating(path, 1, 2, true)
	if err != nil {
		t.Fatal(err)
	}
	line := append(bytes.Repeat([]byte("x"), 1023), '\n')
	batch := bytes.Repeat(line, 32) // 32 KiB
	for i := 0; i < 32*5+1; i++ {   // five files' worth and a bit
		if _, err := rot.Write(batch); err != nil {
			t.Fatal(err)
		}
		// The library names rotated files by the millisecond.
		time.Sleep(2 * time.Millisecond)
	}
	if err := rot.Close(); err != nil {
		t.Fatal(err)
	}
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(20 * time.Millisecond) {
		gz, _ := filepath.Glob(filepath.Join(dir, "out-*.json.gz"))
		if len(gz) == 2 {
			return
		}
	}
	gz, _ := filepath.Glob(filepath.Join(dir, "out-*"))
	t.Errorf("--keep 2: rotated files %v", gz)
}

func TestParseSize(t *testing.T) {
	for in, want := range map[string]int{"100M": 100, "1G": 1024, "5": 5, "2m": 2} {
		if got, err := ParseSize(in); err != nil || got != want {
			t.Errorf("ParseSize(%q) = %d, %v; want %d", in, got, err, want)
		}
	}
	for _, in := range []string{"", "0M", "512K", "1.5G", "-1M"} {
		if _, err := ParseSize(in); err == nil {
			t.Errorf("ParseSize(%q): no error", in)
		}
	}
}

func TestAuditTime(t *testing.T) {
	if got := auditTime("1764200000.123"); !got.Equal(time.Unix(1764200000, 123e6)) {
		t.Errorf("auditTime = %v", got)
	}
	if !auditTime("x").IsZero() {
		t.Error("bad stamp not zero")
	}
}

// TestMonitorBurst: 100,000 logged calls as fast as one process makes
// them, read with the default receive buffer and with a tiny one: what is
// not captured is reported lost, never silently missing.
func TestMonitorBurst(t *testing.T) {
	const calls = 100000
	for _, rcvBuf := range []int{0, 64 << 10} {
		t.Run(fmt.Sprintf("rcvbuf=%d", rcvBuf), func(t *testing.T) {
			c := startChild(t, "log", strconv.Itoa(calls))
			r := startMonitor(t, Options{Filter: Filter{Exe: mustExe(t)}, RcvBuf: rcvBuf})
			start := time.Now()
			c.run(t)
			if err := c.cmd.Wait(); err != nil {
				t.Fatal(err)
			}
			t.Logf("%d calls in %v", calls, time.Since(start))
			// A record after the burst closes any gap at its end.
			tail := startChild(t, "log", "1")
			tail.run(t)
			r.waitEvents(t, tail.pid, 1)
			time.Sleep(100 * time.Millisecond)
			r.stop(t)
			lines := r.out.lines()
			got := uint64(len(events(t, lines, c.pid)))
			_, lost := r.m.Stats()
			t.Logf("captured %d of %d; lost %+v", got, calls, lost)
			if got > calls || got+lost.Missed < calls {
				t.Errorf("captured %d of %d calls, missed %d: the loss is not accounted for", got, calls, lost.Missed)
			}
			var final LostLine
			if err := json.Unmarshal([]byte(lines[len(lines)-1]), &final); err != nil || !final.Final || final.Lost != lost {
				t.Errorf("final line %q does not report the loss %+v", lines[len(lines)-1], lost)
			}
			if got < calls && lost.Overruns == 0 && lost.Missed == 0 {
				t.Errorf("records lost without an overrun or a serial gap")
			}
		})
	}
}

// TestMonitorABIs: a call through the i386 or x32 ABI is named by
// libseccomp for that ABI.
func TestMonitorABIs(t *testing.T) {
	native, _ := abi.Native()
	if native != "amd64" {
		t.Skipf("the i386 and x32 calls are x86_64's; this machine is %s", native)
	}
	// Without the i386 entry int $0x80 faults: skip, saying so.
	testenv.I386Entry(t)
	bin := filepath.Join(t.TempDir(), "abi")
	if out, err := exec.Command("gcc", "-O2", "-o", bin, "testdata/abi.c").CombinedOutput(); err != nil {
		t.Fatalf("gcc: %v\n%s", err, out)
	}
	c := startChild(t, "exec", bin)
	r := startMonitor(t, Options{Filter: Filter{Pid: c.pid}})
	c.run(t)
	if err := c.cmd.Wait(); err != nil {
		t.Fatal(err)
	}
	evs := r.waitEvents(t, c.pid, 2)
	got := map[string]Syscall{}
	for _, ev := range evs {
		got[ev.Syscall.Arch] = ev.Syscall
		if ev.Process.Exe != bin || ev.Action.Name != "log" {
			t.Errorf("event %+v", ev)
		}
	}
	if s := got["x86"]; s.Name != "getppid" || s.Nr != 64 {
		t.Errorf("i386 call: %+v, want getppid (64) on x86", s)
	}
	if s := got["x32"]; s.Name != "getppid" || s.Nr != abi.X32SyscallBit|110 {
		t.Errorf("x32 call: %+v, want getppid (0x4000006e) on x32", s)
	}
}

// TestMonitorErrnoFromFilter: with ErrnoFromFilter the errno number the
// record lacks comes from the caller's filter, run for the call.
func TestMonitorErrnoFromFilter(t *testing.T) {
	c := startChild(t, "errno", "log", "1", "wait")
	r := startMonitor(t, Options{Filter: Filter{Pid: c.pid}, ErrnoFromFilter: true})
	c.run(t)
	evs := r.waitEvents(t, c.pid, 2)
	if a := evs[0].Action; evs[0].Syscall.Name != "getpriority" || a.Errno == nil || *a.Errno != uint16(unix.EACCES) || a.ErrnoName != "EACCES" || !a.FromFilter {
		t.Errorf("errno event %+v, want EACCES from the filter", evs[0])
	}
	if a := evs[1].Action; a.Name != "log" || a.Errno != nil || a.FromFilter {
		t.Errorf("log event %+v", evs[1])
	}
	// The child goes on: it still answers after its filter was read.
	if _, err := c.stdin.Write([]byte("x")); err != nil {
		t.Errorf("child after the filter was read: %v", err)
	}
}
