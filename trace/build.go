package trace

import (
	"fmt"
	"maps"
	"os"
	"sort"
	"time"

	"golang.org/x/sys/unix"

	"github.com/profgen/profgen/internal/abi"
	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/recording"
)

// run is what a recording says about the run that made it, besides the
// observations: Record's session and Attach fill it in.
type run struct {
	tool       string
	command    []string
	backend    recording.BackendName
	start, end time.Time
	// ready is when the target was ready (Options.Ready; the zero time
	// without readiness).
	ready time.Time
	// stopped is when the target was first told to stop (the zero time
	// when it ended by itself).
	stopped     time.Time
	interrupted bool
	notes       []string
	// exit is the target's main process's state; nil (exit code -1) when
	// it is not profgen's child (Attach).
	exit *os.ProcessState
}

// buildRecording turns a run's observations into a recording: arch is the
// native ABI, args the captured arguments of each syscall number (from
// the argument table); it returns the warnings for the user besides.
func buildRecording(r run, arch abi.Arch, obs *Observations, args map[int][]recording.Arg) (*recording.Recording, []string, error) {
	var uts unix.Utsname
	if err := unix.Uname(&uts); err != nil {
		return nil, nil, fmt.Errorf("uname: %w", err)
	}
	rec := &recording.Recording{
		Version:     recording.Version,
		Tool:        r.tool,
		Kernel:      unix.ByteSliceToString(uts.Release[:]),
		Arch:        string(arch),
		Backend:     r.backend,
		Scope:       obs.Scope,
		Command:     append([]string(nil), r.command...),
		Start:       r.start.UTC(),
		End:         r.end.UTC(),
		Interrupted: r.interrupted,
		Lost:        obs.Lost,
		ArgShapes:   obs.ArgShapes,
		Inputs:      1,
		Notes:       append(append([]string(nil), r.notes...), obs.Notes...),
		Sections:    obs.Sections,
	}
	if !r.ready.IsZero() {
		ms := sinceMs(r.start, r.ready)
		rec.ReadyAtMs = &ms
	}
	if !r.stopped.IsZero() {
		ms := sinceMs(r.start, r.stopped)
		rec.StoppedAtMs = &ms
	}
	rec.Exit.Code = exitcode.Of(r.exit)
	rec.Exit.Signal = exitcode.Signal(r.exit)

	byNr := map[int]*recording.Syscall{}
	// ofNr is the evidence of each syscall: that of its keys together.
	ofNr := map[int]*Evidence{}
	unknown := map[uint32]uint64{}
	for k, n := range obs.Counts {
		nr := int(k.Nr)
		sc := byNr[nr]
		if sc == nil {
			name, err := abi.SyscallName(arch, nr)
			if err == nil {
				// Guard against aliases such as x32 numbers that
				// libseccomp might map to a native name.
				if back, err2 := abi.SyscallNumber(arch, name); err2 != nil || back != nr {
					err = fmt.Errorf("%s is not %d", name, nr)
				}
			}
			if err != nil {
				unknown[k.Nr] += n
				continue
			}
			sc = &recording.Syscall{Name: name, Number: nr, Seen: 1}
			if obs.ArgShapes {
				sc.Args = args[nr]
			}
			byNr[nr] = sc
		}
		sc.Count += n
		ev := obs.Evidence[k]
		if ev != nil {
			if ofNr[nr] == nil {
				ofNr[nr] = &Evidence{Exes: map[string]bool{}}
			}
			ofNr[nr].add(ev)
		}
		if len(sc.Args) > 0 {
			vals := make([]recording.Hex, len(sc.Args))
			for i, a := range sc.Args {
				vals[i] = recording.Hex(k.Args[a.Index])
			}
			sh := recording.Shape{Values: vals, Count: n, Seen: 1}
			if ev != nil {
				sh.Evidence = ev.recorded(r.start)
			}
			sc.Shapes = append(sc.Shapes, sh)
		}
	}
	for nr, sc := range byNr {
		if ev := ofNr[nr]; ev != nil {
			sc.Evidence = ev.recorded(r.start)
		}
		rec.Syscalls = append(rec.Syscalls, *sc)
	}
	if rec.Syscalls == nil {
		rec.Syscalls = []recording.Syscall{}
	}
	if len(unknown) > 0 {
		nrs := make([]uint32, 0, len(unknown))
		var total uint64
		for nr, n := range unknown {
			nrs = append(nrs, nr)
			total += n
		}
		sort.Slice(nrs, func(i, j int) bool { return nrs[i] < nrs[j] })
		desc := ""
		for i, nr := range nrs {
			if i > 0 {
				desc += ", "
			}
			desc += fmt.Sprintf("%d (%#x) x%d", int32(nr), nr, unknown[nr])
		}
		rec.Notes = append(rec.Notes, fmt.Sprintf(
			"%d syscalls with numbers libseccomp cannot name on %s are not in this recording: %s", total, arch, desc))
	}
	var warnings []string
	if obs.Lost > 0 {
		w := fmt.Sprintf("%d syscall events were lost by the %s backend (see the notes); the recording may miss syscalls or argument values", obs.Lost, r.backend)
		warnings = append(warnings, w)
		rec.Notes = append(rec.Notes, w)
	}
	rec.Normalize()
	if err := rec.Validate(); err != nil {
		return nil, nil, fmt.Errorf("build recording: %w", err)
	}
	return rec, warnings, nil
}

// recorded is ev as a recording carries it, its first sighting in
// milliseconds from start.
func (ev *Evidence) recorded(start time.Time) recording.Evidence {
	var out recording.Evidence
	for x := range ev.Exes {
		out.Exes = append(out.Exes, x)
	}
	sort.Strings(out.Exes)
	if len(out.Exes) > recording.MaxExes {
		out.OtherExes = len(out.Exes) - recording.MaxExes
		out.Exes = out.Exes[:recording.MaxExes]
	}
	out.OtherExes += ev.UnnamedExes
	if !ev.First.IsZero() {
		ms := sinceMs(start, ev.First)
		out.FirstSeenMs = &ms
	}
	if len(ev.Phases) > 0 {
		out.Phases = maps.Clone(ev.Phases)
	}
	return out
}

// sinceMs is the time from start to t in milliseconds, 0 when t is before
// start (a sighting stamped by another clock's reading a little earlier).
func sinceMs(start, t time.Time) int64 {
	return max(t.Sub(start).Milliseconds(), 0)
}
