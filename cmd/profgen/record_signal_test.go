package main

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"path/filepath"
	"syscall"
	"testing"

	"github.com/profgen/profgen/trace/recording"
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
