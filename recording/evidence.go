package recording

import (
	"fmt"
	"maps"
	"path"
	"slices"
)

// Phases of a run (Evidence.Phases).
const (
	// PhaseStartup is from the target's first execve until it was ready
	// (record --ready, profgen-runc's io.profgen.ready annotation).
	PhaseStartup = "startup"
	// PhaseServing is after the target was ready.
	PhaseServing = "serving"
	// PhaseRun is the whole run of a recording made without readiness.
	PhaseRun = "run"
)

// PhaseNames lists the phases, in the order a run goes through them.
var PhaseNames = []string{PhaseStartup, PhaseServing, PhaseRun}

// MaxExes is how many executables an Evidence names; the others are
// counted in OtherExes.
const MaxExes = 16

// Evidence says which programs made a call, when it first appeared and in
// which phases of the run (format version 3). It is a part of every
// Syscall and Shape; the zero Evidence says nothing (a recording of format
// version 2 or older, or of a backend that does not tell).
type Evidence struct {
	// Exes are the executables that made the call, as absolute paths as
	// the process saw them (in a container, the container's path),
	// sorted; at most MaxExes.
	Exes []string `json:"exes,omitempty"`
	// OtherExes counts the executables that made it beyond those listed
	// (in a merge: at least that many).
	OtherExes int `json:"otherExes,omitempty"`
	// FirstSeenMs is when the call was first seen, in milliseconds from
	// the recording's Start; in a merged recording, from the Start of the
	// input FirstInput names. Nil when unknown.
	FirstSeenMs *int64 `json:"firstSeenMs,omitempty"`
	// FirstInput is, in a merged recording, the first input (1-based, in
	// merge order) that made the call: first-seen times of different runs
	// are not comparable, their order is. 0 in a recording of one run.
	FirstInput int `json:"firstInput,omitempty"`
	// Phases counts the calls per phase (PhaseNames). Their sum is at most
	// the call count: inputs that recorded no phases add none.
	Phases map[string]uint64 `json:"phases,omitempty"`
}

// HasEvidence reports whether e says anything.
func (e *Evidence) HasEvidence() bool {
	return len(e.Exes) > 0 || e.OtherExes > 0 || e.FirstSeenMs != nil || len(e.Phases) > 0
}

// validate checks e, the evidence of a call counted count times in a
// recording of inputs runs.
func (e *Evidence) validate(count uint64, inputs int) error {
	if len(e.Exes) > MaxExes {
		return fmt.Errorf("%d exes listed, at most %d", len(e.Exes), MaxExes)
	}
	for i, x := range e.Exes {
		if !path.IsAbs(x) {
			return fmt.Errorf("exes[%d] %q is not an absolute path", i, x)
		}
		if i > 0 && e.Exes[i-1] >= x {
			return fmt.Errorf("exes not sorted or duplicated at %q", x)
		}
	}
	if e.OtherExes < 0 {
		return fmt.Errorf("otherExes %d is negative", e.OtherExes)
	}
	if e.FirstSeenMs != nil && *e.FirstSeenMs < 0 {
		return fmt.Errorf("firstSeenMs %d is negative", *e.FirstSeenMs)
	}
	if e.FirstInput < 0 || e.FirstInput > inputs || (e.FirstInput > 0 && inputs == 1) {
		return fmt.Errorf("firstInput %d is not within 0..%d inputs", e.FirstInput, inputs)
	}
	var sum uint64
	for name, n := range e.Phases {
		if !slices.Contains(PhaseNames, name) {
			return fmt.Errorf("unknown phase %q (known: %v)", name, PhaseNames)
		}
		sum = addCount(sum, n)
	}
	if sum > count {
		return fmt.Errorf("phases count %d calls, more than the %d recorded", sum, count)
	}
	return nil
}

// mergeEvidence folds the evidence e of input number input (1-based, the
// first of the inputs of a merged recording) into m. Executables are
// united (MaxExes listed, the rest counted), phases added, and the first
// sighting is the one of the earliest input.
func (m *Evidence) mergeEvidence(e *Evidence, input int) {
	exes := append(slices.Clone(m.Exes), e.Exes...)
	slices.Sort(exes)
	exes = slices.Compact(exes)
	m.OtherExes = addInt(m.OtherExes, e.OtherExes)
	if len(exes) > MaxExes {
		m.OtherExes = addInt(m.OtherExes, len(exes)-MaxExes)
		exes = exes[:MaxExes]
	}
	m.Exes = exes
	if len(m.Exes) == 0 {
		m.Exes = nil
	}
	for name, n := range e.Phases {
		if m.Phases == nil {
			m.Phases = map[string]uint64{}
		}
		m.Phases[name] = addCount(m.Phases[name], n)
	}
	if e.FirstSeenMs != nil || e.FirstInput > 0 {
		at := input + max(e.FirstInput, 1) - 1
		if m.FirstInput == 0 || at < m.FirstInput {
			m.FirstInput = at
			m.FirstSeenMs = nil
			if e.FirstSeenMs != nil {
				v := *e.FirstSeenMs
				m.FirstSeenMs = &v
			}
		}
	}
}

// cloneEvidence returns a deep copy of e.
func cloneEvidence(e Evidence) Evidence {
	c := e
	c.Exes = slices.Clone(e.Exes)
	c.Phases = maps.Clone(e.Phases)
	if e.FirstSeenMs != nil {
		v := *e.FirstSeenMs
		c.FirstSeenMs = &v
	}
	return c
}

// HasPhases reports whether r recorded the phases of its calls.
func (r *Recording) HasPhases() bool {
	for i := range r.Syscalls {
		if len(r.Syscalls[i].Phases) > 0 {
			return true
		}
	}
	return false
}

// Phase returns a copy of r holding only the calls made in the named
// phase, each counted as many times as it was made then. It fails when r
// recorded no phases, or recorded no calls in that phase.
func (r *Recording) Phase(name string) (*Recording, error) {
	if !slices.Contains(PhaseNames, name) {
		return nil, fmt.Errorf("unknown phase %q (known: %v)", name, PhaseNames)
	}
	if !r.HasPhases() {
		return nil, fmt.Errorf("the recording has no phases (record with --ready, or give profgen-runc io.profgen.ready)")
	}
	out := *r
	out.Syscalls = nil
	out.Sections = maps.Clone(r.Sections)
	out.Notes = append(slices.Clone(r.Notes), fmt.Sprintf("the %s phase alone", name))
	for _, s := range r.Syscalls {
		n := s.Phases[name]
		if n == 0 {
			continue
		}
		c := s
		c.Evidence = cloneEvidence(s.Evidence)
		c.Args = slices.Clone(s.Args)
		c.Count = n
		c.Phases = map[string]uint64{name: n}
		c.Shapes = nil
		for _, sh := range s.Shapes {
			if len(sh.Phases) == 0 {
				return nil, fmt.Errorf("%s: an argument shape has no phases: the phase of its calls is unknown", s.Name)
			}
			if k := sh.Phases[name]; k > 0 {
				shc := sh
				shc.Values = slices.Clone(sh.Values)
				shc.Evidence = cloneEvidence(sh.Evidence)
				shc.Count = k
				shc.Phases = map[string]uint64{name: k}
				c.Shapes = append(c.Shapes, shc)
			}
		}
		if len(s.Args) > 0 && len(s.Shapes) > 0 && len(c.Shapes) == 0 {
			return nil, fmt.Errorf("%s: %d calls in phase %s, but none of its argument shapes is", s.Name, n, name)
		}
		out.Syscalls = append(out.Syscalls, c)
	}
	if len(out.Syscalls) == 0 {
		return nil, fmt.Errorf("the recording has no calls in phase %s", name)
	}
	return &out, nil
}

// validateEvidence checks the evidence of a call counted count times: its
// fields, and that a recording older than format version 3 has none.
func (r *Recording) validateEvidence(e *Evidence, count uint64, inputs int) error {
	if !e.HasEvidence() && e.FirstInput == 0 {
		return nil
	}
	if r.Version != 0 && r.Version < 3 {
		return fmt.Errorf("evidence (exes, firstSeenMs, phases) needs format version 3, not %d", r.Version)
	}
	return e.validate(count, inputs)
}
