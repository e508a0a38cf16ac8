package main

import (
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// servingPhase is r's serving phase (recording.Recording.Phase) with the
// runtime's housekeeping calls (argspec.Housekeeping) that r made in start-up carried over, with
// their start-up argument shapes: the serving filter must not deny what
// the runtime does whenever it needs to. A call the run
// never made is not added, and the shapes keep what was learned (no
// PROT_EXEC mapping, no fork's clone flags, unless start-up used them).
// note says what was carried over, "" when nothing was.
func servingPhase(r *recording.Recording) (ph *recording.Recording, note string, err error) {
	if ph, err = r.Phase(recording.PhaseServing); err != nil {
		return nil, "", err
	}
	if !hasPhase(r, recording.PhaseStartup) {
		return ph, "", nil
	}
	st, err := r.Phase(recording.PhaseStartup)
	if err != nil {
		return nil, "", err
	}
	var carried []string
	for _, s := range st.Syscalls {
		if !argspec.Housekeeping(s.Name) {
			continue
		}
		i := slices.IndexFunc(ph.Syscalls, func(c recording.Syscall) bool { return c.Name == s.Name })
		if i < 0 {
			ph.Syscalls = append(ph.Syscalls, s)
			carried = append(carried, s.Name)
			continue
		}
		c := &ph.Syscalls[i]
		for _, sh := range s.Shapes {
			if !slices.ContainsFunc(c.Shapes, func(o recording.Shape) bool { return slices.Equal(o.Values, sh.Values) }) {
				c.Shapes = append(c.Shapes, sh)
				if !slices.Contains(carried, s.Name) {
					carried = append(carried, s.Name)
				}
			}
		}
	}
	if len(carried) == 0 {
		return ph, "", nil
	}
	slices.SortFunc(ph.Syscalls, func(a, b recording.Syscall) int { return strings.Compare(a.Name, b.Name) })
	return ph, fmt.Sprintf("the serving phase keeps what start-up recorded of %s: a runtime creates threads and maps memory whenever it needs to", strings.Join(carried, ", ")), nil
}

// notePhase adds p.servingNote to prof, the serving phase's profile, and
// prints it on standard error unless --quiet.
func (p *emitParams) notePhase(prof *learn.Profile) {
	prof.Notes = append(prof.Notes, p.servingNote)
	if !p.quiet {
		fmt.Fprintf(os.Stderr, "profgen: note: %s\n", p.servingNote)
	}
}
