package recording

import (
	"bytes"
	"slices"
	"strings"
	"testing"
)

// TestSaturation: the line on how learning went, from the discovery
// timeline of one run (the last tenth of the watched time) and of a merge
// (the last run); the shutdown after a stop and the calls every process
// ends with are left out.
func TestSaturation(t *testing.T) {
	if s := sample().Saturation(); s.Known || s.Saturated || s.Warning() != "" || !strings.Contains(s.String(), "saturation unknown") {
		t.Errorf("no timeline: %+v %q", s, s.String())
	}

	early := withEvidence("/usr/bin/a", "/usr/bin/b", 5)
	early.Syscalls = append(early.Syscalls, Syscall{Name: "exit_group", Number: 231, Count: 1, Seen: 1, Evidence: Evidence{FirstSeenMs: ms(999)}})
	early.Normalize()
	s := early.Saturation()
	if !s.Saturated || s.Syscalls != 3 || s.Shapes != 2 || s.LastSyscall != "socket" || s.LastSyscallMs != 6 || s.LastShapeMs != 7 || s.Warning() != "" {
		t.Errorf("early: %+v", s)
	}
	if want := "learned 3 syscalls and 2 argument shapes; the last new syscall (socket) at 0.0 s of 1.0 s, the last new argument shape at 0.0 s: saturated"; s.String() != want {
		t.Errorf("early:\n got %q\nwant %q", s.String(), want)
	}

	late := withEvidence("/usr/bin/a", "/usr/bin/b", 950)
	s = late.Saturation()
	if s.Saturated || !slices.Equal(s.LateSyscalls, []string{"read", "socket"}) || len(s.LateShapes) != 2 || s.LateShapes[0] != "socket(0x2, 0x1, 0x0)" {
		t.Errorf("late: %+v", s)
	}
	if w := s.Warning(); !strings.Contains(w, "2 syscalls (read, socket) and 2 argument shapes (socket(0x2, 0x1, 0x0), socket(0x1, 0x1, 0x0)) first appeared in the last tenth") {
		t.Errorf("late: warning %q", w)
	}
	// At exactly nine tenths: not late.
	if s := withEvidence("/a", "/b", 900).Saturation(); !slices.Equal(s.LateSyscalls, []string{"socket"}) {
		t.Errorf("read at 900 ms, socket at 901 ms of 1000: late %v, want socket alone", s.LateSyscalls)
	}

	// Stopped at 950 ms: what came from then on is the shutdown.
	late.StoppedAtMs = ms(950)
	s = late.Saturation()
	if !s.Saturated || s.Shutdown != 4 || s.WindowMs != 950 || s.LastSyscallMs != -1 || !strings.Contains(s.String(), "(and 4 in its shutdown, left out): saturated") {
		t.Errorf("stopped: %+v %q", s, s.String())
	}

	// A merge: judged by the last run.
	more := withEvidence("/usr/bin/a", "/usr/bin/b", 5)
	more.Syscalls = append(more.Syscalls, Syscall{Name: "write", Number: 1, Count: 1, Seen: 1, Evidence: Evidence{FirstSeenMs: ms(10)}})
	more.Normalize()
	m, err := Merge(early, early, more)
	if err != nil {
		t.Fatal(err)
	}
	s = m.Saturation()
	if s.Saturated || s.Inputs != 3 || !slices.Equal(s.LateSyscalls, []string{"write"}) || !strings.Contains(s.String(), "over 3 runs: not saturated: the last run still added 1 syscall (write)") {
		t.Errorf("merge, last run adds write: %+v %q", s, s.String())
	}
	if m, err = Merge(more, early, early); err != nil {
		t.Fatal(err)
	}
	if s = m.Saturation(); !s.Saturated || !strings.HasSuffix(s.String(), "over 3 runs: saturated: the last run added nothing") {
		t.Errorf("merge, the first run adds write: %+v %q", s, s.String())
	}
}

// TestStoppedAtMs: stoppedAtMs is read and written in version 3, refused
// negative or in an older version, and kept by a merge of one.
func TestStoppedAtMs(t *testing.T) {
	r := sample()
	r.StoppedAtMs = ms(700)
	back, err := Parse(encode(t, r))
	if err != nil || back.StoppedAtMs == nil || *back.StoppedAtMs != 700 {
		t.Fatalf("round trip: %v %v", back, err)
	}
	r.StoppedAtMs = ms(-1)
	if _, err := Parse(encode(t, r)); err == nil || !strings.Contains(err.Error(), "stoppedAtMs -1 is negative") {
		t.Errorf("negative: %v", err)
	}
	r.StoppedAtMs, r.Version = ms(1), 2
	var b bytes.Buffer
	if err := (&jsonNoNormalize{r}).encode(&b); err != nil {
		t.Fatal(err)
	}
	if _, err := Parse(b.Bytes()); err == nil || !strings.Contains(err.Error(), "stoppedAtMs needs format version 3") {
		t.Errorf("version 2: %v", err)
	}
}
