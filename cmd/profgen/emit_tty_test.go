package main

import (
	"bytes"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
)

// runProfgenStderrTTY runs profgen like runProfgen but with standard error
// a terminal (a pseudo-terminal's slave); stderr holds what reached it.
func runProfgenStderrTTY(t *testing.T, dir string, args ...string) result {
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
	cmd := exec.Command(buildProfgen(t), args...)
	cmd.Dir = dir
	var out bytes.Buffer
	cmd.Stdout, cmd.Stderr = &out, pts
	runErr := cmd.Run()
	pts.Close()
	var errb bytes.Buffer
	unix.SetNonblock(int(ptm.Fd()), true)
	buf := make([]byte, 4096)
	for {
		k, err := unix.Read(int(ptm.Fd()), buf)
		if k <= 0 || err != nil {
			break
		}
		errb.Write(buf[:k])
	}
	code := 0
	var ee *exec.ExitError
	if errors.As(runErr, &ee) {
		code = ee.ExitCode()
	} else if runErr != nil {
		t.Fatalf("run profgen %v: %v", args, runErr)
	}
	// The terminal turns \n into \r\n.
	return result{code: code, stdout: out.String(), stderr: strings.ReplaceAll(errb.String(), "\r\n", "\n")}
}

// TestEmitWroteLineOnTerminal: with standard error a terminal, emit ends
// with one line saying what it wrote and how many syscalls the profile
// allows; with standard error not a terminal, or --quiet, or on failure,
// no such line.
func TestEmitWroteLineOnTerminal(t *testing.T) {
	dir := t.TempDir()
	rec := writeRecording(t, dir, "rec.json", nil)
	r := runProfgenStderrTTY(t, dir, "emit", "-o", "seccomp.json", rec)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	p, err := readers.ReadOCIFile(filepath.Join(dir, "seccomp.json"))
	if err != nil {
		t.Fatal(err)
	}
	allowed := 0
	for _, s := range p.Syscalls {
		if s.Action == learn.Allow {
			allowed++
		}
	}
	want := fmt.Sprintf("profgen: wrote seccomp.json: oci profile for amd64, %d syscalls allowed (runtime runc)\n", allowed)
	if r.stderr != want {
		t.Errorf("stderr %q, want %q", r.stderr, want)
	}
	// To standard output, text: says so.
	if r := runProfgenStderrTTY(t, dir, "emit", "--format", "text", rec); r.code != 0 || !strings.HasPrefix(r.stderr, "profgen: wrote standard output: text profile for amd64, ") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("text to standard output: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runProfgenStderrTTY(t, dir, "emit", "--quiet", "-o", "q.json", rec); r.code != 0 || r.stderr != "" {
		t.Errorf("--quiet: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runProfgenStderrTTY(t, dir, "emit", "-o", "bad.json", filepath.Join(dir, "missing.json")); r.code == 0 || strings.Contains(r.stderr, "wrote") {
		t.Errorf("failure: exit %d, stderr %q", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "-o", "notty.json", rec); r.code != 0 || r.stderr != "" {
		t.Errorf("stderr not a terminal: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestVersionFlag: profgen --version prints what profgen version prints.
func TestVersionFlag(t *testing.T) {
	cmd := runProfgen(t, "", "version")
	flag := runProfgen(t, "", "--version")
	if cmd.code != 0 || flag.code != 0 || flag.stdout != cmd.stdout || !strings.HasPrefix(flag.stdout, "profgen ") || strings.Count(flag.stdout, "\n") != 1 {
		t.Errorf("version: %d %q; --version: %d %q %q", cmd.code, cmd.stdout, flag.code, flag.stdout, flag.stderr)
	}
}
