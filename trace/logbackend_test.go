package trace

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	seccomp "github.com/seccomp/libseccomp-golang"
	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/filter"
	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/audit"
	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// newTestLog opens the log backend, skipping the test only when the kernel
// truly cannot provide audit records.
func newTestLog(t *testing.T, opts LogOptions) *Log {
	t.Helper()
	l, err := NewLog(opts)
	if errors.Is(err, ErrNotSupported) {
		testenv.AuditUnsupported(t, err)
	}
	if err != nil {
		t.Fatalf("NewLog: %v", err)
	}
	t.Cleanup(func() { l.Close() })
	return l
}

// nrOf resolves a syscall name on the native architecture.

// logCount returns how often the syscall name was seen.
func logCount(t *testing.T, obs *Observations, name string) uint64 {
	t.Helper()
	return obs.Counts[Key{Nr: uint32(testenv.SyscallNumber(t, name))}]
}

// runLog records argv with l directly (without Record): it starts the
// target in a fresh cgroup through the backend's launcher, waits until the
// cgroup is empty and collects.
func runLog(t *testing.T, l *Log, argv ...string) *Observations {
	t.Helper()
	cg, err := cgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	cmd := exec.Command(argv[0], argv[1:]...)
	cmd.Stdout, cmd.Stderr = os.Stdout, os.Stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	target := &Target{Cmd: cmd, Cgroup: cg}
	if err := l.Prepare(target); err != nil {
		t.Fatalf("Prepare: %v", err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatalf("start %v: %v", argv, err)
	}
	if err := l.Start(cmd.Process.Pid); err != nil {
		cmd.Process.Kill()
		cmd.Wait()
		t.Fatalf("Start: %v", err)
	}
	if err := cmd.Wait(); err != nil {
		t.Fatalf("%v: %v", argv, err)
	}
	for {
		populated, err := cg.Populated()
		if err != nil {
			t.Fatal(err)
		}
		if !populated {
			break
		}
		time.Sleep(10 * time.Millisecond)
	}
	obs, err := l.Collect()
	if err != nil {
		t.Fatalf("Collect: %v", err)
	}
	return obs
}

// TestLogNoLoss: a million logged getppid calls and then one rare call, all
// counted, nothing lost. Loss depends on the reader keeping up with the
// kernel, so on a machine busy with other tests a run may lose records:
// such a run must say so truthfully (every missing call counted in Lost),
// and is repeated; the test fails unless one of three runs loses nothing.
func TestLogNoLoss(t *testing.T) {
	const n = 1000000
	bin := workload.Build(t, "manycalls")
	var l *Log
	var obs *Observations
	for attempt := 1; ; attempt++ {
		l = newTestLog(t, LogOptions{})
		start := time.Now()
		obs = runLog(t, l, bin, strconv.Itoa(n))
		t.Logf("run %d: %d calls recorded in %v, lost %d, notes %q", attempt, l.Events(), time.Since(start), obs.Lost, obs.Notes)
		if obs.Lost == 0 {
			break
		}
		if got := logCount(t, obs, "getppid"); got+obs.Lost < n {
			t.Fatalf("run %d: getppid counted %d times and %d lost: %d calls unaccounted for", attempt, got, obs.Lost, n-got-obs.Lost)
		}
		if attempt == 3 {
			t.Fatalf("records were lost in all %d runs", attempt)
		}
		l.Close()
	}
	if got := logCount(t, obs, "getppid"); got != n {
		t.Errorf("getppid counted %d times, want %d", got, n)
	}
	if got := logCount(t, obs, "personality"); got != 1 {
		t.Errorf("personality counted %d times, want 1", got)
	}
	if got := logCount(t, obs, "execve"); got != 1 {
		t.Errorf("execve counted %d times, want 1 (the launcher's exec of the target)", got)
	}
	if obs.Scope != recording.ScopeSeccomp || obs.ArgShapes {
		t.Errorf("scope %q, argShapes %v", obs.Scope, obs.ArgShapes)
	}
	for k := range obs.Counts {
		if k.Args != [6]uint64{} {
			t.Errorf("key %+v has arguments", k)
		}
	}
	if ev := l.Events(); ev < n+2 {
		t.Errorf("Events() = %d, want at least %d", ev, n+2)
	}
}

// treeSrc covers threads, fork and exec: a thread calls getcpu 7 times; a
// forked child calls getppid 11 times and execs the program again with
// "exec", which calls personality(0xffffffff) 5 times.
const treeSrc = `
#include <pthread.h>
#include <string.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

static void *thread(void *arg) {
	for (int i = 0; i < 7; i++)
		syscall(SYS_getcpu, 0, 0, 0);
	return arg;
}

int main(int argc, char **argv) {
	if (argc > 1 && strcmp(argv[1], "exec") == 0) {
		for (int i = 0; i < 5; i++)
			syscall(SYS_personality, 0xffffffffUL);
		return 0;
	}
	pthread_t th;
	if (pthread_create(&th, 0, thread, 0) != 0)
		return 1;
	pthread_join(th, 0);
	pid_t pid = fork();
	if (pid == 0) {
		for (int i = 0; i < 11; i++)
			syscall(SYS_getppid);
		execl("/proc/self/exe", argv[0], "exec", (char *)0);
		_exit(1);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	return 0;
}
`

// TestLogThreadsForkExec: the filter and the session are inherited by
// threads, forked children and what they exec.
func TestLogThreadsForkExec(t *testing.T) {
	bin := buildC(t, "tree", treeSrc)
	l := newTestLog(t, LogOptions{})
	obs := runLog(t, l, bin)
	for name, want := range map[string]uint64{"getcpu": 7, "getppid": 11, "personality": 5, "execve": 2} {
		if got := logCount(t, obs, name); got != want {
			t.Errorf("%s counted %d times, want %d", name, got, want)
		}
	}
	for _, name := range []string{"clone", "wait4", "exit_group"} {
		if logCount(t, obs, name) == 0 && !(name == "clone" && logCount(t, obs, "clone3") > 0) {
			t.Errorf("%s not recorded", name)
		}
	}
	if obs.Lost != 0 {
		t.Errorf("lost %d: %q", obs.Lost, obs.Notes)
	}
}

// TestLogIgnoresOtherProcesses: two recordings run at once, while a third
// process logs the same calls under a filter of its own; each recording
// counts its own target's calls only.
func TestLogIgnoresOtherProcesses(t *testing.T) {
	bin := workload.Build(t, "manycalls")
	counts := []int{100000, 60000}
	noise := exec.Command("/proc/self/exe")
	noise.Env = append(os.Environ(), noiseEnv+"=150000")
	noise.Stderr = os.Stderr
	if err := noise.Start(); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	obs := make([]*Observations, len(counts))
	for i, n := range counts {
		l := newTestLog(t, LogOptions{})
		wg.Add(1)
		go func() {
			defer wg.Done()
			obs[i] = runLog(t, l, bin, strconv.Itoa(n))
		}()
	}
	wg.Wait()
	if err := noise.Wait(); err != nil {
		t.Fatalf("noise process: %v", err)
	}
	for i, n := range counts {
		if obs[i] == nil {
			continue // runLog failed the test already
		}
		if got := logCount(t, obs[i], "getppid"); got != uint64(n) {
			t.Errorf("recording %d: getppid counted %d times, want %d", i, got, n)
		}
		if got := logCount(t, obs[i], "personality"); got != 1 {
			t.Errorf("recording %d: personality counted %d times, want 1", i, got)
		}
		if obs[i].Lost != 0 {
			t.Errorf("recording %d: lost %d: %q", i, obs[i].Lost, obs[i].Notes)
		}
	}
}

// TestLogBaseFilter: with a caller's filter, only what it logs is recorded.
func TestLogBaseFilter(t *testing.T) {
	bin := workload.Build(t, "manycalls")
	prog := logOnly(t, "personality", "exit_group")
	l := newTestLog(t, LogOptions{Filter: prog})
	obs := runLog(t, l, bin, "1000")
	if len(obs.Counts) != 2 || logCount(t, obs, "personality") != 1 || logCount(t, obs, "exit_group") != 1 {
		t.Errorf("counts %v, want personality and exit_group once", obs.Counts)
	}
	if obs.Lost != 0 || len(obs.Notes) != 0 {
		t.Errorf("lost %d, notes %q", obs.Lost, obs.Notes)
	}
}

// logOnly compiles a filter that logs the named syscalls and allows the
// rest, as a base profile's filter does.
func logOnly(t *testing.T, names ...string) []byte {
	t.Helper()
	f, err := seccomp.NewFilter(seccomp.ActAllow)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Release()
	for _, name := range names {
		sc, err := seccomp.GetSyscallFromName(name)
		if err != nil {
			t.Fatal(err)
		}
		if err := f.AddRule(sc, seccomp.ActLog); err != nil {
			t.Fatal(err)
		}
	}
	prog, err := filter.Program(f)
	if err != nil {
		t.Fatal(err)
	}
	return prog
}

// TestLogLauncherExecFails: a target that cannot be executed fails Start
// with the launcher's reason.
func TestLogLauncherExecFails(t *testing.T) {
	notExec := t.TempDir() + "/not-executable"
	if err := os.WriteFile(notExec, []byte("data"), 0o644); err != nil {
		t.Fatal(err)
	}
	l := newTestLog(t, LogOptions{})
	cmd := exec.Command(notExec)
	if err := l.Prepare(&Target{Cmd: cmd}); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	err := l.Start(cmd.Process.Pid)
	werr := cmd.Wait()
	if err == nil || !strings.Contains(err.Error(), "permission denied") {
		t.Errorf("Start: %v, want the exec error", err)
	}
	var ee *exec.ExitError
	if !errors.As(werr, &ee) || ee.ExitCode() != launcherExitCode {
		t.Errorf("launcher exit: %v, want status %d", werr, launcherExitCode)
	}
}

// TestLogNoAuditRead: without CAP_AUDIT_READ, NewLog fails with
// ErrNotSupported and names the capability (checked in a child that drops
// it).
func TestLogNoAuditRead(t *testing.T) {
	cmd := exec.Command("/proc/self/exe")
	cmd.Env = append(os.Environ(), noCapEnv+"=1")
	out, err := cmd.CombinedOutput()
	if err != nil {
		t.Fatalf("child: %v: %s", err, out)
	}
	if !strings.Contains(string(out), "CAP_AUDIT_READ") {
		t.Errorf("error %q does not name CAP_AUDIT_READ", out)
	}
}

func TestAuditErrorMapping(t *testing.T) {
	err := auditError(fmt.Errorf("join: %w", &Unsupported{Feature: "reading audit records needs CAP_AUDIT_READ", Err: unix.EPERM}))
	var u *Unsupported
	if !errors.Is(err, ErrNotSupported) || !errors.As(err, &u) || !errors.Is(err, unix.EPERM) || !strings.HasPrefix(err.Error(), "log backend: ") {
		t.Errorf("unavailable: %v", err)
	}
	if err := auditError(unix.EMFILE); errors.Is(err, ErrNotSupported) || !errors.Is(err, unix.EMFILE) {
		t.Errorf("EMFILE: %v", err)
	}
}

// TestLogAttribution feeds records to the backend by hand: the launcher's
// own calls before its execve are dropped, records of other sessions are
// ignored, calls of another ABI are counted in a note, and without a
// session the target's cgroup decides.
func TestLogAttribution(t *testing.T) {
	l := newTestLog(t, LogOptions{})
	native, _ := abi.Native()
	arch, _ := native.Audit()
	execve, getppid := int64(testenv.SyscallNumber(t, "execve")), int64(testenv.SyscallNumber(t, "getppid"))
	const ses, launcher = 4242, 1000001
	if err := l.attribute(launcher, launcherSes, strconv.Itoa(ses)); err != nil {
		t.Fatal(err)
	}
	recs := []audit.Record{
		{Ses: ses, Pid: launcher, Arch: arch, Syscall: getppid, Comm: launcherComm},        // launcher, before exec: dropped
		{Ses: ses, Pid: launcher, Arch: arch, Syscall: execve, Comm: launcherComm},         // the exec: counted
		{Ses: ses, Pid: launcher, Arch: arch, Syscall: getppid},                            // target
		{Ses: ses, Pid: launcher + 1, Arch: arch, Syscall: getppid},                        // target's child
		{Ses: ses + 1, Pid: launcher + 2, Arch: arch, Syscall: getppid},                    // another session
		{Ses: ses, Pid: launcher, Arch: unix.AUDIT_ARCH_I386, Syscall: 20, Compat: true},   // compat
		{Ses: ses, Pid: launcher, Arch: unix.AUDIT_ARCH_X86_64, Syscall: 0x40000000 + 39},  // x32
		{Ses: ses, Pid: os.Getpid(), Arch: arch, Syscall: getppid, Comm: "not-the-marker"}, // profgen itself
	}
	for _, r := range recs {
		l.take(r)
	}
	l.mu.Lock()
	got := map[Key]uint64{}
	for k, v := range l.counts {
		got[k] = v
	}
	foreign := len(l.foreign)
	l.mu.Unlock()
	want := map[Key]uint64{{Nr: uint32(execve)}: 1, {Nr: uint32(getppid)}: 2}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("counts %v, want %v", got, want)
	}
	if native == "amd64" && foreign != 2 {
		t.Errorf("%d foreign ABIs, want 2 (i386 compat, x32)", foreign)
	}
	obs, err := l.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(strings.Join(obs.Notes, "\n"), "other than the native one") {
		t.Errorf("notes %q do not mention the foreign calls", obs.Notes)
	}
	if obs.Lost != 0 {
		t.Errorf("lost %d", obs.Lost)
	}
}

// TestLogCgroupFallback: without a session, records are taken by the pid's
// cgroup; records of pids already gone are counted as lost.
func TestLogCgroupFallback(t *testing.T) {
	l := newTestLog(t, LogOptions{})
	if err := l.attribute(1, launcherNoSession, "test"); err == nil || !errors.Is(err, ErrNotSupported) {
		t.Errorf("no session and no cgroup: %v, want ErrNotSupported", err)
	}
	cg, err := cgroup.New()
	if err != nil {
		t.Fatal(err)
	}
	defer cg.Close()
	in := exec.Command("sleep", "60")
	in.SysProcAttr = &syscall.SysProcAttr{UseCgroupFD: true, CgroupFD: cg.FD()}
	out := exec.Command("sleep", "60")
	for _, c := range []*exec.Cmd{in, out} {
		if err := c.Start(); err != nil {
			t.Fatal(err)
		}
		defer func() { c.Process.Kill(); c.Wait() }()
	}
	l.cgroup = cg
	if err := l.attribute(in.Process.Pid, launcherNoSession, "test"); err != nil {
		t.Fatal(err)
	}
	native, _ := abi.Native()
	arch, _ := native.Audit()
	getppid := int64(testenv.SyscallNumber(t, "getppid"))
	gone := exec.Command("true")
	if err := gone.Run(); err != nil {
		t.Fatal(err)
	}
	for _, pid := range []int{in.Process.Pid, out.Process.Pid, gone.Process.Pid, in.Process.Pid} {
		l.take(audit.Record{Pid: pid, Ses: audit.SessionUnset, Arch: arch, Syscall: getppid})
	}
	obs, err := l.Collect()
	if err != nil {
		t.Fatal(err)
	}
	if got := obs.Counts[Key{Nr: uint32(getppid)}]; got != 2 {
		t.Errorf("getppid %d, want 2 (the pid in the cgroup, twice)", got)
	}
	if obs.Lost != 1 {
		t.Errorf("lost %d, want 1 (the record of a pid gone)", obs.Lost)
	}
	if !strings.Contains(strings.Join(obs.Notes, "\n"), "cgroup") {
		t.Errorf("notes %q do not say how records were attributed", obs.Notes)
	}
}

// TestRecordLog records through Record: the recording says which backend
// and scope made it, and that it has no argument shapes.
func TestRecordLog(t *testing.T) {
	bin := workload.Build(t, "manycalls")
	res := record(t, Options{Command: []string{bin, "5000"}, Backend: newTestLog(t, LogOptions{})})
	r := res.Recording
	if r.Backend != recording.BackendLog || r.Scope != recording.ScopeSeccomp || r.ArgShapes || r.Lost != 0 {
		t.Errorf("backend %q scope %q argShapes %v lost %d", r.Backend, r.Scope, r.ArgShapes, r.Lost)
	}
	if got := count(t, r, "getppid"); got != 5000 {
		t.Errorf("getppid %d, want 5000", got)
	}
	if got := count(t, r, "personality"); got != 1 {
		t.Errorf("personality %d, want 1", got)
	}
	if res.ExitCode != 0 || r.Command[0] != bin {
		t.Errorf("exit %d, command %q", res.ExitCode, r.Command)
	}
	if r.Lookup("dup3") != nil {
		t.Error("dup3 recorded: the launcher's or Go's fork-exec calls were counted")
	}
}

// TestLogMatchesEBPF: on the repository's deterministic workloads the log
// and eBPF backends record the same syscall set.
func TestLogMatchesEBPF(t *testing.T) {
	dir := t.TempDir()
	for _, w := range []struct {
		name string
		argv []string
	}{
		{"manycalls", []string{workload.Build(t, "manycalls"), "100"}},
		{"threads", []string{workload.Build(t, "multiproc/threads.c"), "3"}},
		{"pipeline", []string{workload.Path(t, "multiproc/pipeline.sh")}},
		{"cfiletcp", []string{workload.Build(t, "cfiletcp"), dir}},
		{"argshapes", []string{workload.Build(t, "argshapes")}},
	} {
		t.Run(w.name, func(t *testing.T) {
			set := func(b Backend) map[string]bool {
				res := record(t, Options{Command: w.argv, Backend: b})
				if res.Recording.Lost != 0 {
					t.Errorf("%s: lost %d", b.Name(), res.Recording.Lost)
				}
				s := map[string]bool{}
				for _, sc := range res.Recording.Syscalls {
					s[sc.Name] = true
				}
				return s
			}
			logSet := set(newTestLog(t, LogOptions{}))
			ebpfSet := set(newTestEBPF(t, EBPFOptions{}))
			for name := range logSet {
				if !ebpfSet[name] {
					t.Errorf("%s recorded by the log backend only", name)
				}
			}
			for name := range ebpfSet {
				if !logSet[name] {
					t.Errorf("%s recorded by the eBPF backend only", name)
				}
			}
		})
	}
}

// newSessionSrc forks a child that starts an audit session of its own, as
// pam_loginuid does in a login daemon, and then calls getcpu 3 times.
const newSessionSrc = `
#include <fcntl.h>
#include <unistd.h>
#include <sys/syscall.h>
#include <sys/wait.h>

int main(void) {
	pid_t pid = fork();
	if (pid == 0) {
		int fd = open("/proc/self/loginuid", O_WRONLY);
		if (fd < 0 || write(fd, "0", 1) != 1)
			_exit(1);
		close(fd);
		for (int i = 0; i < 3; i++)
			syscall(SYS_getcpu, 0, 0, 0);
		_exit(0);
	}
	int status;
	if (waitpid(pid, &status, 0) != pid || !WIFEXITED(status) || WEXITSTATUS(status) != 0)
		return 1;
	return 0;
}
`

// TestLogTargetNewSession: a process of the target that makes its own audit
// session is still recorded, by its cgroup.
func TestLogTargetNewSession(t *testing.T) {
	bin := buildC(t, "newsession", newSessionSrc)
	l := newTestLog(t, LogOptions{})
	obs := runLog(t, l, bin)
	if got := logCount(t, obs, "getcpu"); got != 3 {
		t.Errorf("getcpu counted %d times, want 3", got)
	}
	if !strings.Contains(strings.Join(obs.Notes, "\n"), "session of their own") {
		t.Errorf("notes %q do not mention the new session", obs.Notes)
	}
	if obs.Lost != 0 {
		t.Errorf("lost %d", obs.Lost)
	}
}

// TestLogLossIsReported: with a receive buffer far too small, records are
// lost, and the loss reported covers every call that is missing.
func TestLogLossIsReported(t *testing.T) {
	const n = 200000
	bin := workload.Build(t, "manycalls")
	l := newTestLog(t, LogOptions{RcvBuf: 64 << 10})
	// Keep the reader from keeping up: hold its lock for a while.
	stall := make(chan struct{})
	go func() {
		for l.Events() < 1000 {
			time.Sleep(time.Millisecond)
		}
		l.mu.Lock()
		time.Sleep(200 * time.Millisecond)
		l.mu.Unlock()
		close(stall)
	}()
	obs := runLog(t, l, bin, strconv.Itoa(n))
	<-stall
	got := logCount(t, obs, "getppid")
	t.Logf("getppid %d of %d, lost %d, notes %q", got, n, obs.Lost, obs.Notes)
	if obs.Lost == 0 {
		t.Fatalf("nothing reported lost with a 64 KiB buffer and a stalled reader (got %d of %d)", got, n)
	}
	if got+obs.Lost < n {
		t.Errorf("getppid %d + lost %d < %d calls made: the loss is under-reported", got, obs.Lost, n)
	}
	if !strings.Contains(strings.Join(obs.Notes, "\n"), "overflowed") {
		t.Errorf("notes %q do not explain the loss", obs.Notes)
	}
}
