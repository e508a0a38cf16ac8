package emit_test

import (
	"bytes"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/learn"
)

// servingC is the C program of TestCEnterServing: a thread started before
// the filter waits on a pipe; main loads the filter, execs a missing file
// (ENOENT: allowed), enters serving, and reports getpgid, execve, and the
// thread's execve (TSYNC: the serving filter covers it too).
const servingC = `#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <unistd.h>

int profgen_load_filter(void);
int profgen_enter_serving(void);

static int fds[2], started[2];

static void report(const char *name, long rc)
{
	printf("%s %d\n", name, rc < 0 ? errno : 0);
	fflush(stdout);
}

static long exec_missing(void)
{
	char *argv[] = { "x", NULL };
	return syscall(SYS_execve, "/nonexistent/profgen", argv, NULL);
}

static void *thread(void *arg)
{
	char c;
	long rc;

	(void)arg;
	if (write(started[1], "x", 1) != 1 || read(fds[0], &c, 1) != 1)
		return NULL;
	rc = exec_missing();
	return (void *)(rc < 0 ? (long)errno : 0L);
}

int main(void)
{
	pthread_t t;
	void *ret;
	char c;
	int rc;

	/* The thread runs (glibc has set it up) before the filter. */
	if (pipe(fds) < 0 || pipe(started) < 0 || pthread_create(&t, NULL, thread, NULL) != 0 ||
	    read(started[0], &c, 1) != 1)
		return 1;
	rc = profgen_load_filter();
	if (rc < 0) {
		fprintf(stderr, "load: %s\n", strerror(-rc));
		return 1;
	}
	report("execve-startup", exec_missing());
	rc = profgen_enter_serving();
	if (rc < 0) {
		fprintf(stderr, "enter serving: %s\n", strerror(-rc));
		return 1;
	}
	report("getpgid", syscall(SYS_getpgid, 0));
	report("execve", exec_missing());
	if (write(fds[1], "x", 1) != 1 || pthread_join(t, &ret) != 0)
		return 1;
	printf("execve-thread %ld\n", (long)ret);
	return 0;
}
`

// servingProfiles are the full and the serving profile of the serving
// tests: what the test programs call once the filter is loaded (calls),
// with execve, getpgid and the seccomp call that stacks the serving
// filter in the full one, and getpgid but no execve in the serving one.
func servingProfiles(t *testing.T, calls []string) (full, serving *learn.Profile) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("the test profiles are for amd64; this machine is %s", runtime.GOARCH)
	}
	add := func(p *learn.Profile, s learn.Syscall) {
		t.Helper()
		if err := p.Add(s); err != nil {
			t.Fatal(err)
		}
	}
	full = &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1}
	serving = &learn.Profile{Arch: "amd64", DefaultAction: learn.ErrnoEPERM, Inputs: 1}
	for _, name := range append(calls, "getpgid") {
		s := learn.Syscall{Name: name, Action: learn.Allow, Seen: 1, Origin: learn.OriginRecorded}
		add(full, s)
		add(serving, s)
	}
	add(full, learn.Syscall{Name: "execve", Action: learn.Allow, Seen: 1, Origin: learn.OriginRecorded})
	add(full, learn.Syscall{Name: "seccomp", Action: learn.Allow, Origin: learn.OriginRuntime,
		Rules: []learn.Rule{{learn.MaskedEqual{Mask: 0xffffffff, Value: unix.SECCOMP_SET_MODE_FILTER}}}})
	return full, serving
}

// cServingCalls are what servingC calls once the filter is loaded: stdio,
// the pipe, joining the thread, exiting.
var cServingCalls = []string{"write", "read", "newfstatat", "fstat", "brk", "mmap", "munmap",
	"futex", "exit", "exit_group", "madvise", "rt_sigprocmask"}

// TestCEnterServing: with Options.Serving, the C output's
// profgen_enter_serving stacks the serving filter on the one
// profgen_load_filter loaded: execve, which the full profile allows
// (ENOENT for a missing file), is then denied with EPERM, on the calling
// thread and on one started before either filter, while getpgid, which
// both allow, works. A full profile that does not let seccomp through is
// refused, and without Serving there is no profgen_enter_serving.
func TestCEnterServing(t *testing.T) {
	full, serving := servingProfiles(t, cServingCalls)
	opts := testOpts
	opts.Serving = serving
	// serving lacks seccomp: as the full profile it is refused.
	if err := emit.WriteC(&bytes.Buffer{}, serving, opts); err == nil || !strings.Contains(err.Error(), "profgen_enter_serving needs the profile to allow seccomp(SECCOMP_SET_MODE_FILTER)") {
		t.Errorf("a full profile without seccomp: %v", err)
	}
	if plain := write(t, "c", full, testOpts); bytes.Contains(plain, []byte("profgen_enter_serving")) {
		t.Error("profgen_enter_serving without Options.Serving")
	}
	src := write(t, "c", full, opts)
	dir := t.TempDir()
	for name, data := range map[string][]byte{"profile.c": src, "main.c": []byte(servingC)} {
		if err := os.WriteFile(filepath.Join(dir, name), data, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	if d := os.Getenv("H2B_KEEP"); d != "" {
		dir = d
	}
	bin := filepath.Join(dir, "server")
	run(t, dir, "cc", "-Wall", "-Wextra", "-Werror", "-pthread", "-o", bin, "main.c", "profile.c", "-lseccomp")
	checkProbe(t, "C program after profgen_enter_serving", run(t, dir, bin), map[string]unix.Errno{
		"execve-startup": unix.ENOENT, "getpgid": 0, "execve": unix.EPERM, "execve-thread": unix.EPERM,
	})
}

// goLibseccompServing is the main package of TestGoLibseccompEnterServing.
var goLibseccompServing = strings.Replace(goServingProgram, "seccompprofile.Install()", "seccompprofile.LoadFilter()", 1)

// TestGoLibseccompEnterServing: the go-libseccomp output's EnterServing
// builds the serving filter with libseccomp under the full one and stacks
// it: execve is denied after it, on every thread, getpgid still works.
func TestGoLibseccompEnterServing(t *testing.T) {
	full, serving := servingProfiles(t, goRuntimeCalls)
	opts := testOpts
	opts.Serving = serving
	src := write(t, "go-libseccomp", full, opts)
	if !bytes.Contains(src, []byte("func EnterServing() error")) || !bytes.Contains(src, []byte("var profgenServingRules")) {
		t.Fatalf("no EnterServing in:\n%s", src)
	}
	bin := buildGo(t, src, goLibseccompServing, "CGO_ENABLED=1")
	checkProbe(t, "Go program after EnterServing (libseccomp)", run(t, "", bin), map[string]unix.Errno{
		"execve-startup": unix.ENOENT, "getpgid": 0, "execve": unix.EPERM,
		"prctl-set-dumpable-thread": unix.EPERM,
	})
}
