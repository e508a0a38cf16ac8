package main

import (
	"fmt"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/cgroup"
	"github.com/profgen/profgen/recording"
)

// TestRecordEscapeReported: a child the target moves out of the recording's
// cgroup is named on standard error and in the recording, and is stopped.
func TestRecordEscapeReported(t *testing.T) {
	mnt, err := cgroup.V2Mount()
	if err != nil {
		t.Fatal(err)
	}
	sibling := filepath.Join(mnt, fmt.Sprintf("profgentest-cmd-escape-%d", os.Getpid()))
	if err := os.Mkdir(sibling, 0o755); err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		if err := os.Remove(sibling); err != nil {
			t.Errorf("the escaped process was not stopped: %v", err)
		}
	})
	dir := t.TempDir()
	pidFile := filepath.Join(dir, "pid")
	script := fmt.Sprintf("sleep 100 & echo $! > %s/cgroup.procs && echo $! > %s.tmp && mv %s.tmp %s; wait", sibling, pidFile, pidFile, pidFile)
	r := runProfgen(t, dir, "record", "-o", "rec.json",
		"--drive", fmt.Sprintf("while [ ! -e %s ]; do sleep 0.01; done", pidFile), "--", "sh", "-c", script)
	if r.code != 0 {
		t.Fatalf("exit %d, stderr %q", r.code, r.stderr)
	}
	data, err := os.ReadFile(pidFile)
	if err != nil {
		t.Fatal(err)
	}
	want := fmt.Sprintf("process %s (sleep) of the target left the recording's cgroup for /%s", strings.TrimSpace(string(data)), filepath.Base(sibling))
	if !strings.Contains(r.stderr, "profgen: warning: "+want) {
		t.Errorf("stderr %q does not warn %q", r.stderr, want)
	}
	rec, err := recording.ReadFile(filepath.Join(dir, "rec.json"))
	if err != nil {
		t.Fatal(err)
	}
	if !slices.ContainsFunc(rec.Notes, func(n string) bool { return strings.HasPrefix(n, want) }) {
		t.Errorf("notes %q do not say %q", rec.Notes, want)
	}
}
