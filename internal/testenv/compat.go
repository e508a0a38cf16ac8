package testenv

import (
	"compress/gzip"
	"errors"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"sync"
	"syscall"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/errs"
)

// i386Probe makes getpid through the i386 entry (int $0x80, i386 number
// 20) and exits 0 when it answered.
const i386Probe = `
int main(void) {
	long ret;
	__asm__ volatile("int $0x80" : "=a"(ret) : "a"(20L) : "memory");
	return ret > 0 ? 0 : 1;
}
`

var i386 struct {
	once   sync.Once
	reason string
	err    error
}

// I386Entry skips t, with the reason, when this x86_64 kernel has no
// i386 syscall entry: a program that makes a call through int $0x80 then
// dies of SIGSEGV (ia32_emulation=0 on the kernel command line, or a
// kernel built without IA32_EMULATION). Tests that make i386 calls call
// it first. Any other failure of the probe fails t; on another
// architecture t is skipped (i386 calls are x86_64's).
func I386Entry(t testing.TB) {
	t.Helper()
	if runtime.GOARCH != "amd64" {
		t.Skipf("i386 calls are x86_64's; this machine is %s", runtime.GOARCH)
	}
	i386.once.Do(func() { i386.reason, i386.err = probeI386() })
	if i386.err != nil {
		t.Fatalf("i386 entry probe: %v", i386.err)
	}
	if i386.reason != "" {
		t.Skip(i386.reason)
	}
}

func probeI386() (string, error) {
	dir, err := os.MkdirTemp("", "profgen-i386-")
	if err != nil {
		return "", err
	}
	defer os.RemoveAll(dir)
	src, bin := filepath.Join(dir, "probe.c"), filepath.Join(dir, "probe")
	if err := os.WriteFile(src, []byte(i386Probe), 0o644); err != nil {
		return "", err
	}
	if out, err := exec.Command("gcc", "-O2", "-o", bin, src).CombinedOutput(); err != nil {
		return "", fmt.Errorf("gcc: %v: %s", err, out)
	}
	cmd := exec.Command(bin)
	return i386Missing(cmd, cmd.Run())
}

// i386Missing judges the probe's run: the reason to skip when it died of
// SIGSEGV, an error when it failed otherwise.
func i386Missing(cmd *exec.Cmd, err error) (string, error) {
	if err == nil {
		return "", nil
	}
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		if ws, ok := ee.Sys().(syscall.WaitStatus); ok && ws.Signaled() && ws.Signal() == syscall.SIGSEGV {
			return fmt.Sprintf("the kernel has no 32-bit syscall entry (ia32 emulation off): int $0x80 faults (%v)", err), nil
		}
	}
	return "", fmt.Errorf("%s: %w", cmd.Path, err)
}

// FilterReadback is called when reading a seccomp filter back
// (PTRACE_SECCOMP_GET_FILTER) failed with err: it skips t, with the
// reason, when the kernel lacks the request (built without
// CONFIG_CHECKPOINT_RESTORE, which err then matches as ErrNotSupported and
// the kernel's config confirms), and fails t otherwise.
func FilterReadback(t testing.TB, err error) {
	t.Helper()
	if errors.Is(err, errs.ErrNotSupported) {
		if on, known := kernelConfig("CONFIG_CHECKPOINT_RESTORE"); known && on {
			t.Fatalf("reading a filter back reports itself unsupported on a kernel built with CONFIG_CHECKPOINT_RESTORE: %v", err)
		}
		t.Skipf("this kernel cannot read seccomp filters back: %v", err)
	}
	t.Fatal(err)
}

// kernelConfig reports whether the running kernel's build configuration
// (/proc/config.gz, or /boot/config-RELEASE as Debian installs it) sets
// option to y; known is false when neither can be read.
func kernelConfig(option string) (on, known bool) {
	data, err := readProcConfig()
	if err != nil {
		var u unix.Utsname
		if unix.Uname(&u) != nil {
			return false, false
		}
		data, err = os.ReadFile("/boot/config-" + unix.ByteSliceToString(u.Release[:]))
	}
	if err != nil {
		return false, false
	}
	for _, line := range strings.Split(string(data), "\n") {
		if line == option+"=y" {
			return true, true
		}
	}
	return false, true
}

func readProcConfig() ([]byte, error) {
	f, err := os.Open("/proc/config.gz")
	if err != nil {
		return nil, err
	}
	defer f.Close()
	z, err := gzip.NewReader(f)
	if err != nil {
		return nil, err
	}
	return io.ReadAll(z)
}
