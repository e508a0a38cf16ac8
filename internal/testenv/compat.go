package testenv

import (
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"sync"
	"syscall"
	"testing"
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
