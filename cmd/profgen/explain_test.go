package main

import (
	"encoding/json"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"

	"github.com/profgen/profgen/explain"
)

// TestExplainLearned: a profile learned from a small program allows far
// fewer syscalls than Docker's default, and explain prints both numbers.
func TestExplainLearned(t *testing.T) {
	dir := t.TempDir()
	if r := runProfgen(t, dir, "record", "-o", "rec.json", "--", "sh", "-c", "echo hi > out.txt; cat out.txt"); r.code != 0 {
		t.Fatalf("record: exit %d: %s", r.code, r.stderr)
	}
	if r := runProfgen(t, dir, "emit", "--format", "oci", "-o", "seccomp.json", "rec.json"); r.code != 0 {
		t.Fatalf("emit: exit %d: %s", r.code, r.stderr)
	}
	r := runProfgen(t, dir, "explain", "--json", "seccomp.json")
	if r.code != 0 {
		t.Fatalf("explain: exit %d: %s", r.code, r.stderr)
	}
	var rep explain.Report
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil {
		t.Fatalf("explain --json: %v\n%s", err, r.stdout)
	}
	if rep.AllowedCount == 0 || rep.AllowedCount*3 > rep.DockerDefaultAllowed || rep.DockerDefaultAllowed >= rep.NativeCount {
		t.Errorf("allowedCount %d, dockerDefaultAllowed %d, nativeCount %d: want far fewer than Docker's default", rep.AllowedCount, rep.DockerDefaultAllowed, rep.NativeCount)
	}
	for _, name := range []string{"execve", "write", "exit_group"} {
		found := false
		for _, a := range rep.Allowed {
			found = found || a == name
		}
		for _, c := range rep.Conditional {
			found = found || c.Name == name
		}
		if !found {
			t.Errorf("%s not allowed: %v %v", name, rep.Allowed, rep.Conditional)
		}
	}
	text := runProfgen(t, dir, "explain", "seccomp.json")
	want := []string{"attack surface:", " " + strconv.Itoa(rep.AllowedCount) + " of " + strconv.Itoa(rep.NativeCount), "Docker's default profile: " + strconv.Itoa(rep.DockerDefaultAllowed)}
	for _, w := range want {
		if !strings.Contains(text.stdout, w) {
			t.Errorf("text output lacks %q:\n%s", w, text.stdout)
		}
	}
}

func TestExplainBadInput(t *testing.T) {
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "notes.txt"), []byte("not a profile\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	r := runProfgen(t, dir, "explain", "notes.txt")
	if r.code == 0 || strings.Count(strings.TrimRight(r.stderr, "\n"), "\n") != 0 ||
		!strings.Contains(r.stderr, "notes.txt: neither a JSON seccomp profile nor a raw BPF filter") || r.stdout != "" {
		t.Errorf("exit %d, stdout %q, stderr %q", r.code, r.stdout, r.stderr)
	}
	r = runProfgen(t, dir, "explain")
	if r.code == 0 || !strings.Contains(r.stderr, "explain needs at least one FILE") {
		t.Errorf("no file: exit %d, stderr %q", r.code, r.stderr)
	}
}

// TestExplainLandlockRuleset: explain reads a ruleset emit wrote.
func TestExplainLandlockRuleset(t *testing.T) {
	golden, err := filepath.Abs("../../emit/testdata/landlock.golden.json")
	if err != nil {
		t.Fatal(err)
	}
	res := runProfgen(t, "", "explain", golden)
	if res.code != 0 || !strings.Contains(res.stdout, "Landlock ruleset") || !strings.Contains(res.stdout, "bind: TCP ports 8080") {
		t.Errorf("exit %d\n%s%s", res.code, res.stdout, res.stderr)
	}
}
