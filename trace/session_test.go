package trace

import (
	"bytes"
	"context"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"github.com/cilium/ebpf"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/recording"
)

// knownSrc calls getppid argv[1] times, opens an IPv4 datagram and a unix
// stream socket and sets its name with prctl. It never calls dup3, which
// Go's fork-exec child does before execve when it redirects stdin.
const knownSrc = `
#include <stdlib.h>
#include <unistd.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
	int n = argc > 1 ? atoi(argv[1]) : 0;
	for (int i = 0; i < n; i++)
		syscall(SYS_getppid);
	socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
	socket(AF_UNIX, SOCK_STREAM, 0);
	prctl(PR_SET_NAME, "known", 0, 0, 0);
	return 0;
}
`

// daemonSrc double-forks; the first process exits at once. The daemon
// calls getppid 77 times, sleeps a little and then writes argv[1], so that
// a test can tell whether the recording waited for it.
const daemonSrc = `
#include <fcntl.h>
#include <stdlib.h>
#include <time.h>
#include <unistd.h>
#include <sys/syscall.h>

int main(int argc, char **argv) {
	if (fork() != 0)
		return 0;
	setsid();
	if (fork() != 0)
		_exit(0);
	for (int i = 0; i < 77; i++)
		syscall(SYS_getppid);
	struct timespec ts = {0, 300 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int fd = open(argv[1], O_WRONLY | O_CREAT | O_TRUNC, 0644);
	write(fd, "done\n", 5);
	close(fd);
	return 0;
}
`

// crashSrc dies of SIGSEGV.
const crashSrc = `
int main(void) {
	*(volatile int *)0 = 1;
	return 0;
}
`

// ioctlSrc makes ioctl calls with argv[1] distinct request numbers.
const ioctlSrc = `
#include <stdlib.h>
#include <sys/ioctl.h>

int main(int argc, char **argv) {
	int n = atoi(argv[1]);
	for (int i = 0; i < n; i++)
		ioctl(0, 0x7000 + i, 0);
	return 0;
}
`

func record(t *testing.T, opts Options) *Result {
	t.Helper()
	if opts.Backend == nil {
		opts.Backend = newTestEBPF(t, EBPFOptions{})
	}
	if opts.Stdout == nil {
		opts.Stdout = os.Stdout
	}
	if opts.Stderr == nil {
		opts.Stderr = os.Stderr
	}
	if opts.Tool == "" {
		opts.Tool = "profgen test"
	}
	var ids []ebpf.ProgramID
	if e, ok := opts.Backend.(*EBPF); ok {
		ids = programIDs(t, e)
	}
	res, err := Record(context.Background(), opts)
	if err != nil {
		t.Fatalf("Record %v: %v", opts.Command, err)
	}
	// Record leaves the backend open; its creator closes it.
	if err := opts.Backend.Close(); err != nil {
		t.Fatalf("close backend: %v", err)
	}
	assertUnloaded(t, ids)
	assertNoCgroups(t, os.Getpid())
	if err := res.Recording.Validate(); err != nil {
		t.Fatalf("recording does not validate: %v", err)
	}
	return res
}

func count(t *testing.T, r *recording.Recording, name string) uint64 {
	t.Helper()
	sc := r.Lookup(name)
	if sc == nil {
		return 0
	}
	return sc.Count
}

func shapes(r *recording.Recording, name string) [][]recording.Hex {
	sc := r.Lookup(name)
	if sc == nil {
		return nil
	}
	var out [][]recording.Hex
	for _, sh := range sc.Shapes {
		out = append(out, sh.Values)
	}
	return out
}

func checkKnown(t *testing.T, r *recording.Recording, getppid uint64) {
	t.Helper()
	if got := count(t, r, "getppid"); got != getppid {
		t.Errorf("getppid count = %d, want %d", got, getppid)
	}
	wantSockets := [][]recording.Hex{
		{unix.AF_UNIX, unix.SOCK_STREAM, 0},
		{unix.AF_INET, unix.SOCK_DGRAM, 0}, // SOCK_CLOEXEC is masked off
	}
	if got := shapes(r, "socket"); !slices.EqualFunc(got, wantSockets, slices.Equal) {
		t.Errorf("socket shapes = %v, want %v", got, wantSockets)
	}
	if sc := r.Lookup("socket"); sc == nil || len(sc.Args) != 3 || sc.Args[0].Name != "domain" {
		t.Errorf("socket args = %+v, want domain, type, protocol", sc)
	}
	if got := shapes(r, "prctl"); !slices.ContainsFunc(got, func(v []recording.Hex) bool { return v[0] == unix.PR_SET_NAME }) {
		t.Errorf("prctl shapes = %v, want one with PR_SET_NAME", got)
	}
	if r.Lookup("dup3") != nil {
		t.Errorf("dup3 recorded: syscalls of Go's fork-exec child before execve were counted")
	}
	if !r.ArgShapes || r.Backend != recording.BackendEBPF || r.Inputs != 1 {
		t.Errorf("argShapes %v backend %q inputs %d", r.ArgShapes, r.Backend, r.Inputs)
	}
}

func TestRecordKnownProgram(t *testing.T) {
	bin := buildC(t, "known", knownSrc)
	res := record(t, Options{Command: []string{bin, "123"}})
	r := res.Recording
	checkKnown(t, r, 123)
	if got := count(t, r, "execve"); got != 1 {
		t.Errorf("execve count = %d, want 1", got)
	}
	if r.Scope != recording.ScopeCgroup || r.Interrupted || r.Exit.Code != 0 || res.ExitCode != 0 || r.Lost != 0 {
		t.Errorf("scope %q interrupted %v exit %+v/%d lost %d", r.Scope, r.Interrupted, r.Exit, res.ExitCode, r.Lost)
	}
	if !slices.Equal(r.Command, []string{bin, "123"}) || r.Kernel == "" || r.Arch == "" || r.End.Before(r.Start) {
		t.Errorf("command %v kernel %q arch %q start %v end %v", r.Command, r.Kernel, r.Arch, r.Start, r.End)
	}
	// The file round-trips.
	path := filepath.Join(t.TempDir(), "rec.json")
	if err := r.WriteFile(path); err != nil {
		t.Fatal(err)
	}
	if _, err := recording.ReadFile(path); err != nil {
		t.Fatal(err)
	}
}

func TestRecordDaemon(t *testing.T) {
	bin := buildC(t, "daemon", daemonSrc)
	marker := filepath.Join(t.TempDir(), "marker")
	res := record(t, Options{Command: []string{bin, marker}})
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("Record returned before the daemon finished: %v", err)
	}
	r := res.Recording
	if got := count(t, r, "getppid"); got != 77 {
		t.Errorf("getppid count = %d, want 77 (the daemon's)", got)
	}
	for _, name := range []string{"setsid", "clock_nanosleep", "write"} {
		if r.Lookup(name) == nil {
			t.Errorf("%s of the daemon not recorded", name)
		}
	}
}

func TestRecordProcessTreeFallback(t *testing.T) {
	bin := buildC(t, "known", knownSrc)
	daemon := buildC(t, "daemon", daemonSrc)
	marker := filepath.Join(t.TempDir(), "marker")
	// sh forks and execs the program twice, then the daemon.
	script := bin + " 5; " + bin + " 7; " + daemon + " " + marker
	tree := record(t, Options{Command: []string{"sh", "-c", script}, NoCgroup: true})
	r := tree.Recording
	if r.Scope != recording.ScopeProcessTree {
		t.Errorf("scope = %q, want %q", r.Scope, recording.ScopeProcessTree)
	}
	if len(r.Notes) == 0 {
		t.Error("no note says that the process tree was followed")
	}
	if _, err := os.Stat(marker); err != nil {
		t.Fatalf("Record returned before the daemon finished: %v", err)
	}
	if got := count(t, r, "execve"); got != 4 {
		t.Errorf("execve count = %d, want 4 (sh, two programs, daemon)", got)
	}

	// The same run in a cgroup is the reference: the same syscalls, and
	// the same getppid count (the programs' 5+7+77, plus what sh itself
	// makes).
	cg := record(t, Options{Command: []string{"sh", "-c", script}})
	if !slices.Equal(cg.Recording.Names(), r.Names()) {
		t.Errorf("process-tree recording saw\n%v\ncgroup recording saw\n%v", r.Names(), cg.Recording.Names())
	}
	want := count(t, cg.Recording, "getppid")
	if want < 5+7+77 {
		t.Errorf("cgroup recording: getppid count %d < 89", want)
	}
	checkKnown(t, r, want)
}

func TestRecordCrash(t *testing.T) {
	bin := buildC(t, "crash", crashSrc)
	res := record(t, Options{Command: []string{bin}})
	r := res.Recording
	if res.ExitCode != 128+int(unix.SIGSEGV) || r.Exit.Code != 139 || r.Exit.Signal != "SIGSEGV" {
		t.Errorf("exit %d, recording exit %+v; want 139 SIGSEGV", res.ExitCode, r.Exit)
	}
	if r.Lookup("execve") == nil {
		t.Error("execve not recorded")
	}
}

func TestRecordExitStatus(t *testing.T) {
	res := record(t, Options{Command: []string{"sh", "-c", "exit 3"}})
	if res.ExitCode != 3 || res.Recording.Exit.Code != 3 || res.Recording.Exit.Signal != "" {
		t.Errorf("exit %d, recording exit %+v; want 3", res.ExitCode, res.Recording.Exit)
	}
}

func TestRecordDuration(t *testing.T) {
	res := record(t, Options{Command: []string{"sleep", "100"}, Duration: 200 * time.Millisecond})
	r := res.Recording
	// A stop that was asked for is a normal end.
	if r.Interrupted || !res.Limited {
		t.Errorf("interrupted %v, limited %v; want a normal end at the duration", r.Interrupted, res.Limited)
	}
	if r.Exit.Signal != "SIGTERM" || res.ExitCode != 0 {
		t.Errorf("exit %d %+v, want 0, the recording's exit SIGTERM", res.ExitCode, r.Exit)
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "ended at its duration (200ms)") }) {
		t.Errorf("no note says the recording ended at its duration: %q", r.Notes)
	}
	if r.Lookup("clock_nanosleep") == nil && r.Lookup("nanosleep") == nil {
		t.Errorf("sleep's nanosleep not recorded: %v", r.Names())
	}
}

func TestRecordSignal(t *testing.T) {
	for _, tree := range []bool{false, true} {
		t.Run("tree="+strconv.FormatBool(tree), func(t *testing.T) {
			sigs := make(chan os.Signal, 1)
			sigs <- syscall.SIGINT // read once the target runs
			res := record(t, Options{Command: []string{"sleep", "100"}, Signals: sigs, NoCgroup: tree})
			r := res.Recording
			if !r.Interrupted || r.Exit.Signal != "SIGINT" || res.ExitCode != 130 {
				t.Errorf("interrupted %v exit %d %+v, want interrupted by SIGINT (130)", r.Interrupted, res.ExitCode, r.Exit)
			}
		})
	}
}

func TestRecordSignalIgnoredIsKilled(t *testing.T) {
	ready := filepath.Join(t.TempDir(), "ready")
	sigs := make(chan os.Signal, 1)
	go func() {
		// Signal once the target ignores SIGTERM.
		for {
			if _, err := os.Stat(ready); err == nil {
				sigs <- syscall.SIGTERM
				return
			}
			time.Sleep(5 * time.Millisecond)
		}
	}()
	res := record(t, Options{
		Command: []string{"sh", "-c", "trap '' TERM; touch " + ready + "; sleep 100"},
		Signals: sigs,
		Grace:   100 * time.Millisecond,
	})
	if r := res.Recording; !r.Interrupted || r.Exit.Signal != "SIGKILL" {
		t.Errorf("interrupted %v exit %+v, want SIGKILL", r.Interrupted, r.Exit)
	}
}

func TestRecordDrive(t *testing.T) {
	bin := buildC(t, "known", knownSrc)
	var out bytes.Buffer
	res := record(t, Options{
		Command: []string{"sleep", "100"},
		Drive:   bin + " 3; echo driven; exit 4",
		Ready:   "delay:10ms",
		Stdout:  &out,
	})
	if res.ExitCode != 4 || res.DriverErr == nil {
		t.Errorf("exit %d driver error %v, want the driver's 4", res.ExitCode, res.DriverErr)
	}
	if out.String() != "driven\n" {
		t.Errorf("driver output %q", out.String())
	}
	r := res.Recording
	// The driver is not the target: its getppid calls are not recorded.
	if r.Lookup("getppid") != nil || r.Interrupted || r.Exit.Signal != "SIGTERM" {
		t.Errorf("getppid %v interrupted %v exit %+v", r.Lookup("getppid"), r.Interrupted, r.Exit)
	}
}

func TestRecordLost(t *testing.T) {
	bin := buildC(t, "ioctl", ioctlSrc)
	e := newTestEBPF(t, EBPFOptions{MaxEntries: 16})
	res := record(t, Options{Command: []string{bin, "200"}, Backend: e})
	r := res.Recording
	if r.Lost == 0 {
		t.Fatal("lost = 0 with a 16-entry map and 200 ioctl shapes")
	}
	if len(res.Warnings) == 0 || !slices.ContainsFunc(r.Notes, func(n string) bool { return n == res.Warnings[0] }) {
		t.Errorf("lost %d not reported: warnings %v notes %v", r.Lost, res.Warnings, r.Notes)
	}
	var total uint64
	for _, sc := range r.Syscalls {
		total += sc.Count
	}
	if total+r.Lost < 200 {
		t.Errorf("counted %d + lost %d < the 200 ioctls made", total, r.Lost)
	}
}

func TestRecordErrors(t *testing.T) {
	e := newTestEBPF(t, EBPFOptions{})
	ids := programIDs(t, e)
	_, err := Record(context.Background(), Options{Command: []string{"no-such-command-profgen"}, Backend: e})
	if err == nil || err.Error() != "command not found: no-such-command-profgen" {
		t.Errorf("err = %v", err)
	}
	// A failed Record leaves the backend open and usable: its creator
	// closes it.
	if _, err := e.TreePids(); err != nil {
		t.Errorf("backend unusable after a failed Record: %v", err)
	}
	if err := e.Close(); err != nil {
		t.Fatal(err)
	}
	assertUnloaded(t, ids)

	bad := []argspec.Entry{{Syscall: "no_such_syscall", Args: []argspec.Arg{enum32(0, "x")}}}
	_, err = Record(context.Background(), Options{Command: []string{"true"}, Backend: newTestEBPF(t, EBPFOptions{}), ArgTable: bad})
	if err == nil {
		t.Error("a bad argument table was accepted")
	}
	_, err = Record(context.Background(), Options{Command: []string{"true"}, Backend: newTestEBPF(t, EBPFOptions{}), Drive: "true", Ready: "udp:x"})
	if err == nil {
		t.Error("a bad readiness was accepted")
	}
	assertNoCgroups(t, os.Getpid())
}

// compatSrc calls getpid three times through the 32-bit entry (int 0x80,
// i386 number 20, which is writev on x86_64).
const compatSrc = `
int main(void) {
	long ret = 0;
	for (int i = 0; i < 3; i++)
		__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : 1;
}
`

func TestRecordCompatSyscalls(t *testing.T) {
	bin := buildC(t, "compat", compatSrc)
	cmd := exec.Command(bin)
	if err := cmd.Run(); err != nil {
		// Without the 32-bit entry (ia32_emulation=0, or a kernel built
		// without IA32_EMULATION) int 0x80 faults: SIGSEGV. Anything
		// else is a failure of the test program.
		if ws, ok := cmd.ProcessState.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGSEGV {
			t.Skipf("the kernel has no 32-bit syscall entry (ia32 emulation off): %v", err)
		}
		t.Fatalf("compat test program: %v", err)
	}
	r := record(t, Options{Command: []string{bin}}).Recording
	if r.Lookup("writev") != nil || r.Lookup("getpid") != nil {
		t.Errorf("32-bit syscalls recorded under native names: %v", r.Names())
	}
	if !slices.ContainsFunc(r.Notes, func(n string) bool { return strings.Contains(n, "getpid x3") }) {
		t.Errorf("notes %q do not report the 3 32-bit getpid calls", r.Notes)
	}
}

func TestRecordDriveDuration(t *testing.T) {
	res := record(t, Options{Command: []string{"sleep", "100"}, Drive: "sleep 100", Duration: 100 * time.Millisecond})
	// The driver stopped at the duration did not fail: the end was asked for.
	if res.DriverErr != nil || res.Recording.Interrupted || res.ExitCode != 0 || !res.Limited {
		t.Errorf("driver error %v, interrupted %v, exit %d, limited %v; want the driver stopped, a normal end, exit 0",
			res.DriverErr, res.Recording.Interrupted, res.ExitCode, res.Limited)
	}
}

func TestRecordDriveTCPReady(t *testing.T) {
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	addr := l.Addr().String()
	l.Close()
	_, port, _ := net.SplitHostPort(addr)
	bin := buildC(t, "listen", listenSrc)
	// The target listens only after a pause; the driver fails unless it
	// can connect, so it must not run before the target is ready.
	res := record(t, Options{
		Command: []string{bin, port, "serve"},
		Drive:   bin + " " + port + " connect",
		Ready:   "tcp:" + addr,
	})
	if res.DriverErr != nil || res.ExitCode != 0 {
		t.Errorf("driver ran before the target listened: %v (exit %d)", res.DriverErr, res.ExitCode)
	}
	if r := res.Recording; r.Lookup("listen") == nil || r.Lookup("accept") == nil || r.Lookup("connect") != nil {
		t.Errorf("want listen and accept of the target, no connect of the driver: %v", r.Names())
	}
}

// listenSrc, with "serve", pauses, listens on 127.0.0.1:argv[1] and accepts
// connections until it is killed; with "connect" it connects there once.
const listenSrc = `
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <netinet/in.h>
#include <arpa/inet.h>
#include <sys/socket.h>

int main(int argc, char **argv) {
	struct sockaddr_in a = {0};
	a.sin_family = AF_INET;
	a.sin_port = htons(atoi(argv[1]));
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	int s = socket(AF_INET, SOCK_STREAM, 0);
	if (strcmp(argv[2], "connect") == 0)
		return connect(s, (struct sockaddr *)&a, sizeof a) == 0 ? 0 : 1;
	struct timespec ts = {0, 200 * 1000 * 1000};
	nanosleep(&ts, NULL);
	int one = 1;
	setsockopt(s, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
	if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 8) < 0)
		return 1;
	for (;;)
		close(accept(s, NULL, NULL));
}
`
