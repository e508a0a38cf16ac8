package runc

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/moby/sys/capability"
	specs "github.com/opencontainers/runtime-spec/specs-go"

	"github.com/profgen/profgen/internal/abi"
)

func run(t *testing.T, opts BundleOptions) (int, string) {
	t.Helper()
	if _, err := Look(); err != nil {
		t.Skipf("needs runc: %v", err)
	}
	b, err := NewBundle(filepath.Join(t.TempDir(), "bundle"), opts)
	if err != nil {
		t.Fatal(err)
	}
	var out bytes.Buffer
	code, err := Run(context.Background(), b, NewID("profgen-test"), Stdio{Stdout: &out, Stderr: &out})
	if err != nil {
		t.Fatalf("run: %v (output: %s)", err, out.String())
	}
	return code, out.String()
}

func TestRunTrue(t *testing.T) {
	code, out := run(t, BundleOptions{Args: []string{"/bin/true"}})
	if code != 0 {
		t.Fatalf("/bin/true exited %d: %s", code, out)
	}
}

func TestRunExitCodeAndEnv(t *testing.T) {
	code, out := run(t, BundleOptions{
		Args: []string{"sh", "-c", `echo "$FOO $(pwd) $(cat /etc/hosts >/dev/null && echo hosts)"; exit 7`},
		Env:  []string{"FOO=bar"},
		Cwd:  "/tmp",
	})
	if code != 7 {
		t.Errorf("exit code %d, want 7 (output %q)", code, out)
	}
	if got := strings.TrimSpace(out); got != "bar /tmp hosts" {
		t.Errorf("output %q, want %q", got, "bar /tmp hosts")
	}
}

func TestRunBinds(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "data")
	if err := os.WriteFile(file, []byte("from the host\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	code, out := run(t, BundleOptions{Args: []string{"cat", file}, Binds: []Bind{{Source: dir, Destination: dir}}})
	if code != 0 || out != "from the host\n" {
		t.Errorf("cat %s in the container: exit %d, output %q", file, code, out)
	}
}

// A bind is read-only unless it says rw; a writable one writes through to
// the host, at another path inside the container.
func TestRunWritableBind(t *testing.T) {
	dir := t.TempDir()
	ro, err := ParseBind(dir + ":/data")
	if err != nil {
		t.Fatal(err)
	}
	code, out := run(t, BundleOptions{Args: []string{"sh", "-c", "echo x > /data/f"}, Binds: []Bind{ro}})
	if code == 0 || !strings.Contains(out, "Read-only") {
		t.Errorf("writing into %v: exit %d, output %q; want a read-only file system error", ro, code, out)
	}
	rw, err := ParseBind(dir + ":/data:rw")
	if err != nil {
		t.Fatal(err)
	}
	code, out = run(t, BundleOptions{Args: []string{"sh", "-c", "echo written > /data/f"}, Binds: []Bind{rw}})
	if code != 0 {
		t.Fatalf("writing into %v: exit %d, output %q", rw, code, out)
	}
	if b, err := os.ReadFile(filepath.Join(dir, "f")); err != nil || string(b) != "written\n" {
		t.Errorf("the host's %s/f after the write: %q, %v", dir, b, err)
	}
}

func TestParseBind(t *testing.T) {
	cwd, _ := os.Getwd()
	for _, tc := range []struct {
		in   string
		want Bind
		err  string
	}{
		{in: "/a", want: Bind{Source: "/a", Destination: "/a"}},
		{in: "rel:/b", want: Bind{Source: filepath.Join(cwd, "rel"), Destination: "/b"}},
		{in: "/a:/b:ro", want: Bind{Source: "/a", Destination: "/b"}},
		{in: "/a:/b:rw", want: Bind{Source: "/a", Destination: "/b", Writable: true}},
		{in: "/a:/b:rx", err: `unknown mode "rx"`},
		{in: "/a:b", err: `the container path "b" is not absolute`},
		{in: "/a::rw", err: "want PATH, SRC:DST or SRC:DST:ro|rw"},
		{in: "/a:/b:rw:x", err: "want PATH, SRC:DST or SRC:DST:ro|rw"},
	} {
		got, err := ParseBind(tc.in)
		if tc.err != "" {
			if err == nil || !strings.Contains(err.Error(), tc.err) || strings.Contains(err.Error(), "\n") {
				t.Errorf("ParseBind(%q): %v, %v; want one line with %q", tc.in, got, err, tc.err)
			}
			continue
		}
		if err != nil || got != tc.want {
			t.Errorf("ParseBind(%q) = %+v, %v; want %+v", tc.in, got, err, tc.want)
		}
	}
}

// capMask is the capability bit mask of OCI names, as /proc/PID/status
// prints it.
func capMask(t *testing.T, names []string) uint64 {
	t.Helper()
	var m uint64
	for _, n := range names {
		found := false
		for _, c := range capability.ListKnown() {
			if capName(c) == n {
				m |= 1 << uint(c)
				found = true
			}
		}
		if !found {
			t.Fatalf("unknown capability %s", n)
		}
	}
	return m
}

// The container process holds Docker's default capabilities (enough for a
// server's setgid and setuid to an unprivileged user) and what
// --cap-add/--cap-drop change, in the bounding, effective and permitted
// sets, none inheritable.
func TestRunCapabilities(t *testing.T) {
	if len(DefaultCapabilities) != 14 {
		t.Errorf("DefaultCapabilities has %d entries, Docker's has 14: %v", len(DefaultCapabilities), DefaultCapabilities)
	}
	status := `grep -E '^Cap(Inh|Prm|Eff|Bnd):' /proc/self/status`
	for _, tc := range []struct {
		add, drop []string
		want      []string
	}{
		{want: DefaultCapabilities},
		{drop: []string{"setgid", "CAP_SETUID"}, add: []string{"Sys_Ptrace"},
			want: append(slices.DeleteFunc(slices.Clone(DefaultCapabilities), func(c string) bool { return c == "CAP_SETGID" || c == "CAP_SETUID" }), "CAP_SYS_PTRACE")},
		{drop: []string{"ALL"}, add: []string{"KILL"}, want: []string{"CAP_KILL"}},
	} {
		caps, err := Capabilities(tc.add, tc.drop)
		if err != nil {
			t.Fatal(err)
		}
		code, out := run(t, BundleOptions{Args: []string{"sh", "-c", status}, Capabilities: caps})
		if code != 0 {
			t.Fatalf("add %v drop %v: exit %d: %s", tc.add, tc.drop, code, out)
		}
		want := capMask(t, tc.want)
		for _, line := range strings.Split(strings.TrimSpace(out), "\n") {
			name, hex, _ := strings.Cut(line, ":")
			got, err := strconv.ParseUint(strings.TrimSpace(hex), 16, 64)
			if err != nil {
				t.Fatalf("%q: %v", line, err)
			}
			w := want
			if name == "CapInh" {
				w = 0
			}
			if got != w {
				t.Errorf("add %v drop %v: %s %#x, want %#x", tc.add, tc.drop, name, got, w)
			}
		}
	}
	// setgid(65534) as a server does before serving: EPERM without
	// CAP_SETGID.
	for _, tc := range []struct {
		drop []string
		ok   bool
	}{{nil, true}, {[]string{"SETGID"}, false}} {
		caps, err := Capabilities(nil, tc.drop)
		if err != nil {
			t.Fatal(err)
		}
		code, out := run(t, BundleOptions{Args: []string{"setpriv", "--regid", "65534", "--clear-groups", "true"}, Capabilities: caps})
		if (code == 0) != tc.ok {
			t.Errorf("setpriv --regid 65534 with --cap-drop %v: exit %d (%s)", tc.drop, code, out)
		}
	}
}

func TestCapabilitiesBadName(t *testing.T) {
	for _, tc := range []struct{ add, drop []string }{{add: []string{"NET_ADMIN", "FLY"}}, {drop: []string{"CAP_FLY"}}} {
		_, err := Capabilities(tc.add, tc.drop)
		if err == nil || !strings.Contains(err.Error(), "FLY") || strings.Contains(err.Error(), "\n") {
			t.Errorf("Capabilities(%v, %v): %v; want one line naming FLY", tc.add, tc.drop, err)
		}
	}
	all, err := Capabilities([]string{"all"}, []string{"net_raw"})
	if err != nil || slices.Contains(all, "CAP_NET_RAW") || !slices.Contains(all, "CAP_SYS_ADMIN") {
		t.Errorf("--cap-add all --cap-drop net_raw: %v, %v", all, err)
	}
}

// A profile that allows nothing useful stops the container from starting,
// with and without no_new_privs; the same profile with an allowing default
// runs it (so the failure is the profile's doing).
func TestRunSeccompDenies(t *testing.T) {
	arch, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	profile := func(def specs.LinuxSeccompAction) *specs.LinuxSeccomp {
		return &specs.LinuxSeccomp{
			DefaultAction: def,
			Architectures: []specs.Arch{specs.Arch(arch.OCI())},
			Syscalls:      []specs.LinuxSyscall{{Names: []string{"getpid"}, Action: specs.ActAllow}},
		}
	}
	for _, nnp := range []bool{true, false} {
		code, out := run(t, BundleOptions{Args: []string{"/bin/true"}, NoNewPrivileges: nnp, Seccomp: profile(specs.ActErrno)})
		if code == 0 {
			t.Errorf("nnp=%v: /bin/true ran under a profile allowing only getpid: %s", nnp, out)
		}
		code, out = run(t, BundleOptions{Args: []string{"/bin/true"}, NoNewPrivileges: nnp, Seccomp: profile(specs.ActAllow)})
		if code != 0 {
			t.Errorf("nnp=%v: /bin/true under an allow-all profile exited %d: %s", nnp, code, out)
		}
	}
}

// Cancelling the context kills the container and deletes it.
func TestRunCancel(t *testing.T) {
	b, err := NewBundle(filepath.Join(t.TempDir(), "bundle"), BundleOptions{Args: []string{"sleep", "600"}})
	if err != nil {
		t.Fatal(err)
	}
	id := NewID("profgen-test")
	c, err := Start(b, id, Options{})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	if _, err := c.Wait(ctx); !errors.Is(err, context.Canceled) {
		t.Errorf("Wait after cancel: %v, want context.Canceled", err)
	}
	out, _ := exec.Command(Binary, "state", id).CombinedOutput()
	if !strings.Contains(string(out), "does not exist") {
		t.Errorf("container %s still exists after Wait: %s", id, out)
	}
}

// With NewAuditSession, runc and the container run in a fresh audit
// session, reported before runc starts and seen by the container.
func TestRunAuditSession(t *testing.T) {
	b, err := NewBundle(filepath.Join(t.TempDir(), "bundle"), BundleOptions{Args: []string{"cat", "/proc/self/sessionid"}})
	if err != nil {
		t.Fatal(err)
	}
	var reported uint32
	var out bytes.Buffer
	c, err := Start(b, NewID("profgen-test"), Options{
		Stdio:           Stdio{Stdout: &out, Stderr: &out},
		NewAuditSession: true,
		OnAuditSession:  func(ses uint32) { reported = ses },
	})
	if err != nil {
		t.Fatal(err)
	}
	if code, err := c.Wait(context.Background()); err != nil || code != 0 {
		t.Fatalf("exit %d, %v: %s", code, err, out.String())
	}
	// A thread of the test that was never given a session of its own.
	ownc := make(chan []byte)
	go func() {
		runtime.LockOSThread()
		defer runtime.UnlockOSThread()
		b, _ := os.ReadFile("/proc/thread-self/sessionid")
		ownc <- b
	}()
	own := <-ownc
	got := strings.TrimSpace(out.String())
	if len(own) == 0 {
		t.Fatal("cannot read the test's own audit session")
	}
	if c.Session == 0 || reported != c.Session || got != fmt.Sprint(c.Session) || got == strings.TrimSpace(string(own)) {
		t.Errorf("container session %q, Session %d, reported %d, test's own %s: want one fresh session", got, c.Session, reported, own)
	}
}
