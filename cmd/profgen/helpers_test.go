package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"sync"
	"testing"
)

var (
	profgenOnce sync.Once
	profgenBin  string
	profgenErr  error
)

// buildProfgen builds the profgen binary once per test binary and returns
// its path.
func buildProfgen(t testing.TB) string {
	t.Helper()
	profgenOnce.Do(func() {
		dir, err := os.MkdirTemp("", "profgen-bin-")
		if err != nil {
			profgenErr = err
			return
		}
		profgenBin = filepath.Join(dir, "profgen")
		out, err := exec.Command("go", "build", "-o", profgenBin, ".").CombinedOutput()
		if err != nil {
			profgenErr = errors.New(string(out))
		}
	})
	if profgenErr != nil {
		t.Fatalf("build profgen: %v", profgenErr)
	}
	return profgenBin
}

// result is what one run of profgen did.
type result struct {
	code           int
	stdout, stderr string
}

// runProfgen runs the profgen binary with args in dir (the test's temp dir
// when empty) and returns its exit code and output.
func runProfgen(t testing.TB, dir string, args ...string) result {
	t.Helper()
	bin := buildProfgen(t)
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(bin, args...)
	cmd.Dir = dir
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run profgen %v: %v", args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}
