package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestRecordEngineCLI: profgen record refuses to record an engine's CLI
// (which would record the engine, not the container) at once, with a
// one-line error that shows the command to use, and writes nothing.
func TestRecordEngineCLI(t *testing.T) {
	for _, tc := range []struct {
		command []string
		want    string
	}{
		{[]string{"podman", "run", "--rm", "img", "ls"}, "podman --runtime "},
		{[]string{"/usr/bin/podman", "--root", "/x", "run", "img"}, "--annotation io.profgen.record="},
		{[]string{"docker", "run", "img"}, "--add-runtime profgen="},
		{[]string{"nerdctl", "run", "img"}, "profgen-runc"},
	} {
		dir := t.TempDir()
		r := runProfgen(t, dir, append([]string{"record", "-o", "out.json", "--"}, tc.command...)...)
		if r.code == 0 || !strings.Contains(r.stderr, tc.want) || strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("record -- %v: exit %d, stderr %q; want a one-line error containing %q", tc.command, r.code, r.stderr, tc.want)
		}
		if _, err := os.Stat(filepath.Join(dir, "out.json")); err == nil {
			t.Errorf("record -- %v wrote a recording", tc.command)
		}
	}
	// Engine commands that run no container are recorded as usual.
	for _, c := range [][]string{{"podman", "version"}, {"docker", "--help"}, {"ls"}} {
		if err := checkEngineCommand(c); err != nil {
			t.Errorf("checkEngineCommand(%v) = %v, want nil", c, err)
		}
	}
}
