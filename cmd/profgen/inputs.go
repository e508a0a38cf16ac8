package main

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"

	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

// This file is the one place the CLI reads its inputs: recordings (merged
// as a union), OCI profiles, and diff's "recording or profile" inputs. Every
// file goes through fileio.ReadFile: a regular file or "-" (standard
// input, at most once per command), with a size limit.

// recordings is what readRecordings read: the recordings merged, and the
// --base profiles they were made against.
type recordings struct {
	*recording.Recording
	// bases are the --base profiles of log recordings, in order.
	bases []string
	// mixed names an input that itself merges recordings made against
	// different --base profiles (whose bases it no longer names).
	mixed string
	// notes are the lines that say, input by input, what changes what
	// the inputs mean (inputNotes), for emit and merge to print.
	notes []string
	// inputs are the recordings read, in order, before the merge.
	inputs []*recording.Recording
}

// readRecordings reads the recordings at paths (profgen-recording.json when
// there are none) and merges them into one.
func readRecordings(paths []string) (*recordings, error) {
	if len(paths) == 0 {
		paths = []string{defaultRecording}
	}
	if err := oneStdin(paths); err != nil {
		return nil, err
	}
	recs := make([]*recording.Recording, 0, len(paths))
	for _, path := range paths {
		r, err := recording.ReadFile(path)
		if err != nil {
			return nil, err
		}
		recs = append(recs, r)
	}
	return mergeRecordings(paths, recs)
}

// mergeRecordings merges recs, read from paths (in order), into one, with
// the notes and --base profiles of each.
func mergeRecordings(paths []string, recs []*recording.Recording) (*recordings, error) {
	out := &recordings{}
	for i, path := range paths {
		r := recs[i]
		out.notes = append(out.notes, inputNotes(path, r)...)
		switch {
		case r.Base == recording.Mixed:
			if out.mixed == "" {
				out.mixed = path
			}
		case r.Base != "" && !slices.Contains(out.bases, r.Base):
			out.bases = append(out.bases, r.Base)
		}
	}
	m, err := recording.Merge(recs...)
	if err != nil {
		return nil, err
	}
	out.Recording = m
	out.inputs = recs
	return out, nil
}

// inputNotes are the lines that say what a recording read from path
// carries that changes what a profile learned from it means: each of its
// notes (recorded under a filter, a container that exited at once, audit
// records lost, ...; every note, so that one a recorder adds shows up with
// no change here) and its having been interrupted. Lost events have their
// own warning (lossText).
func inputNotes(path string, r *recording.Recording) []string {
	name := path
	if path == fileio.Stdin {
		name = "standard input"
	}
	var lines []string
	if r.Interrupted {
		lines = append(lines, fmt.Sprintf("recording %s: interrupted: a signal stopped the recording before its target ended, so it may miss what the target does later", name))
	}
	for _, n := range r.Notes {
		// One line each: a note never spans lines on the terminal.
		n = strings.Join(strings.Fields(n), " ")
		lines = append(lines, fmt.Sprintf("recording %s: %s", name, n))
	}
	return lines
}

// printNotes prints the notes of the inputs on standard error, one line
// each, unless quiet (emit and merge --quiet).
func (rs *recordings) printNotes(quiet bool) {
	if quiet {
		return
	}
	for _, n := range rs.notes {
		fmt.Fprintf(os.Stderr, "profgen: note: %s\n", n)
	}
}

// checkOutputNotInput refuses an output that is one of the inputs (the
// same file, also through a symbolic or hard link, or standard input
// redirected from it): writing it would replace what is being read, a
// read-only file too, since the output is renamed over it. cmd names the
// command in the error.
func checkOutputNotInput(cmd, output string, inputs []string) error {
	if output == "" || output == fileio.Stdout {
		return nil
	}
	out, err := os.Stat(output)
	if err != nil {
		return nil // a new file (or one Create will refuse, saying why)
	}
	for _, in := range inputs {
		var st os.FileInfo
		if in == fileio.Stdin {
			st, err = os.Stdin.Stat()
		} else {
			st, err = os.Stat(in)
		}
		if err != nil || !os.SameFile(out, st) {
			continue
		}
		if in == fileio.Stdin {
			in = "standard input"
		}
		return fmt.Errorf("output %s is the input %s (the same file): %s would replace its own input; write elsewhere", output, in, cmd)
	}
	return nil
}

// oneStdin refuses more than one "-" among paths: standard input can be
// read only once.
func oneStdin(paths []string) error {
	n := 0
	for _, p := range paths {
		if p == fileio.Stdin {
			n++
		}
	}
	if n > 1 {
		return errors.New("standard input (-) given more than once")
	}
	return nil
}

// learn learns one profile from the recordings. A recording made with
// --base holds only what the base profile did not allow: the profile is
// then the base plus what was learned.
func (rs *recordings) learn(opts learn.Options) (*learn.Profile, error) {
	if rs.mixed != "" {
		return nil, fmt.Errorf("recording %s merges recordings made against different --base profiles: emit from those recordings instead", rs.mixed)
	}
	prof, err := learn.FromRecording(rs.Recording, opts)
	if err != nil {
		return nil, err
	}
	profs := []*learn.Profile{prof}
	for _, b := range rs.bases {
		bp, err := readProfile(b)
		if err != nil {
			return nil, fmt.Errorf("base profile of the recording: %w", err)
		}
		profs = append(profs, bp)
	}
	if len(profs) == 1 {
		return prof, nil
	}
	return learn.Merge(profs...)
}

// readProfile reads an OCI profile and tells the user, on standard error,
// what reading it left out (Docker's conditional entries, syscalls of
// other architectures).
func readProfile(path string) (*learn.Profile, error) {
	p, err := readers.ReadOCIFile(path)
	if err != nil {
		return nil, err
	}
	notes(path, p)
	return p, nil
}

func notes(path string, p *learn.Profile) {
	for _, n := range p.Notes {
		fmt.Fprintf(os.Stderr, "profgen: note: profile %s: %s\n", path, n)
	}
}

// input is a recording or a profile, told apart by its content.
type input struct {
	rec  *recording.Recording
	prof *learn.Profile
	kind string // "recording" or "profile"
}

// readInput reads a recording or an OCI profile, told apart by their
// fields: a recording has "version" and "syscalls" entries with "count";
// an OCI profile has "defaultAction".
func readInput(path string) (input, error) {
	data, err := fileio.ReadFile(path, 0, os.Stdin)
	if err != nil {
		return input{}, err
	}
	var probe struct {
		Version       *json.RawMessage `json:"version"`
		DefaultAction *json.RawMessage `json:"defaultAction"`
		Syscalls      []map[string]json.RawMessage
	}
	if err := json.Unmarshal(data, &probe); err != nil {
		// Let the parser of what it looks like say where the JSON is
		// broken.
		if bytes.Contains(data, []byte(`"defaultAction"`)) {
			_, err = readers.ParseOCI(data)
		} else {
			_, err = recording.Parse(data)
		}
		return input{}, fmt.Errorf("%s: %w", path, err)
	}
	isRecording := probe.Version != nil && !slices.ContainsFunc(probe.Syscalls, func(s map[string]json.RawMessage) bool {
		_, ok := s["count"]
		return !ok
	})
	switch {
	case isRecording && probe.DefaultAction == nil:
		r, err := recording.Parse(data)
		if err != nil {
			return input{}, fmt.Errorf("recording %s: %w", path, err)
		}
		return input{rec: r, kind: "recording"}, nil
	case probe.DefaultAction != nil:
		prof, err := readers.ParseOCI(data)
		if err != nil {
			return input{}, fmt.Errorf("profile %s: %w", path, err)
		}
		notes(path, prof)
		return input{prof: prof, kind: "profile"}, nil
	}
	return input{}, fmt.Errorf("%s is neither a profgen recording (\"version\", \"syscalls\" with \"count\") nor an OCI seccomp profile (\"defaultAction\")", path)
}

// lossText says what a recording that lost events misses, or "" when it
// lost none.
func lossText(rec *recording.Recording) string {
	if rec.Lost == 0 {
		return ""
	}
	hint := ""
	if rec.Backend == recording.BackendEBPF || rec.Backend == recording.BackendMixed {
		hint = " (record again with a larger --max-shapes)"
	}
	return fmt.Sprintf("the recording lost %d syscall events%s: a profile learned from it may deny calls the target makes", rec.Lost, hint)
}

// checkReady is the one check of --ready against --drive (record and
// replay).
func checkReady(ready, drive string) error {
	if ready != "" && drive == "" {
		return errors.New("--ready needs --drive")
	}
	return nil
}
