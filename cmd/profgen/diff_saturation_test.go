package main

import (
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/internal/workload"
)

// TestDiffSaturation: diff says how learning went in a NEW recording, and
// with --require-saturated fails (exit 4) on a NEW that had not saturated
// (latecall's new call in the last tenth of its run), on a NEW recording
// without a discovery timeline and on a NEW profile; drift still comes
// first (exit 1). A settled NEW passes.
func TestDiffSaturation(t *testing.T) {
	bin := workload.Build(t, "latecall")
	dir := t.TempDir()
	for _, c := range [][]string{{"late.json", "1500", "late"}, {"settled.json", "1500"}} {
		if r := runProfgen(t, dir, append([]string{"record", "-o", c[0], "--", bin}, c[1:]...)...); r.code != 0 {
			t.Fatalf("record %v: exit %d\n%s", c, r.code, r.stderr)
		}
	}
	if r := runProfgen(t, dir, "emit", "-o", "late-profile.json", "late.json"); r.code != 0 {
		t.Fatalf("emit: exit %d\n%s", r.code, r.stderr)
	}
	old := writeRecording(t, dir, "v3-no-timeline.json", nil)

	for _, c := range []struct {
		args   []string
		code   int
		stdout string // in the text output
		stderr string
	}{
		// Without the flag diff says it, and passes.
		{[]string{"late.json", "late.json"}, 0, "saturation of NEW: learned ", ""},
		{[]string{"late.json", "late.json"}, 0, ": not saturated: 1 syscall (sysinfo) first appeared in the last tenth", ""},
		{[]string{"late.json", "settled.json"}, 0, "s: saturated\n", ""},
		{[]string{"--require-saturated", "late.json", "settled.json"}, 0, "OK: NEW needs nothing OLD does not allow", ""},
		{[]string{"--require-saturated", "late.json", "late.json"}, exitcode.NotSaturated, "OK: NEW needs nothing OLD does not allow",
			"profgen: --require-saturated: NEW (late.json) learning had not saturated: 1 syscall (sysinfo) first appeared in the last tenth of the run"},
		{[]string{"--require-saturated", "late-profile.json", "late-profile.json"}, exitcode.NotSaturated, "",
			"profgen: --require-saturated: NEW (late-profile.json) is a profile: only a recording says whether learning had saturated"},
		{[]string{"--require-saturated", old, old}, exitcode.NotSaturated, "",
			"has no discovery timeline (firstSeenMs: a recording of format version 3): saturation unknown"},
		// Drift first.
		{[]string{"--require-saturated", "settled.json", "late.json"}, exitcode.Found, "DRIFT: NEW needs what OLD does not allow:\n  sysinfo", ""},
	} {
		r := runProfgen(t, dir, append([]string{"diff"}, c.args...)...)
		if r.code != c.code || !strings.Contains(r.stdout, c.stdout) || !strings.Contains(r.stderr, c.stderr) {
			t.Errorf("diff %v: exit %d, want %d; stdout want %q:\n%s\nstderr want %q:\n%s", c.args, r.code, c.code, c.stdout, r.stdout, c.stderr, r.stderr)
		}
		if c.stderr != "" && strings.Count(strings.TrimSpace(r.stderr), "\n") != 0 {
			t.Errorf("diff %v: more than one line on standard error:\n%s", c.args, r.stderr)
		}
	}

	// --json carries the saturation of NEW.
	r := runProfgen(t, dir, "diff", "--json", "late.json", "late.json")
	var rep struct {
		Saturation *struct {
			Known, Saturated bool
			LateSyscalls     []string
		}
	}
	if err := json.Unmarshal([]byte(r.stdout), &rep); err != nil || rep.Saturation == nil || !rep.Saturation.Known || rep.Saturation.Saturated ||
		len(rep.Saturation.LateSyscalls) != 1 || rep.Saturation.LateSyscalls[0] != "sysinfo" {
		t.Errorf("diff --json: %v %+v\n%s", err, rep.Saturation, r.stdout)
	}
	if r := runProfgen(t, dir, "diff", "--json", filepath.Base(old), filepath.Base(old)); strings.Contains(r.stdout, `"saturation"`) {
		t.Errorf("diff --json of a recording without a timeline has a saturation:\n%s", r.stdout)
	}
}
