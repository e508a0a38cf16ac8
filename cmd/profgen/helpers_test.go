package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"

	"golang.org/x/sys/unix"
)

var (
	profgenOnce sync.Once
	profgenBin  string
	profgenErr  error
)

// TestMain removes the profgen binary buildProfgen made.
func TestMain(m *testing.M) {
	code := m.Run()
	if profgenBin != "" {
		os.RemoveAll(filepath.Dir(profgenBin))
	}
	os.Exit(code)
}

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
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(buildProfgen(t), args...)
	cmd.Dir = dir
	return runResult(t, cmd)
}

// runResult runs cmd, a profgen command set up by the caller (directory,
// environment, standard input), with its output in buffers; a command
// that cannot be run fails t.
func runResult(t testing.TB, cmd *exec.Cmd) result {
	t.Helper()
	var out, errb bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, &errb
	err := cmd.Run()
	code := 0
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		code = ee.ExitCode()
	} else if err != nil {
		t.Fatalf("run %v: %v", cmd.Args, err)
	}
	return result{code: code, stdout: out.String(), stderr: errb.String()}
}

// runProfgenTTY runs profgen like runProfgen but with standard output a
// terminal (a pseudo-terminal's slave); stdout holds what reached it.
func runProfgenTTY(t testing.TB, dir string, args ...string) result {
	t.Helper()
	return runProfgenOnTerminal(t, dir, 1, args...)
}

// runProfgenOnTerminal runs profgen like runProfgen but with standard
// output (stream 1) or standard error (stream 2) a terminal, a
// pseudo-terminal's slave; that stream of the result holds what reached
// the terminal, the other what profgen wrote to a buffer.
func runProfgenOnTerminal(t testing.TB, dir string, stream int, args ...string) result {
	t.Helper()
	ptm, err := os.OpenFile("/dev/ptmx", os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open /dev/ptmx: %v", err)
	}
	defer ptm.Close()
	if err := unix.IoctlSetPointerInt(int(ptm.Fd()), unix.TIOCSPTLCK, 0); err != nil {
		t.Fatalf("unlock pty: %v", err)
	}
	n, err := unix.IoctlGetInt(int(ptm.Fd()), unix.TIOCGPTN)
	if err != nil {
		t.Fatalf("pty number: %v", err)
	}
	pts, err := os.OpenFile("/dev/pts/"+strconv.Itoa(n), os.O_RDWR|unix.O_NOCTTY, 0)
	if err != nil {
		t.Fatalf("open pty slave: %v", err)
	}
	defer pts.Close()
	if dir == "" {
		dir = t.TempDir()
	}
	cmd := exec.Command(buildProfgen(t), args...)
	cmd.Dir = dir
	var buffered bytes.Buffer
	if stream == 2 {
		cmd.Stdout, cmd.Stderr = &buffered, pts
	} else {
		cmd.Stdout, cmd.Stderr = pts, &buffered
	}
	runErr := cmd.Run()
	pts.Close()
	// What reached the terminal; the slave is closed, so the read ends.
	var term bytes.Buffer
	unix.SetNonblock(int(ptm.Fd()), true)
	buf := make([]byte, 4096)
	for {
		k, err := unix.Read(int(ptm.Fd()), buf)
		if k <= 0 || err != nil {
			break
		}
		term.Write(buf[:k])
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(runErr, &ee) {
		code = ee.ExitCode()
	} else if runErr != nil {
		t.Fatalf("run profgen %v: %v", args, runErr)
	}
	if stream == 2 {
		// The terminal turns \n into \r\n.
		return result{code: code, stdout: buffered.String(), stderr: strings.ReplaceAll(term.String(), "\r\n", "\n")}
	}
	return result{code: code, stdout: term.String(), stderr: buffered.String()}
}
