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
	"time"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/recording"
)

// TestRecordHangupQuit sends SIGHUP and SIGQUIT to profgen: each is handled
// as SIGTERM. The target gets SIGTERM (not SIGHUP, which a daemon takes for
// "reload", nor SIGQUIT), the recording is written and profgen exits with
// the target's 143.
func TestRecordHangupQuit(t *testing.T) {
	for _, sig := range []syscall.Signal{syscall.SIGHUP, syscall.SIGQUIT} {
		t.Run(sig.String(), func(t *testing.T) {
			dir := t.TempDir()
			bin := buildProfgen(t)
			fifo := filepath.Join(dir, "ready")
			if err := syscall.Mkfifo(fifo, 0o600); err != nil {
				t.Fatal(err)
			}
			// The target ignores SIGHUP and SIGQUIT: only a SIGTERM
			// ends it before --grace.
			cmd := exec.Command(bin, "record", "-o", "rec.json", "--grace", "1h", "--",
				"sh", "-c", "trap '' HUP QUIT; echo ready > "+fifo+"; exec sleep 100")
			cmd.Dir = dir
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			if err := cmd.Start(); err != nil {
				t.Fatal(err)
			}
			if _, err := os.ReadFile(fifo); err != nil {
				t.Fatal(err)
			}
			cmd.Process.Signal(sig)
			err := cmd.Wait()
			var ee *exec.ExitError
			if !errors.As(err, &ee) || ee.ExitCode() != 128+int(syscall.SIGTERM) {
				t.Errorf("profgen: %v, want exit status 143; stderr %q", err, stderr.String())
			}
			rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
			if err != nil {
				t.Fatalf("no recording after %v: %v; stderr %q", sig, err, stderr.String())
			}
			if !rec.Interrupted || rec.Exit.Signal != "SIGTERM" {
				t.Errorf("interrupted %v exit %+v, want interrupted, target ended by SIGTERM", rec.Interrupted, rec.Exit)
			}
			if rec.Lookup("execve") == nil {
				t.Errorf("the target's execve is not in the recording: %v", rec.Names())
			}
			assertNoCgroupOf(t, cmd.Process.Pid)
		})
	}
}

// TestRecordSIGKILL kills profgen with SIGKILL while its target, which
// ignores SIGTERM, runs: profgen's reaper kills the target and removes the
// cgroup.
func TestRecordSIGKILL(t *testing.T) {
	dir := t.TempDir()
	bin := buildProfgen(t)
	fifo := filepath.Join(dir, "ready")
	if err := syscall.Mkfifo(fifo, 0o600); err != nil {
		t.Fatal(err)
	}
	cmd := exec.Command(bin, "record", "-o", "rec.json", "--",
		"sh", "-c", "trap '' TERM; echo $$ > "+fifo+"; exec sleep 100")
	cmd.Dir = dir
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	data, err := os.ReadFile(fifo)
	if err != nil {
		t.Fatal(err)
	}
	target, err := strconv.Atoi(strings.TrimSpace(string(data)))
	if err != nil {
		t.Fatal(err)
	}
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	cgs, _ := filepath.Glob(filepath.Join(mnt, "profgen-"+strconv.Itoa(cmd.Process.Pid)+"-*"))
	if len(cgs) != 1 {
		t.Fatalf("cgroups of profgen: %v, want one", cgs)
	}
	t.Cleanup(func() { syscall.Kill(target, syscall.SIGKILL) })

	cmd.Process.Signal(syscall.SIGKILL)
	cmd.Wait()
	// The reaper acts at once; the bound only keeps a broken reaper from
	// hanging the test.
	deadline := time.Now().Add(20 * time.Second)
	for running(target) || exists(cgs[0]) {
		if time.Now().After(deadline) {
			t.Fatalf("20 s after SIGKILL of profgen: target %d running %v, cgroup %s there %v",
				target, running(target), cgs[0], exists(cgs[0]))
		}
		time.Sleep(20 * time.Millisecond)
	}
	if _, err := os.Stat(filepath.Join(dir, "rec.json")); !errors.Is(err, os.ErrNotExist) {
		t.Errorf("a SIGKILLed profgen wrote a recording: %v", err)
	}
}

// running reports whether process pid exists and is not a zombie.
func running(pid int) bool {
	data, err := os.ReadFile("/proc/" + strconv.Itoa(pid) + "/stat")
	if err != nil {
		return false
	}
	i := bytes.LastIndexByte(data, ')')
	return i < 0 || i+2 >= len(data) || data[i+2] != 'Z'
}

func exists(path string) bool {
	_, err := os.Stat(path)
	return err == nil
}
