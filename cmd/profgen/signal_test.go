package main

import (
	"errors"
	"os"
	"os/exec"
	"os/signal"
	"path/filepath"
	"strings"
	"syscall"
	"testing"
	"time"
)

// startBlocked starts profgen with args in dir, its standard input a pipe
// the test keeps open (so profgen waits reading an input), and returns once
// the temporary file of its output exists.
func startBlocked(t *testing.T, dir string, args ...string) (*exec.Cmd, string) {
	t.Helper()
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { w.Close() })
	cmd := exec.Command(buildProfgen(t), args...)
	cmd.Dir, cmd.Stdin = dir, r
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	r.Close()
	t.Cleanup(func() { cmd.Process.Kill() })
	// Not a timing assertion: a guard so that a profgen that never
	// creates its temporary file fails instead of hanging.
	for deadline := time.Now().Add(time.Minute); time.Now().Before(deadline); time.Sleep(10 * time.Millisecond) {
		if tmp := temps(t, dir); len(tmp) == 1 {
			return cmd, tmp[0]
		}
	}
	t.Fatalf("profgen %v: no temporary file appeared in %s", args, dir)
	return nil, ""
}

// temps lists the temporary output files in dir.
func temps(t *testing.T, dir string) []string {
	t.Helper()
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	var out []string
	for _, e := range entries {
		if strings.Contains(e.Name(), ".profgen-tmp-") {
			out = append(out, e.Name())
		}
	}
	return out
}

// TestSignalRemovesTemp: SIGINT, SIGTERM or SIGHUP while emit or merge
// writes its output removes the temporary file, leaves no output, and
// profgen dies of that signal. After SIGKILL the temporary file stays, and
// the next run that writes the same output removes it.
func TestSignalRemovesTemp(t *testing.T) {
	for _, cmd := range []string{"emit", "merge"} {
		for _, sig := range []syscall.Signal{syscall.SIGINT, syscall.SIGTERM, syscall.SIGHUP} {
			dir := t.TempDir()
			p, tmp := startBlocked(t, dir, cmd, "-o", "out.json", "-")
			if !strings.HasPrefix(tmp, ".out.json.profgen-tmp-") {
				t.Errorf("temporary file %s", tmp)
			}
			p.Process.Signal(sig)
			err := p.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || !ee.ProcessState.Sys().(syscall.WaitStatus).Signaled() || ee.ProcessState.Sys().(syscall.WaitStatus).Signal() != sig {
				t.Errorf("%s after %v: %v, want death by the signal", cmd, sig, err)
			}
			if entries, _ := os.ReadDir(dir); len(entries) != 0 {
				t.Errorf("%s after %v left %v", cmd, sig, entries)
			}
		}
	}
	dir := t.TempDir()
	p, tmp := startBlocked(t, dir, "emit", "-o", "out.json", "-")
	p.Process.Kill()
	p.Wait()
	if _, err := os.Stat(filepath.Join(dir, tmp)); err != nil {
		t.Fatalf("after SIGKILL: %v", err)
	}
	rec := writeRecording(t, t.TempDir(), "rec.json", nil)
	if r := runProfgen(t, dir, "emit", "-o", "out.json", rec); r.code != 0 {
		t.Fatalf("emit: %s", r.stderr)
	}
	if left := temps(t, dir); len(left) != 0 {
		t.Errorf("the stale temporary file of a dead profgen was kept: %v", left)
	}
}

// TestCatchSignalsKeepsIgnored: a signal profgen was started with ignored
// (nohup ignores SIGHUP) stays ignored when a command catches its stop
// signals, so `nohup profgen record` or `monitor` outlives the terminal;
// the others are caught.
func TestCatchSignalsKeepsIgnored(t *testing.T) {
	signal.Ignore(syscall.SIGHUP)
	defer signal.Reset(syscall.SIGHUP)
	ch := make(chan os.Signal, 2)
	catchSignals(ch, syscall.SIGHUP, syscall.SIGUSR1)
	defer signal.Stop(ch)
	if !signal.Ignored(syscall.SIGHUP) {
		t.Fatal("catchSignals caught SIGHUP, which was ignored")
	}
	// SIGHUP, sent first, is discarded by the kernel; SIGUSR1 arrives.
	syscall.Kill(os.Getpid(), syscall.SIGHUP)
	syscall.Kill(os.Getpid(), syscall.SIGUSR1)
	select {
	case s := <-ch:
		if s != syscall.SIGUSR1 {
			t.Errorf("got %v, want SIGUSR1", s)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("SIGUSR1 was not caught")
	}
	if got := notIgnored([]os.Signal{syscall.SIGHUP, syscall.SIGTERM}); len(got) != 1 || got[0] != syscall.SIGTERM {
		t.Errorf("notIgnored(SIGHUP, SIGTERM) with SIGHUP ignored = %v, want [SIGTERM]", got)
	}
}
