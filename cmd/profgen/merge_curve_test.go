package main

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// TestMergeCurveFiveRuns is issue 19's "merge of five runs prints what
// each added": argshapes recorded five times, the third run driving a path
// the others do not (--variant netlink: one socket(AF_NETLINK) more).
// merge names what input 1 and input 3 added, --json says the same,
// --require-saturated 3 fails with exit 4 naming input 3, and the merged
// recording is written all the same.
func TestMergeCurveFiveRuns(t *testing.T) {
	bin := workload.Build(t, "argshapes")
	dir := t.TempDir()
	var runs []string
	for i := 1; i <= 5; i++ {
		name := fmt.Sprintf("run%d.json", i)
		args := []string{"record", "-o", name, "--", bin}
		if i == 3 {
			args = append(args, "--variant", "netlink")
		}
		if r := runProfgen(t, dir, args...); r.code != 0 {
			t.Fatalf("record %s: exit %d: %s", name, r.code, r.stderr)
		}
		runs = append(runs, name)
	}

	r := runProfgen(t, dir, append([]string{"merge", "-o", "merged.json"}, runs...)...)
	if r.code != 0 {
		t.Fatalf("merge: exit %d: %s", r.code, r.stderr)
	}
	lines := strings.Split(r.stderr, "\n")
	line := func(prefix string) string {
		for _, l := range lines {
			if strings.HasPrefix(l, prefix) {
				return l
			}
		}
		t.Fatalf("no line %q in:\n%s", prefix, r.stderr)
		return ""
	}
	if l := line("  input 1 run1.json: +"); !strings.Contains(l, "syscall(s)") {
		t.Errorf("input 1: %q", l)
	}
	if l := line("  input 3 run3.json: +0 syscall(s), +1 argument shape(s): socket(domain=AF_NETLINK"); l == "" {
		t.Error("input 3")
	}
	if !strings.HasPrefix(lines[0], "coverage curve over 5 input(s)") {
		t.Errorf("first line %q", lines[0])
	}
	t.Logf("merge:\n%s", r.stderr)

	r = runProfgen(t, dir, append([]string{"merge", "--json"}, runs...)...)
	if r.code != 0 {
		t.Fatalf("merge --json: exit %d: %s", r.code, r.stderr)
	}
	var curve []recording.Step
	if err := json.Unmarshal([]byte(r.stdout), &curve); err != nil {
		t.Fatalf("merge --json: %v\n%s", err, r.stdout)
	}
	if len(curve) != 5 || len(curve[0].NewSyscalls) == 0 || len(curve[2].NewShapes) != 1 || curve[2].NewShapes[0].Syscall != "socket" || len(curve[2].NewSyscalls) != 0 {
		t.Errorf("curve: %+v", curve)
	}
	late := curve[3].Added() || curve[4].Added() // what glibc does may vary from run to run

	out := filepath.Join(dir, "sat.json")
	r = runProfgen(t, dir, append([]string{"merge", "-q", "--require-saturated", "3", "-o", out}, runs...)...)
	if r.code != exitcode.NotSaturated || !strings.Contains(r.stderr, "not saturated: input 3 (run3.json)") || strings.Count(r.stderr, "\n") != 1 {
		t.Errorf("--require-saturated 3: exit %d, stderr %q", r.code, r.stderr)
	}
	if m, err := recording.ReadFile(out); err != nil || m.Inputs != 5 {
		t.Errorf("--require-saturated 3 wrote no merged recording: %v", err)
	}
	if !late {
		r = runProfgen(t, dir, append([]string{"merge", "-q", "--require-saturated", "2", "-o", out}, runs...)...)
		if r.code != 0 {
			t.Errorf("--require-saturated 2 (inputs 4 and 5 added nothing): exit %d: %s", r.code, r.stderr)
		}
	}
	r = runProfgen(t, dir, append([]string{"merge", "--require-saturated", "5", "-o", out}, runs...)...)
	if r.code != exitcode.Failed || !strings.Contains(r.stderr, "--require-saturated 5: needs 1 to 4 for 5 inputs") {
		t.Errorf("--require-saturated 5: exit %d, stderr %q", r.code, r.stderr)
	}
}
