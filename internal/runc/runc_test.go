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
	"strings"
	"testing"

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
	code, out := run(t, BundleOptions{Args: []string{"cat", file}, Binds: []string{dir}})
	if code != 0 || out != "from the host\n" {
		t.Errorf("cat %s in the container: exit %d, output %q", file, code, out)
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
