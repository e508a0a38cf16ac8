package replay

import (
	"bufio"
	"bytes"
	"context"
	"errors"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"syscall"
	"testing"

	"github.com/profgen/profgen/internal/testenv"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/trace"
)

// freePort returns a loopback TCP port nothing listens on.
func freePort(t *testing.T) int {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer l.Close()
	return l.Addr().(*net.TCPAddr).Port
}

// straceNames runs command under strace -f while drive runs (after the
// server accepts connections on addr), stops the server with SIGTERM (its
// pid read from pidFile, which the command writes) and returns the names
// of the syscalls strace saw, sorted.
func straceNames(t *testing.T, command []string, pidFile, addr, drive string) []string {
	t.Helper()
	out := filepath.Join(t.TempDir(), "strace.out")
	cmd := exec.Command("strace", append([]string{"-f", "-qq", "-o", out, "--"}, command...)...)
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatalf("strace (scripts/deps.sh installs it): %v", err)
	}
	defer cmd.Process.Kill()
	ready := false
	for i := 0; i < 500 && !ready; i++ {
		if c, err := net.Dial("tcp", addr); err == nil {
			c.Close()
			ready = true
		} else {
			exec.Command("sleep", "0.02").Run()
		}
	}
	if !ready {
		cmd.Process.Kill()
		t.Fatalf("the server under strace never listened on %s: %s", addr, stderr.String())
	}
	if msg, err := exec.Command("sh", "-c", drive).CombinedOutput(); err != nil {
		t.Fatalf("drive under strace: %v\n%s", err, msg)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	var pid int
	if _, err := fmt.Sscan(string(data), &pid); err != nil {
		t.Fatalf("pid file %s: %q", pidFile, data)
	}
	if err := syscall.Kill(pid, syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := cmd.Wait(); err != nil {
		t.Logf("strace: %v: %s", err, stderr.String())
	}
	f, err := os.Open(out)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	// "PID name(args) = ret", "PID <... name resumed>", "PID +++ exited".
	call := regexp.MustCompile(`^\d+\s+([a-z0-9_]+)\(`)
	resumed := regexp.MustCompile(`^\d+\s+<\.\.\. ([a-z0-9_]+) resumed>`)
	var names []string
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 1<<20)
	for sc.Scan() {
		m := call.FindStringSubmatch(sc.Text())
		if m == nil {
			m = resumed.FindStringSubmatch(sc.Text())
		}
		if m != nil && !slices.Contains(names, m[1]) {
			names = append(names, m[1])
		}
	}
	slices.Sort(names)
	return names
}

// TestNoNewPrivilegesServer: for memcached from Debian, driven by a
// set/get over TCP, the profile emit --runtime runc --no-new-privileges
// learns allows at most 10 syscalls more than strace -f sees for the same
// drive, and memcached runs under it in runc with noNewPrivileges true
// with no denial and the drive succeeding.
func TestNoNewPrivilegesServer(t *testing.T) {
	bin, err := exec.LookPath("memcached")
	if err != nil {
		t.Fatalf("memcached (Debian's memcached package; scripts/deps.sh installs it): %v", err)
	}
	port := freePort(t)
	addr := fmt.Sprintf("127.0.0.1:%d", port)
	pidFile := filepath.Join(t.TempDir(), "memcached.pid")
	command := []string{bin, "-u", "root", "-l", "127.0.0.1", "-p", fmt.Sprint(port), "-U", "0", "-t", "1"}
	// bash's /dev/tcp: a set, a get whose value must come back, quit.
	drive := fmt.Sprintf(`out=$(bash -c 'exec 3<>/dev/tcp/127.0.0.1/%d; printf "set k 0 0 5\r\nhello\r\nget k\r\nquit\r\n" >&3; cat <&3'); case "$out" in *"VALUE k 0 5"*hello*) exit 0;; esac; echo "memcached said: $out" >&2; exit 1`, port)

	backend, err := trace.NewEBPF(trace.EBPFOptions{})
	if errors.Is(err, trace.ErrNotSupported) {
		testenv.EBPFUnsupported(t, err)
	}
	if err != nil {
		t.Fatal(err)
	}
	defer backend.Close()
	res, err := trace.Record(context.Background(), trace.Options{
		Command: command, Backend: backend, Drive: drive, Ready: "tcp:" + addr, Stderr: os.Stderr, Tool: "profgen test",
	})
	if err != nil {
		t.Fatal(err)
	}
	p, err := learn.FromRecording(res.Recording, learn.Options{Runtime: learn.LoaderRunc, NoNewPrivileges: true})
	if err != nil {
		t.Fatal(err)
	}
	// Entries of the environment classes (learn.OriginEnvironment) are
	// added on purpose for runs this one is not (docs/arguments.md): they
	// are counted apart, not as what the recording widened.
	var allowed, environment []string
	for _, s := range p.Syscalls {
		switch {
		case s.Action != learn.Allow:
		case s.Origin == learn.OriginEnvironment:
			environment = append(environment, s.Name)
		default:
			allowed = append(allowed, s.Name)
		}
	}
	seen := straceNames(t, append(slices.Clone(command), "-P", pidFile), pidFile, addr, drive)
	if len(seen) < 20 || !slices.Contains(seen, "epoll_wait") && !slices.Contains(seen, "epoll_pwait") {
		t.Fatalf("strace -f saw only %v: not a run of the server", seen)
	}
	var extra []string
	for _, n := range allowed {
		if !slices.Contains(seen, n) {
			extra = append(extra, n)
		}
	}
	t.Logf("profile allows %d syscalls (and %d of the environment classes: %s), strace -f saw %d; allowed but not seen by strace: %s", len(allowed), len(environment), strings.Join(environment, " "), len(seen), strings.Join(extra, " "))
	if len(extra) > 10 {
		t.Errorf("the profile allows %d syscalls strace -f did not see (at most 10): %s", len(extra), strings.Join(extra, " "))
	}

	var out bytes.Buffer
	rep, err := Live(context.Background(), LiveOptions{
		Profile: p, Command: command, Runtime: RuntimeRunc, NoNewPrivileges: true,
		Drive: drive, Ready: "tcp:" + addr, Stdout: &out, Stderr: &out,
	})
	if err != nil {
		t.Fatalf("live replay in runc: %v\n%s", err, out.String())
	}
	if rep.ExitCode != 0 || len(rep.Violations) != 0 {
		t.Errorf("memcached in runc with noNewPrivileges true: drive exit %d, denied %+v, notes %q\n%s", rep.ExitCode, rep.Violations, rep.Notes, out.String())
	}
}
