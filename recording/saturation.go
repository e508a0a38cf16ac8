package recording

import (
	"fmt"
	"slices"
	"strings"
)

// LateShare is the share of a run, at its end, in which a first sighting
// means learning had not saturated: the last tenth.
const LateShare = 10

// EndCalls are the syscalls every process makes once, when it ends: their
// first sighting at the end of a run is no new behaviour, and Saturation
// leaves them out.
var EndCalls = []string{"exit", "exit_group"}

// Saturation is how learning went, from a recording's discovery timeline
// (the firstSeenMs of its syscalls and shapes, or in a merge their
// firstInput): what was learned, when the last new call appeared, and
// whether something new still appeared at the end.
type Saturation struct {
	// Syscalls and Shapes count what the recording holds.
	Syscalls int `json:"syscalls"`
	Shapes   int `json:"shapes"`
	// Known is set when the recording has a discovery timeline; the
	// fields below say nothing without it.
	Known bool `json:"known"`
	// Inputs is the number of runs of the recording. With one, the
	// timeline is in time (WindowMs, Last*Ms); with more, in runs
	// (firstInput).
	Inputs int `json:"inputs"`
	// WindowMs is the time the run was watched for new behaviour: from
	// its start until profgen began to stop it (StoppedAtMs), or until
	// its end.
	WindowMs int64 `json:"windowMs,omitempty"`
	// LastSyscall is the syscall that appeared last in the window and
	// LastSyscallMs when (-1: none); LastShapeMs is when the last new
	// argument shape did (-1: none).
	LastSyscall   string `json:"lastSyscall,omitempty"`
	LastSyscallMs int64  `json:"lastSyscallMs"`
	LastShapeMs   int64  `json:"lastShapeMs"`
	// Shutdown counts the syscalls and shapes first seen after profgen
	// began to stop the target: its shutdown, left out.
	Shutdown int `json:"shutdown,omitempty"`
	// LateSyscalls and LateShapes are what appeared late: in the last
	// tenth of the window (one run) or with the last run (a merge).
	// Shapes read syscall(values...).
	LateSyscalls []string `json:"lateSyscalls"`
	LateShapes   []string `json:"lateShapes"`
	// Saturated is set when the timeline is known and nothing appeared
	// late.
	Saturated bool `json:"saturated"`
}

// Saturation returns how learning went in r (Saturation).
func (r *Recording) Saturation() Saturation {
	sat := Saturation{Inputs: max(r.Inputs, 1), LastSyscallMs: -1, LastShapeMs: -1, LateSyscalls: []string{}, LateShapes: []string{}}
	window := r.End.Sub(r.Start).Milliseconds()
	stopped := r.StoppedAtMs != nil && *r.StoppedAtMs <= window
	if stopped {
		window = *r.StoppedAtMs
	}
	sat.WindowMs = max(window, 0)
	// late tells whether a call of evidence e appeared late, and whether
	// it appeared in the shutdown.
	late := func(e *Evidence) (isLate, shutdown bool) {
		if sat.Inputs > 1 {
			return e.FirstInput == sat.Inputs, false
		}
		if e.FirstSeenMs == nil {
			return false, false
		}
		at := *e.FirstSeenMs
		// A call first seen in the millisecond profgen began to stop
		// the target, or later, is its shutdown (the times are in
		// whole milliseconds: the stop's own is the shutdown's).
		if at > sat.WindowMs || stopped && at == sat.WindowMs {
			return false, true
		}
		return at*LateShare > sat.WindowMs*(LateShare-1), false
	}
	for i := range r.Syscalls {
		s := &r.Syscalls[i]
		sat.Syscalls++
		sat.Shapes += len(s.Shapes)
		if s.FirstSeenMs != nil || s.FirstInput > 0 {
			sat.Known = true
		}
		if slices.Contains(EndCalls, s.Name) {
			continue
		}
		isLate, shutdown := late(&s.Evidence)
		switch {
		case shutdown:
			sat.Shutdown++
		case isLate:
			sat.LateSyscalls = append(sat.LateSyscalls, s.Name)
		}
		if s.FirstSeenMs != nil && !shutdown && *s.FirstSeenMs > sat.LastSyscallMs {
			sat.LastSyscallMs, sat.LastSyscall = *s.FirstSeenMs, s.Name
		}
		for j := range s.Shapes {
			sh := &s.Shapes[j]
			isLate, shutdown := late(&sh.Evidence)
			switch {
			case shutdown:
				sat.Shutdown++
			case isLate:
				sat.LateShapes = append(sat.LateShapes, shapeText(s.Name, sh.Values))
			}
			if sh.FirstSeenMs != nil && !shutdown && *sh.FirstSeenMs > sat.LastShapeMs {
				sat.LastShapeMs = *sh.FirstSeenMs
			}
		}
	}
	if sat.Inputs > 1 {
		sat.WindowMs, sat.LastSyscallMs, sat.LastShapeMs, sat.LastSyscall = 0, -1, -1, ""
	}
	sat.Saturated = sat.Known && len(sat.LateSyscalls) == 0 && len(sat.LateShapes) == 0
	return sat
}

// shapeText writes a shape as syscall(values...).
func shapeText(name string, values []Hex) string {
	parts := make([]string, len(values))
	for i, v := range values {
		parts[i] = fmt.Sprintf("%#x", uint64(v))
	}
	return name + "(" + strings.Join(parts, ", ") + ")"
}

// seconds writes a time in milliseconds as seconds.
func seconds(ms int64) string { return fmt.Sprintf("%.1f s", float64(ms)/1000) }

// String is the line on how learning went, such as "learned 87 syscalls
// and 112 argument shapes; the last new syscall (accept4) at 41.2 s of
// 60.0 s, the last new argument shape at 43.0 s: saturated".
func (s Saturation) String() string {
	head := fmt.Sprintf("learned %d syscalls and %d argument shapes", s.Syscalls, s.Shapes)
	switch {
	case !s.Known:
		return head + "; saturation unknown: the recording has no discovery timeline (firstSeenMs)"
	case s.Inputs > 1:
		if s.Saturated {
			return fmt.Sprintf("%s over %d runs: saturated: the last run added nothing", head, s.Inputs)
		}
		return fmt.Sprintf("%s over %d runs: not saturated: the last run still added %s", head, s.Inputs, s.lateText())
	}
	line := head
	if s.LastSyscallMs >= 0 {
		line += fmt.Sprintf("; the last new syscall (%s) at %s of %s", s.LastSyscall, seconds(s.LastSyscallMs), seconds(s.WindowMs))
	}
	if s.LastShapeMs >= 0 {
		line += ", the last new argument shape at " + seconds(s.LastShapeMs)
	}
	if s.Shutdown > 0 {
		line += fmt.Sprintf(" (and %d in its shutdown, left out)", s.Shutdown)
	}
	if s.Saturated {
		return line + ": saturated"
	}
	return line + fmt.Sprintf(": not saturated: %s first appeared in the last tenth (after %s)", s.lateText(), seconds(s.WindowMs*(LateShare-1)/LateShare))
}

// Warning is the warning to print with String when learning had not
// saturated, and "" otherwise.
func (s Saturation) Warning() string {
	if !s.Known || s.Saturated {
		return ""
	}
	if s.Inputs > 1 {
		return fmt.Sprintf("learning had not saturated: the last of %d runs still added %s; record more runs", s.Inputs, s.lateText())
	}
	return fmt.Sprintf("learning had not saturated: %s first appeared in the last tenth of the run; the profile may miss what a longer run would show: record for longer, or drive more of the program", s.lateText())
}

// lateText lists what appeared late: a few syscalls and shapes by name,
// and how many in all.
func (s Saturation) lateText() string {
	const shown = 5
	list := func(n int, what string, items []string) string {
		t := fmt.Sprintf("%d %s", n, what)
		if n != 1 {
			t += "s"
		}
		if n > shown {
			return t + " (" + strings.Join(items[:shown], ", ") + ", ...)"
		}
		return t + " (" + strings.Join(items, ", ") + ")"
	}
	var parts []string
	if n := len(s.LateSyscalls); n > 0 {
		parts = append(parts, list(n, "syscall", s.LateSyscalls))
	}
	if n := len(s.LateShapes); n > 0 {
		parts = append(parts, list(n, "argument shape", s.LateShapes))
	}
	return strings.Join(parts, " and ")
}
