package workload

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"sort"
	"strings"
	"syscall"
	"testing"

	"github.com/profgen/profgen/internal/abi"
)

func TestParseStrace(t *testing.T) {
	const trace = `101   execve("/bin/x", ["x"], 0x7ffc /* 3 vars */) = 0
101   brk(NULL)                         = 0x55
101   clone3({flags=CLONE_VM|CLONE_FS, child_tid=0x7f, parent_tid=0x7f, exit_signal=0, stack=0x7f, stack_size=0x7fff00, tls=0x7f} => {parent_tid=[102]}, 88) = 102
102   rseq(0x7f, 0x20, 0, 0x53053053 <unfinished ...>
101   futex(0x7f, FUTEX_WAIT_BITSET|FUTEX_CLOCK_REALTIME, 102, NULL, FUTEX_BITSET_MATCH_ANY <unfinished ...>
102   <... rseq resumed>)               = 0
102   exit(0)                           = ?
101   <... futex resumed>)              = 0
102   +++ exited with 0 +++
101   --- SIGCHLD {si_signo=SIGCHLD, si_code=CLD_EXITED, si_pid=103, si_uid=0, si_status=0, si_utime=0, si_stime=0} ---
101   restart_syscall(<... resuming interrupted clock_nanosleep ...>) = 0
101   syscall_0x3ff(0x1, 0x2) = -1 ENOSYS (Function not implemented)
101   syscall_0x1c3(0x1, 0x2) = -1 EINVAL (Invalid argument)
103   syscall_0x6b46(0x1, 0) = ?
103   ???( <unfinished ...>
103   <... ??? resumed>)                = ?
101   write(1, "a(b) = c\n", 9)           = 9
[ Process PID=101 runs in 64 bit mode. ]
101   exit_group(0)                     = ?
101   +++ exited with 0 +++
getpid() = 7
`
	got, err := ParseStrace(strings.NewReader(trace))
	if err != nil {
		t.Fatal(err)
	}
	want := map[string]int{
		"execve": 1, "brk": 1, "clone3": 1, "rseq": 1, "futex": 1, "exit": 1,
		"restart_syscall": 1, "syscall_0x3ff": 1, "cachestat": 1, "write": 1, "exit_group": 1, "getpid": 1,
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ParseStrace =\n%v\nwant\n%v", got, want)
	}

	for _, bad := range []string{
		"101   strace: something odd\n",
		"101   Write(1) = 1\n",
		"101   = 0\n",
	} {
		if _, err := ParseStrace(strings.NewReader(bad)); err == nil {
			t.Errorf("ParseStrace(%q) succeeded, want an error", bad)
		}
	}
}

// checkNames fails the test for every name libseccomp does not resolve on the
// native architecture: strace's names must be usable as profile names.
func checkNames(t *testing.T, counts map[string]int) {
	t.Helper()
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	for name := range counts {
		if _, err := abi.SyscallNumber(arch, name); err != nil {
			t.Errorf("strace name %q: %v", name, err)
		}
	}
}

// wantCounts checks that counts holds at least min[name] calls of each name
// (exactly, for names in exact).
func wantCounts(t *testing.T, counts map[string]int, min, exact map[string]int) {
	t.Helper()
	for name, n := range min {
		if counts[name] < n {
			t.Errorf("%s seen %d times, want at least %d", name, counts[name], n)
		}
	}
	for name, n := range exact {
		if counts[name] != n {
			t.Errorf("%s seen %d times, want exactly %d", name, counts[name], n)
		}
	}
	if t.Failed() {
		t.Logf("all counts: %v", sorted(counts))
	}
}

func sorted(counts map[string]int) []string {
	var s []string
	for name := range counts {
		s = append(s, name)
	}
	sort.Strings(s)
	return s
}

func TestStraceCFileTCP(t *testing.T) {
	bin := Build(t, "cfiletcp")
	var stdout bytes.Buffer
	traceFile := filepath.Join(t.TempDir(), "trace")
	counts, err := Strace(t, []string{bin, t.TempDir()}, WithStdout(&stdout), WithTraceFile(traceFile))
	if err != nil {
		t.Fatal(err)
	}
	if stdout.String() != "cfiletcp: ok\n" {
		t.Errorf("stdout %q", stdout.String())
	}
	wantCounts(t, counts, map[string]int{
		"openat": 2, "write": 2, "close": 5, "mmap": 1,
	}, map[string]int{
		"execve": 1, "socket": 2, "setsockopt": 1, "bind": 1, "listen": 1,
		"getsockname": 1, "connect": 1, "accept": 1, "sendto": 2, "recvfrom": 3,
		"shutdown": 1, "mkdir": 1, "fsync": 1, "rename": 1, "unlink": 1,
		"rmdir": 1, "exit_group": 1,
	})
	checkNames(t, counts)

	// The first line is the target's own execve, made by strace's child.
	b, err := os.ReadFile(traceFile)
	if err != nil {
		t.Fatal(err)
	}
	first, _, _ := strings.Cut(string(b), "\n")
	if !strings.Contains(first, "execve(\""+bin+"\"") {
		t.Errorf("first trace line %q is not the target's execve", first)
	}
}

func TestStraceManyCalls(t *testing.T) {
	counts, err := Strace(t, []string{Build(t, "manycalls"), "2000"})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, counts, nil, map[string]int{"getppid": 2000, "personality": 1, "execve": 1, "exit_group": 1})
	checkNames(t, counts)
}

func TestStraceThreads(t *testing.T) {
	counts, err := Strace(t, []string{Build(t, "multiproc/threads.c"), "4"})
	if err != nil {
		t.Fatal(err)
	}
	// clone3 is glibc 2.34+'s pthread_create; older glibc used clone.
	if counts["clone3"]+counts["clone"] != 4 {
		t.Errorf("clone3 %d + clone %d, want 4 thread creations", counts["clone3"], counts["clone"])
	}
	wantCounts(t, counts, map[string]int{"futex": 1, "exit": 4, "set_robust_list": 5},
		map[string]int{"sched_yield": 40, "getcpu": 40, "gettid": 4, "exit_group": 1})
	checkNames(t, counts)
}

func TestStraceDaemon(t *testing.T) {
	file := filepath.Join(t.TempDir(), "daemon.out")
	counts, err := Strace(t, []string{Build(t, "multiproc/daemon.c"), file, "50"})
	if err != nil {
		t.Fatal(err)
	}
	// strace -f waits for the daemon, so its file is there now.
	b, err := os.ReadFile(file)
	if err != nil {
		t.Fatalf("daemon output after strace returned: %v", err)
	}
	parseDaemon(t, string(b))
	wantCounts(t, counts, map[string]int{"dup2": 3},
		map[string]int{
			"clone":  2, // glibc's fork
			"setsid": 1, "getppid": 101, "getsid": 1, "umask": 1, "chdir": 1,
			"clock_nanosleep": 1, // glibc's nanosleep
			"rename":          1, "exit_group": 3, "execve": 1,
		})
	checkNames(t, counts)
}

func TestStracePipeline(t *testing.T) {
	var stdout bytes.Buffer
	counts, err := Strace(t, []string{"/bin/sh", Path(t, "multiproc/pipeline.sh")}, WithStdout(&stdout))
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(stdout.String()) != "3" {
		t.Errorf("stdout %q, want 3", stdout.String())
	}
	// sh, then tr, sort, grep and wc are exec'd (printf is a dash builtin).
	wantCounts(t, counts, map[string]int{"pipe2": 1, "wait4": 1, "dup2": 2, "clone": 4, "execve": 5}, nil)
	checkNames(t, counts)
}

func TestStraceArgShapes(t *testing.T) {
	counts, err := Strace(t, []string{Build(t, "argshapes"), "--variant", "netlink"})
	if err != nil {
		t.Fatal(err)
	}
	wantCounts(t, counts, map[string]int{"ioctl": 1, "mmap": 1, "munmap": 1},
		map[string]int{"socket": 3, "prctl": 1})
	checkNames(t, counts)
}

func TestStraceExitStatus(t *testing.T) {
	counts, err := Strace(t, []string{Build(t, "cfiletcp"), "/nonexistent/dir"})
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 1 {
		t.Fatalf("Strace of a failing cfiletcp: %v, want exit status 1", err)
	}
	if !strings.Contains(err.Error(), "mkdir") {
		t.Errorf("error %q lacks the workload's stderr", err)
	}
	if counts["mkdir"] != 1 || counts["exit_group"] != 1 {
		t.Errorf("counts of a failing run: %v", counts)
	}
}

func TestStraceHTTPServer(t *testing.T) {
	server, driver := Build(t, "httpserver"), Build(t, "httpserver/driver")
	var run *StraceRun
	_, addr, stderr := startServer(t, func(w *os.File) (*exec.Cmd, error) {
		var err error
		run, err = StartStrace(t, []string{server, "--addr", "127.0.0.1:0"}, WithStderr(w))
		if err != nil {
			return nil, err
		}
		return run.cmd, nil
	})
	out, errOut, code := runCmd(t, driver, "--addr", addr, "--rounds", "2")
	if code != 0 {
		t.Errorf("driver: status %d, stdout %q, stderr %q", code, out, errOut)
	}
	if err := run.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	counts, err := run.Wait()
	if err != nil {
		t.Fatalf("server: %v (stderr %s)", err, stderr())
	}
	if counts["epoll_pwait"]+counts["epoll_wait"] == 0 {
		t.Errorf("no epoll_pwait or epoll_wait")
	}
	wantCounts(t, counts, map[string]int{
		"socket": 1, "bind": 1, "listen": 1, "accept4": 2, "read": 4, "write": 4,
		"openat": 2, "epoll_ctl": 1, "rt_sigreturn": 1, "clone": 1, "futex": 1,
		"exit_group": 1, // several threads may race into exit_group
	}, map[string]int{"execve": 1})
	checkNames(t, counts)
}

func TestStraceTargetPID(t *testing.T) {
	file := filepath.Join(t.TempDir(), "daemon.out")
	traceFile := filepath.Join(t.TempDir(), "trace")
	run, err := StartStrace(t, []string{Build(t, "multiproc/daemon.c"), file, "50"}, WithTraceFile(traceFile))
	if err != nil {
		t.Fatal(err)
	}
	pid, err := run.TargetPID()
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(); err != nil {
		t.Fatal(err)
	}
	if got := firstPID(traceFile); got != pid {
		t.Errorf("TargetPID = %d, but the trace starts with PID %d", pid, got)
	}
	if again, err := run.TargetPID(); err != nil || again != pid {
		t.Errorf("TargetPID after exit = %d, %v; want %d", again, err, pid)
	}
}

func TestStraceCommandNotFound(t *testing.T) {
	run, err := StartStrace(t, []string{"/nonexistent/command"})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.TargetPID(); err == nil {
		t.Error("TargetPID of a command strace could not start succeeded")
	}
	_, err = run.Wait()
	if err == nil || !strings.Contains(err.Error(), "/nonexistent/command") {
		t.Errorf("Wait = %v, want an error naming the command", err)
	}
}
