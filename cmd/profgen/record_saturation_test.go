package main

import (
	"path/filepath"
	"regexp"
	"strings"
	"testing"

	"github.com/profgen/profgen/internal/workload"
	"github.com/profgen/profgen/recording"
)

// lastLine returns the last line of s.
func lastLine(s string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	return lines[len(lines)-1]
}

// TestRecordSaturationLine: record ends with one line on how learning
// went, from the recording's discovery timeline; a program that makes a
// new syscall in the last tenth of its run gets the warning, one that
// settled early does not, and a target's shutdown after profgen stopped
// it (stoppedAtMs) is left out. Both backends keep the timeline.
func TestRecordSaturationLine(t *testing.T) {
	bin := workload.Build(t, "latecall")
	for _, backend := range []string{"ebpf", "log"} {
		t.Run(backend, func(t *testing.T) {
			dir := t.TempDir()
			r := runProfgen(t, dir, "record", "--backend", backend, "-o", "late.json", "--", bin, "2000", "late")
			if r.code != 0 {
				t.Fatalf("late: exit %d: %s", r.code, r.stderr)
			}
			if !strings.Contains(r.stderr, "profgen: warning: learning had not saturated: 1 syscall (sysinfo) first appeared in the last tenth of the run") {
				t.Errorf("late: no warning naming sysinfo:\n%s", r.stderr)
			}
			lines := strings.Split(strings.TrimRight(r.stderr, "\n"), "\n")
			if len(lines) < 2 || !regexp.MustCompile(`; the last new syscall \(sysinfo\) at 2\.\d s of 2\.\d s(, .*)?: not saturated: 1 syscall \(sysinfo\) first appeared in the last tenth`).MatchString(lines[len(lines)-2]) {
				t.Errorf("late: the line on learning does not say sysinfo came last, at 2.0 s of 2.0 s:\n%s", r.stderr)
			}
			rec, err := recording.ReadFile(filepath.Join(dir, "late.json"))
			if err != nil {
				t.Fatal(err)
			}
			s := rec.Lookup("sysinfo")
			if s == nil || s.FirstSeenMs == nil || *s.FirstSeenMs < 1900 {
				t.Errorf("late: sysinfo in the recording %+v, want first seen at 2 s", s)
			}
			if rec.StoppedAtMs != nil {
				t.Errorf("late: stoppedAtMs %d for a target that ended by itself", *rec.StoppedAtMs)
			}

			r = runProfgen(t, dir, "record", "--backend", backend, "-o", "settled.json", "--", bin, "2000")
			if r.code != 0 {
				t.Fatalf("settled: exit %d: %s", r.code, r.stderr)
			}
			last := lastLine(r.stderr)
			if strings.Contains(r.stderr, "saturated:") && !strings.HasSuffix(last, ": saturated") || strings.Contains(r.stderr, "warning: learning") {
				t.Errorf("settled: want the last line to end in \": saturated\" and no warning:\n%s", r.stderr)
			}
			if !regexp.MustCompile(`^profgen: learned \d+ syscalls and \d+ argument shapes; the last new syscall \(\w+\) at 0\.\d s of 2\.\d s(, .*)?: saturated$`).MatchString(last) {
				t.Errorf("settled: last line %q", last)
			}

			// Stopped at --duration: what the shell does once told to
			// stop (its trap, a new cat) is its shutdown.
			r = runProfgen(t, dir, "record", "--backend", backend, "-o", "stopped.json", "--duration", "1500ms", "--",
				"sh", "-c", `trap 'cat /etc/hostname >/dev/null; exit 0' TERM; sleep 100 & wait`)
			if r.code != 0 {
				t.Fatalf("stopped: exit %d: %s", r.code, r.stderr)
			}
			last = lastLine(r.stderr)
			if !strings.HasSuffix(last, ": saturated") || !strings.Contains(last, "in its shutdown, left out") {
				t.Errorf("stopped: last line %q, want the shutdown left out and saturated", last)
			}
			rec, err = recording.ReadFile(filepath.Join(dir, "stopped.json"))
			if err != nil {
				t.Fatal(err)
			}
			if rec.StoppedAtMs == nil || *rec.StoppedAtMs < 1400 {
				t.Errorf("stopped: stoppedAtMs %v, want about 1500", rec.StoppedAtMs)
			}
		})
	}
}
