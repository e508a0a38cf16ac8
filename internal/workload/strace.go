package workload

import (
	"bufio"
	"bytes"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/proc"
)

// StraceOption configures Strace and StartStrace.
type StraceOption func(*straceConfig)

type straceConfig struct {
	dir            string
	env            []string
	stdin          io.Reader
	stdout, stderr io.Writer
	traceFile      string
	args           []string
}

// WithDir runs the command in dir.
func WithDir(dir string) StraceOption { return func(c *straceConfig) { c.dir = dir } }

// WithEnv sets the command's environment (default: the test's).
func WithEnv(env []string) StraceOption { return func(c *straceConfig) { c.env = env } }

// WithStdin connects the command's standard input to r (default: none).
func WithStdin(r io.Reader) StraceOption { return func(c *straceConfig) { c.stdin = r } }

// WithStdout sends the command's standard output to w (default: discarded).
func WithStdout(w io.Writer) StraceOption { return func(c *straceConfig) { c.stdout = w } }

// WithStderr sends the command's standard error, and strace's own messages,
// to w (default: kept and included in the error when the run fails).
func WithStderr(w io.Writer) StraceOption { return func(c *straceConfig) { c.stderr = w } }

// WithTraceFile writes strace's raw output to path instead of a temporary
// file, so a test can keep it for inspection.
func WithTraceFile(path string) StraceOption { return func(c *straceConfig) { c.traceFile = path } }

// WithStraceArgs passes more options to strace, before the command (for
// example -y and -e trace=%file to read what the calls accessed from the
// trace file).
func WithStraceArgs(args ...string) StraceOption {
	return func(c *straceConfig) { c.args = append(c.args, args...) }
}

// Strace runs argv under `strace -f -qq` and returns how many times each
// system call was entered by the process and every thread and descendant
// process, by the name strace prints (on x86_64 these are the names
// libseccomp uses, see ParseStrace). It waits until every traced process has
// exited, daemonised descendants included.
//
// The first call counted is the target's own execve. If the command exits
// non-zero the counts are still returned, with an error wrapping the
// *exec.ExitError (strace exits with the target's status, or dies of the same
// signal). A missing strace binary fails the test.
func Strace(t testing.TB, argv []string, opts ...StraceOption) (map[string]int, error) {
	t.Helper()
	run, err := StartStrace(t, argv, opts...)
	if err != nil {
		return nil, err
	}
	return run.Wait()
}

// StraceRun is a command started under strace by StartStrace.
type StraceRun struct {
	cmd       *exec.Cmd
	traceFile string
	stderr    *bytes.Buffer // nil when the caller took stderr

	pidMu sync.Mutex
	pid   int // the traced command, once found

	exited   atomic.Bool // strace has been waited for
	waitOnce sync.Once
	counts   map[string]int
	err      error
}

// StartStrace starts argv under `strace -f -qq` and returns at once. Use
// TargetPID and Signal to reach the traced command (signals sent to strace
// itself only make it detach), and Wait for the counts. A run that is not
// waited for is killed and reaped when the test ends.
func StartStrace(t testing.TB, argv []string, opts ...StraceOption) (*StraceRun, error) {
	t.Helper()
	if len(argv) == 0 {
		return nil, errors.New("strace: no command")
	}
	strace, err := exec.LookPath("strace")
	if err != nil {
		t.Fatalf("strace: %v (install it: make deps)", err)
	}
	var c straceConfig
	for _, o := range opts {
		o(&c)
	}
	if c.traceFile == "" {
		c.traceFile = filepath.Join(t.TempDir(), "strace.out")
	}

	args := append(append([]string{"-f", "-qq"}, c.args...), "-o", c.traceFile, "--")
	args = append(args, argv...)
	cmd := exec.Command(strace, args...)
	cmd.Dir = c.dir
	cmd.Env = c.env
	cmd.Stdin = c.stdin
	cmd.Stdout = c.stdout
	r := &StraceRun{cmd: cmd, traceFile: c.traceFile}
	if c.stderr != nil {
		cmd.Stderr = c.stderr
	} else {
		r.stderr = new(bytes.Buffer)
		cmd.Stderr = r.stderr
	}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start strace: %w", err)
	}
	t.Cleanup(func() {
		if !r.exited.Load() {
			r.killAll()
			r.Wait()
		}
	})
	return r, nil
}

// TargetPID returns the process ID of the traced command: the strace child
// that executed argv. It waits for the command's execve, and fails if strace
// exits first. (strace forks short-lived children of its own to probe
// ptrace features, so its first child is not necessarily the command.)
func (r *StraceRun) TargetPID() (int, error) {
	r.pidMu.Lock()
	defer r.pidMu.Unlock()
	if r.pid != 0 {
		return r.pid, nil
	}
	spid := r.cmd.Process.Pid
	want := strings.Join(r.target(), "\x00") + "\x00"
	for {
		// The trace's first line ("PID  execve(...") names the command; it
		// is there even when the command has exited leaving a daemon.
		if pid := firstPID(r.traceFile); pid > 0 {
			r.pid = pid
			return pid, nil
		}
		// A child of strace whose command line is argv, once it has
		// executed.
		b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", spid, spid))
		if err != nil {
			return 0, fmt.Errorf("find the traced command: %w", err)
		}
		for _, f := range strings.Fields(string(b)) {
			cmdline, err := os.ReadFile("/proc/" + f + "/cmdline")
			if err == nil && string(cmdline) == want {
				r.pid, err = strconv.Atoi(f)
				return r.pid, err
			}
		}
		if st, err := proc.ReadStat(spid); err != nil || st.State == 'Z' {
			return 0, errors.New("find the traced command: strace exited before starting it")
		}
		time.Sleep(time.Millisecond)
	}
}

// firstPID returns the PID on the first line of an strace -f trace file, or
// 0 when there is none yet.
func firstPID(path string) int {
	f, err := os.Open(path)
	if err != nil {
		return 0
	}
	defer f.Close()
	line, err := bufio.NewReader(f).ReadString('\n')
	if err != nil {
		return 0
	}
	field, _, _ := strings.Cut(line, " ")
	pid, _ := strconv.Atoi(field)
	return pid
}

// Signal sends sig to the traced command (not to strace).
func (r *StraceRun) Signal(sig syscall.Signal) error {
	pid, err := r.TargetPID()
	if err != nil {
		return err
	}
	if err := syscall.Kill(pid, sig); err != nil {
		return fmt.Errorf("signal traced process %d: %w", pid, err)
	}
	return nil
}

// killAll kills the traced command, strace's other children and strace.
func (r *StraceRun) killAll() {
	r.pidMu.Lock()
	if r.pid != 0 {
		syscall.Kill(r.pid, syscall.SIGKILL)
	}
	r.pidMu.Unlock()
	spid := r.cmd.Process.Pid
	if b, err := os.ReadFile(fmt.Sprintf("/proc/%d/task/%d/children", spid, spid)); err == nil {
		for _, f := range strings.Fields(string(b)) {
			if pid, err := strconv.Atoi(f); err == nil {
				syscall.Kill(pid, syscall.SIGKILL)
			}
		}
	}
	r.cmd.Process.Kill()
}

// Wait waits for strace, and so for every traced process, to exit, and
// returns the system call counts. See Strace for the errors.
func (r *StraceRun) Wait() (map[string]int, error) {
	r.waitOnce.Do(func() {
		runErr := r.cmd.Wait()
		r.exited.Store(true)
		f, err := os.Open(r.traceFile)
		if err != nil {
			r.err = fmt.Errorf("strace %s: read trace: %w (strace: %v)", r.cmd.Args[len(r.cmd.Args)-1], err, runErr)
			return
		}
		defer f.Close()
		r.counts, err = ParseStrace(f)
		if err != nil {
			r.err = fmt.Errorf("strace %s: %w", r.traceFile, err)
			return
		}
		if runErr != nil {
			msg := ""
			if r.stderr != nil {
				msg = ": " + strings.TrimSpace(r.stderr.String())
			}
			r.err = fmt.Errorf("strace -- %s: %w%s", strings.Join(r.target(), " "), runErr, msg)
		}
	})
	return r.counts, r.err
}

func (r *StraceRun) target() []string {
	for i, a := range r.cmd.Args {
		if a == "--" {
			return r.cmd.Args[i+1:]
		}
	}
	return r.cmd.Args
}

// ParseStrace reads the output of `strace -f` (with or without PID prefixes)
// and returns the number of times each system call was entered.
//
// A call interrupted by another process's line appears as
// "name(... <unfinished ...>" and later "<... name resumed>...": it is counted
// once, at the first. Signal lines ("--- SIGCHLD ... ---"), exit lines
// ("+++ exited with 0 +++") and strace's notes ("[ Process ... ]") are not
// calls and are ignored, and so is "???(": a thread that another thread's
// exit_group killed in the middle of entering a call, before strace could read
// its number (the call never runs). restart_syscall is counted: it is a real
// system call the kernel and seccomp see. Any other line is an error.
//
// Several threads may each enter exit_group when a multithreaded program
// ends (Go programs do): each entry is counted.
//
// Names are as strace prints them. On x86_64, strace 6.1 uses the kernel's
// names, which are also libseccomp's (newfstatat, pread64, prlimit64, clone3,
// rt_sigaction, ...). A system call strace does not know is printed as
// "syscall_0xNNN"; ParseStrace returns it under libseccomp's name for that
// number on the native architecture when libseccomp knows one (strace 6.1
// prints syscall_0x1c3..syscall_0x1c8 for cachestat, fchmodat2,
// map_shadow_stack, futex_wake, futex_wait and futex_requeue, which
// libseccomp 2.5.4 names), and under "syscall_0xNNN" otherwise. Lines whose
// number is 1024 or above are dropped: no native system call on the
// architectures profgen supports is numbered that high, and strace 6.1
// occasionally prints one for a thread of a Go program whose state it lost
// track of (the "number" seen was a thread ID).
func ParseStrace(r io.Reader) (map[string]int, error) {
	counts := make(map[string]int)
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 0, 64<<10), 16<<20)
	for lineNo := 1; sc.Scan(); lineNo++ {
		line := sc.Text()
		rest := strings.TrimLeft(line, " ")
		// Optional PID prefix (strace -f writes "PID  " before each line).
		if i := strings.IndexFunc(rest, func(r rune) bool { return r < '0' || r > '9' }); i > 0 && rest[i] == ' ' {
			rest = strings.TrimLeft(rest[i:], " ")
		}
		switch {
		case rest == "":
			continue
		case strings.HasPrefix(rest, "<..."), // resumed
			strings.HasPrefix(rest, "---"),  // signal
			strings.HasPrefix(rest, "+++"),  // exit
			strings.HasPrefix(rest, "["),    // strace note
			strings.HasPrefix(rest, "???("): // number unknown: thread dying
			continue
		}
		name, ok := callName(rest)
		if !ok {
			return counts, fmt.Errorf("line %d: not a system call: %q", lineNo, line)
		}
		name, ok = resolveUnknown(name)
		if !ok {
			continue
		}
		counts[name]++
	}
	if err := sc.Err(); err != nil {
		return counts, fmt.Errorf("read strace output: %w", err)
	}
	return counts, nil
}

// resolveUnknown maps strace's "syscall_0xNNN" to libseccomp's name for
// that number, keeps it when libseccomp has none, and reports false for a
// number too large to be a native system call. Other names pass unchanged.
func resolveUnknown(name string) (string, bool) {
	hex, ok := strings.CutPrefix(name, "syscall_0x")
	if !ok {
		return name, true
	}
	n, err := strconv.ParseUint(hex, 16, 64)
	if err != nil || n >= 1024 {
		return "", false
	}
	if arch, err := abi.Native(); err == nil {
		if s, err := abi.SyscallName(arch, int(n)); err == nil {
			return s, true
		}
	}
	return name, true
}

// callName returns the name in "name(...": lower-case letters, digits and
// underscores followed by an opening parenthesis.
func callName(s string) (string, bool) {
	i := strings.IndexByte(s, '(')
	if i <= 0 {
		return "", false
	}
	for _, r := range s[:i] {
		if !(r >= 'a' && r <= 'z' || r >= '0' && r <= '9' || r == '_') {
			return "", false
		}
	}
	return s[:i], true
}
