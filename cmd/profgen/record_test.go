package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/recording"
)

// assertOneLineError checks a failed run: non-zero exit, exactly one line on
// stderr mentioning want, and no recording written in dir.
func assertOneLineError(t *testing.T, r result, dir, want string) {
	t.Helper()
	if r.code == 0 {
		t.Errorf("exit code 0, want non-zero")
	}
	lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
	if len(lines) != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("stderr = %q, want one line containing %q", r.stderr, want)
	}
	entries, _ := os.ReadDir(dir)
	for _, e := range entries {
		t.Errorf("file %s written on failure", e.Name())
	}
}

func TestRecordNoCommand(t *testing.T) {
	dir := t.TempDir()
	r := runProfgen(t, dir, "record")
	assertOneLineError(t, r, dir, "no command given")
	r = runProfgen(t, dir, "record", "--")
	assertOneLineError(t, r, dir, "no command given")
}

func TestRecordCommandNotFound(t *testing.T) {
	dir := t.TempDir()
	r := runProfgen(t, dir, "record", "--", "no-such-command-profgen", "x")
	assertOneLineError(t, r, dir, "command not found: no-such-command-profgen")
}

func TestRecordBadFlags(t *testing.T) {
	dir := t.TempDir()
	assertOneLineError(t, runProfgen(t, dir, "record", "--backend", "strace", "--", "true"), dir, "unknown --backend")
	assertOneLineError(t, runProfgen(t, dir, "record", "--ready", "tcp:127.0.0.1:1", "--", "true"), dir, "--ready needs --drive")
	assertOneLineError(t, runProfgen(t, dir, "record", "--drive", "true", "--ready", "udp:x", "--", "true"), dir, "readiness")
	assertOneLineError(t, runProfgen(t, dir, "record", "-o", "no/such/dir/rec.json", "--", "true"), dir, "no/such/dir")
}

func TestRecordTrue(t *testing.T) {
	dir := t.TempDir()
	r := runProfgen(t, dir, "record", "--", "true")
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, defaultRecording))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Lookup("execve") == nil || rec.Lookup("exit_group") == nil || rec.Backend != recording.BackendEBPF {
		t.Errorf("recording of true: backend %q, syscalls %v", rec.Backend, rec.Names())
	}
	if !strings.Contains(r.stderr, "wrote "+defaultRecording) {
		t.Errorf("no summary on stderr: %q", r.stderr)
	}
	if strings.Contains(r.stderr, "\r") {
		t.Errorf("status line written to a non-terminal: %q", r.stderr)
	}
}

func TestRecordExitStatus(t *testing.T) {
	dir := t.TempDir()
	r := runProfgen(t, dir, "record", "-o", "out.json", "--", "sh", "-c", "echo to-stdout; exit 3")
	if r.code != 3 {
		t.Errorf("exit %d, want the target's 3; stderr %q", r.code, r.stderr)
	}
	if r.stdout != "to-stdout\n" {
		t.Errorf("target's stdout = %q", r.stdout)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "out.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Exit.Code != 3 {
		t.Errorf("recorded exit %+v", rec.Exit)
	}

	// A target killed by a signal: 128+N.
	r = runProfgen(t, dir, "record", "-o", "kill.json", "--", "sh", "-c", "kill -KILL $$")
	if r.code != 128+int(syscall.SIGKILL) {
		t.Errorf("exit %d, want 137", r.code)
	}
	if _, err := recording.ReadFile(filepath.Join(dir, "kill.json")); err != nil {
		t.Error(err)
	}
}

func TestRecordDrive(t *testing.T) {
	dir := t.TempDir()
	r := runProfgen(t, dir, "record", "--drive", "exit 5", "--", "sleep", "100")
	if r.code != 5 || !strings.Contains(r.stderr, "recording not written") {
		t.Errorf("exit %d stderr %q, want the driver's 5 and no recording", r.code, r.stderr)
	}
	if _, err := os.Stat(filepath.Join(dir, defaultRecording)); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("recording written although the driver failed: %v", err)
	}
	r = runProfgen(t, dir, "record", "--drive", "true", "--ready", "delay:1ms", "--", "sleep", "100")
	if r.code != 0 {
		t.Fatalf("exit %d stderr %q", r.code, r.stderr)
	}
	if _, err := recording.ReadFile(filepath.Join(dir, defaultRecording)); err != nil {
		t.Error(err)
	}
}

// TestRecordSIGINT sends SIGINT to profgen: the target gets it, the
// recording is written and profgen exits with the target's 130.
func TestRecordSIGINT(t *testing.T) {
	dir := t.TempDir()
	bin := buildProfgen(t)
	fifo := filepath.Join(dir, "ready")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "record", "-o", "rec.json", "--", "sh", "-c", "echo ready > "+fifo+"; exec sleep 100")
	cmd.Dir = dir
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	// Wait until the target runs.
	if _, err := os.ReadFile(fifo); err != nil {
		t.Fatal(err)
	}
	cmd.Process.Signal(syscall.SIGINT)
	err := cmd.Wait()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != 130 {
		t.Errorf("profgen: %v, want exit status 130; stderr %q", err, stderr.String())
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !rec.Interrupted || rec.Exit.Signal != "SIGINT" {
		t.Errorf("interrupted %v exit %+v", rec.Interrupted, rec.Exit)
	}
	assertNoCgroupOf(t, cmd.Process.Pid)
}

// assertNoCgroupOf fails if profgen process pid left a cgroup behind.
func assertNoCgroupOf(t *testing.T, pid int) {
	t.Helper()
	data, err := os.ReadFile("/proc/self/mountinfo")
	if err != nil {
		t.Fatal(err)
	}
	for _, line := range strings.Split(string(data), "\n") {
		f := strings.Fields(line)
		for i := range f {
			if f[i] == "-" && i+1 < len(f) && f[i+1] == "cgroup2" {
				matches, _ := filepath.Glob(filepath.Join(f[4], "profgen-"+strconv.Itoa(pid)+"-*"))
				for _, m := range matches {
					t.Errorf("cgroup %s left behind", m)
				}
			}
		}
	}
}

// TestRecordNotPermitted runs profgen as an unprivileged user: loading BPF
// fails with one line that names the missing capabilities.
func TestRecordNotPermitted(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("needs root to switch to an unprivileged user")
	}
	// t.TempDir's parent is private to root: use a directory nobody can
	// reach.
	dir, err := os.MkdirTemp("", "profgen-nobody-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(dir) })
	bin := filepath.Join(dir, "profgen")
	data, err := os.ReadFile(buildProfgen(t))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(bin, data, 0o755); err != nil {
		t.Fatal(err)
	}
	out := filepath.Join(dir, "out")
	if err := os.Mkdir(out, 0o777); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(dir, 0o755); err != nil {
		t.Fatal(err)
	}
	if err := os.Chmod(out, 0o777); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "record", "--", "true")
	cmd.Dir = out
	cmd.SysProcAttr = &syscall.SysProcAttr{Credential: &syscall.Credential{Uid: 65534, Gid: 65534}}
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	err = cmd.Run()
	var ee *exec.ExitError
	if !errors.As(err, &ee) || ee.ExitCode() != exitcode.Tool {
		t.Errorf("profgen as nobody: %v, want exit status %d", err, exitcode.Tool)
	}
	assertOneLineError(t, result{code: exitcode.Tool, stderr: stderr.String()}, out, "CAP_BPF")
}
