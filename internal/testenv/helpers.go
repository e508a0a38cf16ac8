package testenv

import (
	"bufio"
	"bytes"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/abi"
)

// Golden compares got with testdata/name, or, with update set (the
// packages' -update flag), rewrites the file.
func Golden(t testing.TB, name string, got []byte, update bool) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if !bytes.Equal(got, want) {
		t.Errorf("output differs from %s (go test -update rewrites it after review)\n--- got:\n%s\n--- want:\n%s", path, got, want)
	}
}

// SyscallNumber resolves a syscall name on the native architecture.
func SyscallNumber(t testing.TB, name string) int {
	t.Helper()
	a, err := abi.Native()
	if err != nil {
		t.Fatal(err)
	}
	n, err := abi.SyscallNumber(a, name)
	if err != nil {
		t.Fatal(err)
	}
	return n
}

// StartMonitor starts cmd, a `profgen monitor` command, and returns once
// it says it reads seccomp audit records (its first line on standard
// error, after which nothing it misses can have been logged); the rest of
// its standard error is drained. The test's cleanup kills it.
func StartMonitor(t testing.TB, cmd *exec.Cmd) {
	t.Helper()
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { cmd.Process.Kill(); cmd.Wait() })
	sc := bufio.NewScanner(stderr)
	if !sc.Scan() || !strings.Contains(sc.Text(), "reading seccomp audit records") {
		t.Fatalf("profgen monitor did not start: %q", sc.Text())
	}
	go func() {
		for sc.Scan() {
		}
	}()
}
