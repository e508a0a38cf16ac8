package main

import (
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/recording"
)

// TestRecordDurationNormalEnd: --duration is a stop the user asked for:
// exit 0, the recording written and not marked interrupted, the summary
// says where it stopped; the recording keeps the target's own status.
// With --drive too: the driver stopped at the duration did not fail.
func TestRecordDurationNormalEnd(t *testing.T) {
	for _, drive := range []string{"", "sleep 100"} {
		dir := t.TempDir()
		args := []string{"record", "-o", "rec.json", "--duration", "300ms"}
		if drive != "" {
			args = append(args, "--drive", drive)
		}
		r := runProfgen(t, dir, append(args, "--", "sleep", "100")...)
		if r.code != 0 {
			t.Errorf("drive %q: exit %d, want 0; stderr %q", drive, r.code, r.stderr)
			continue
		}
		if !strings.Contains(r.stderr, "(stopped at --duration 300ms)") {
			t.Errorf("drive %q: summary does not say the recording stopped at --duration: %q", drive, r.stderr)
		}
		rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
		if err != nil {
			t.Fatal(err)
		}
		if rec.Interrupted || rec.Exit.Signal != "SIGTERM" {
			t.Errorf("drive %q: interrupted %v, exit %+v; want not interrupted, the target's SIGTERM kept", drive, rec.Interrupted, rec.Exit)
		}
	}
}

// TestRecordCommandNotExecutable: a file that exists but is not
// executable, or a directory, is not "command not found": one line that
// names the path and what is wrong, exit 125, nothing written.
func TestRecordCommandNotExecutable(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(t.TempDir(), "script.sh")
	if err := os.WriteFile(file, []byte("#!/bin/sh\nexit 0\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct {
		cmd, want string
	}{
		{file, "command " + file + ": not executable (permission denied)"},
		{filepath.Dir(file), "command " + filepath.Dir(file) + ": is a directory"},
		{filepath.Join(filepath.Dir(file), "missing"), "command not found: " + filepath.Join(filepath.Dir(file), "missing") + " (no such file or directory)"},
	} {
		r := runProfgen(t, dir, "record", "-o", "rec.json", "--", c.cmd)
		assertOneLineError(t, r, dir, c.want)
		if r.code != exitcode.Tool {
			t.Errorf("%s: exit %d, want %d", c.cmd, r.code, exitcode.Tool)
		}
	}
	// A file of that name here, without a slash: not in PATH, and the
	// error says how to run it.
	here := t.TempDir()
	if err := os.WriteFile(filepath.Join(here, "tool"), []byte("#!/bin/sh\n"), 0o755); err != nil {
		t.Fatal(err)
	}
	r := runProfgen(t, here, "record", "-o", filepath.Join(dir, "rec.json"), "--", "tool")
	if want := "give ./tool"; r.code != exitcode.Tool || !strings.Contains(r.stderr, want) {
		t.Errorf("tool in the working directory: exit %d, stderr %q; want %q", r.code, r.stderr, want)
	}
}

// TestRecordKernelOutput: -o /proc/version is refused before the target
// runs, in one line that names the path once.
func TestRecordKernelOutput(t *testing.T) {
	dir := t.TempDir()
	marker := filepath.Join(t.TempDir(), "ran")
	r := runProfgen(t, dir, "record", "-o", "/proc/version", "--", "touch", marker)
	assertOneLineError(t, r, dir, "output /proc/version is in the kernel's proc file system")
	if n := strings.Count(r.stderr, "/proc/version"); n != 1 {
		t.Errorf("stderr names /proc/version %d times: %q", n, r.stderr)
	}
	if r.code != exitcode.Tool {
		t.Errorf("exit %d, want %d", r.code, exitcode.Tool)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the target ran for a recording that could not be written")
	}
}

// TestRecordSameOutput: two records writing the same -o at once: the
// second is refused before its target runs, in one line that names the
// first; the first writes its recording.
func TestRecordSameOutput(t *testing.T) {
	dir := t.TempDir()
	first := exec.Command(buildProfgen(t), "record", "-o", "rec.json", "--", "sleep", "2")
	first.Dir = dir
	var firstErr strings.Builder
	first.Stderr = &firstErr
	if err := first.Start(); err != nil {
		t.Fatal(err)
	}
	defer first.Wait()
	// The first holds the output once its temporary file exists.
	deadline := time.Now().Add(10 * time.Second)
	for {
		if m, _ := filepath.Glob(filepath.Join(dir, ".rec.json.profgen-tmp-*")); len(m) > 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatal("the first record made no temporary file within 10s")
		}
		time.Sleep(10 * time.Millisecond)
	}
	marker := filepath.Join(t.TempDir(), "ran")
	r := runProfgen(t, dir, "record", "-o", "rec.json", "--", "touch", marker)
	want := fmt.Sprintf("output rec.json: another profgen (pid %d) is writing it", first.Process.Pid)
	if lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n"); r.code != exitcode.Tool || len(lines) != 1 || !strings.Contains(r.stderr, want) {
		t.Errorf("second record: exit %d, stderr %q; want %d and one line with %q", r.code, r.stderr, exitcode.Tool, want)
	}
	if _, err := os.Stat(marker); err == nil {
		t.Error("the second record ran its target")
	}
	if err := first.Wait(); err != nil {
		t.Fatalf("first record: %v: %s", err, firstErr.String())
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if rec.Command[0] != "sleep" {
		t.Errorf("rec.json is the recording of %v, want the first's (sleep)", rec.Command)
	}
}
