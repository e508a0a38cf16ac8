package main

import (
	"errors"
	"fmt"
	"io"
	"os"
	"slices"
	"strings"

	"github.com/profgen/profgen/argspec"
	"github.com/profgen/profgen/explain"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/reachable"
)

// diffSide is one of diff's inputs: a recording or a profile (input), or,
// with --reachable, an executable.
type diffSide struct {
	input
	// exe is set when the input is an executable, whose path is path.
	exe  bool
	path string
}

// readDiffInput reads one of diff's inputs: a recording or a profile, or,
// when exes (--reachable), an executable too (executableArg tells them
// apart).
func readDiffInput(path string, exes bool) (diffSide, error) {
	if exes && path != fileio.Stdin {
		exe, ok, err := executableArg(path)
		if err != nil {
			return diffSide{}, err
		}
		if ok {
			return diffSide{input: input{kind: "executable"}, exe: true, path: exe}, nil
		}
	}
	in, err := readInput(path)
	return diffSide{input: in, path: path}, err
}

// reachDiff is diff --reachable's comparison of what OLD's and NEW's
// executables can reach.
type reachDiff struct {
	Old reachSide `json:"old"`
	New reachSide `json:"new"`
	// Added are the syscalls NEW's code can reach and OLD's could not.
	Added []reachChange `json:"added"`
	// Removed are the syscalls OLD's code could reach and NEW's no longer
	// can.
	Removed []reachChange `json:"removed"`
	// Notes say what was not analysed, per side, and the executables both
	// sides name (analysed once, as they are on disk now).
	Notes []string `json:"notes,omitempty"`
}

// reachSide is what one side's analysis found.
type reachSide struct {
	// Programs are the executables analysed.
	Programs []string `json:"programs"`
	// Reachable counts the syscalls they can make.
	Reachable int `json:"reachable"`
	// Undetermined counts the syscall sites whose number the analysis
	// could not tell.
	Undetermined int `json:"undetermined"`
	// Complete is false when part of the code was not analysed (notes).
	Complete bool `json:"complete"`
}

// reachChange is a syscall one side reaches and the other does not.
type reachChange struct {
	unseenCall
	// RecordedByNew says that NEW, a recording, made the call.
	RecordedByNew bool `json:"recordedByNew,omitempty"`
}

// diffReachable analyses the executables of old and new (as profgen
// reachable does, cached) and compares what they can reach. A side with
// nothing to analyse, or two sides that name the same files, is an error.
func diffReachable(old, cur diffSide, oldPath, newPath string) (*reachDiff, error) {
	var reports [2]*reachReport
	for i, s := range []struct {
		name, path string
		side       diffSide
	}{{"OLD", oldPath, old}, {"NEW", newPath, cur}} {
		r, err := analyzeSide(s.side)
		if err != nil {
			return nil, fmt.Errorf("--reachable: %s (%s): %w", s.name, s.path, err)
		}
		reports[i] = r
	}
	oldR, newR := reports[0], reports[1]
	d := &reachDiff{Old: sideOf(oldR), New: sideOf(newR), Added: []reachChange{}, Removed: []reachChange{}}
	for i, r := range reports {
		for _, n := range r.Notes {
			d.Notes = append(d.Notes, []string{"OLD", "NEW"}[i]+": "+n)
		}
	}
	shared, distinct := sharedExes(oldR.Programs, newR.Programs)
	if !distinct {
		return nil, fmt.Errorf("--reachable: OLD (%s) and NEW (%s) name the same executable files (%s), analysed as they are on disk now: nothing could differ; give the old and the new build (profgen diff --reachable OLD-EXE NEW-EXE)", oldPath, newPath, strings.Join(shared, ", "))
	}
	for _, s := range shared {
		d.Notes = append(d.Notes, fmt.Sprintf("%s: named by OLD and NEW, analysed once as it is on disk now (a build replaced since OLD's recording counts as NEW's on both sides)", s))
	}
	recorded := map[string]bool{}
	for _, s := range newR.Recorded {
		recorded[s] = true
	}
	change := func(name string) reachChange {
		return reachChange{unseenCall: unseenCall{Name: name, Purpose: argspec.Purpose(name), Dangerous: explain.DangerousWhy(name)}, RecordedByNew: recorded[name]}
	}
	for _, s := range newR.Reachable {
		if !slices.Contains(oldR.Reachable, s) {
			d.Added = append(d.Added, change(s))
		}
	}
	for _, s := range oldR.Reachable {
		if !slices.Contains(newR.Reachable, s) {
			d.Removed = append(d.Removed, change(s))
		}
	}
	return d, nil
}

// analyzeSide analyses the executables of one side of diff --reachable: a
// recording's, or the executable itself.
func analyzeSide(s diffSide) (*reachReport, error) {
	switch {
	case s.exe:
		return analyzeReachable(nil, []string{s.path}, reachable.Options{})
	case s.rec != nil:
		r, err := analyzeReachable(s.rec, nil, reachable.Options{})
		var noRoot *noRootError
		switch {
		case errors.Is(err, errNoExes):
			return nil, fmt.Errorf("%w: give the executables (profgen diff --reachable OLD-EXE NEW-EXE)", err)
		case errors.As(err, &noRoot):
			return nil, fmt.Errorf("%w; give the executables (profgen diff --reachable OLD-EXE NEW-EXE)", noRoot.err)
		}
		return r, err
	}
	return nil, errors.New("a profile names no executable to analyse: give recordings or executables")
}

// sideOf sums up one side's analysis.
func sideOf(r *reachReport) reachSide {
	s := reachSide{Programs: []string{}, Reachable: len(r.Reachable), Complete: true}
	for _, p := range r.Programs {
		s.Programs = append(s.Programs, p.Path)
		s.Undetermined += p.Undetermined
		s.Complete = s.Complete && p.Complete
	}
	return s
}

// sharedExes returns the executables (host files) both sides analysed,
// and whether either side analysed one the other did not.
func sharedExes(old, cur []*reachable.Program) ([]string, bool) {
	type file struct {
		path string
		st   os.FileInfo
	}
	files := func(ps []*reachable.Program) []file {
		var fs []file
		for _, p := range ps {
			if len(p.Objects) == 0 {
				continue
			}
			if st, err := os.Stat(p.Objects[0]); err == nil {
				fs = append(fs, file{p.Objects[0], st})
			}
		}
		return fs
	}
	in := func(f file, fs []file) bool {
		return slices.ContainsFunc(fs, func(g file) bool { return os.SameFile(f.st, g.st) })
	}
	o, n := files(old), files(cur)
	var shared []string
	distinct := false
	for _, f := range n {
		if in(f, o) {
			shared = append(shared, f.path)
		} else {
			distinct = true
		}
	}
	for _, f := range o {
		distinct = distinct || !in(f, n)
	}
	slices.Sort(shared)
	return shared, distinct
}

// writeReachDiff writes diff --reachable's comparison.
func writeReachDiff(w io.Writer, d *reachDiff) error {
	for _, s := range []struct {
		name string
		side reachSide
	}{{"OLD", d.Old}, {"NEW", d.New}} {
		incomplete := ""
		if !s.side.Complete {
			incomplete = ", incomplete: see the notes"
		}
		fmt.Fprintf(w, "reachable by %s: %d syscalls (%s; %d sites undetermined%s)\n", s.name, s.side.Reachable, strings.Join(s.side.Programs, ", "), s.side.Undetermined, incomplete)
	}
	for _, n := range d.Notes {
		fmt.Fprintf(w, "note: reachable: %s\n", n)
	}
	for _, l := range []struct {
		title string
		calls []reachChange
	}{{"newly reachable (NEW's code can make them, OLD's could not)", d.Added}, {"no longer reachable (OLD's code could make them, NEW's cannot)", d.Removed}} {
		fmt.Fprintf(w, "%s: %d\n", l.title, len(l.calls))
		var calls []unseenCall
		var made []string
		for _, c := range l.calls {
			calls = append(calls, c.unseenCall)
			if c.RecordedByNew {
				made = append(made, c.Name)
			}
		}
		if err := writeUnseen(w, calls); err != nil {
			return err
		}
		if len(made) > 0 {
			fmt.Fprintf(w, "  recorded by NEW (%d):\n", len(made))
			if err := writeWrapped(w, "    ", made); err != nil {
				return err
			}
		}
	}
	return nil
}
