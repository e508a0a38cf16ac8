package explain

import (
	"encoding/json"
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"

	"github.com/profgen/profgen/emit"
	"github.com/profgen/profgen/internal/fileio"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/recording"
)

// KindRecording is a profgen recording (recording-format.md).
const KindRecording = "recording"

// Options adjust how explain reads its inputs.
type Options struct {
	// Learn learns the profiles a recording is judged by. Nil means
	// learn.FromRecording's defaults and the serving phase alone
	// (recording.Recording.Phase); cmd/profgen passes what emit learns,
	// so that explain and emit agree.
	Learn func(r *recording.Recording) (Learned, error)
}

// Learned are the profiles a recording is judged by.
type Learned struct {
	// Full is the whole run's profile.
	Full *learn.Profile
	// Serving is the serving phase's, nil for a recording without
	// phases or whose serving phase cannot be learned (ServingNote
	// says why).
	Serving     *learn.Profile
	ServingNote string
}

// RecordingReport is what explain says of a recording: each recorded
// syscall with its evidence, the profile learned from it and, for a
// recording made with --ready, what the serving phase's filter drops.
type RecordingReport struct {
	Arch    string   `json:"arch"`
	Backend string   `json:"backend"`
	Command []string `json:"command"`
	Inputs  int      `json:"inputs"`
	// ReadyAtMs is when the target was ready (record --ready).
	ReadyAtMs *int64 `json:"readyAtMs,omitempty"`
	// Syscalls are the recorded syscalls, by name.
	Syscalls []RecordedSyscall `json:"syscalls"`
	// Allowed counts the syscalls the profile learned from the
	// recording allows in some case.
	Allowed int `json:"allowed"`
	// DangerousRecorded are the dangerous syscalls the recording holds.
	DangerousRecorded []Dangerous `json:"dangerousRecorded"`
	// Serving is what the serving phase's filter drops from the whole
	// profile; nil for a recording without phases, or whose serving
	// phase cannot be learned (ServingNote says why).
	Serving     *emit.Drops `json:"serving,omitempty"`
	ServingNote string      `json:"servingNote,omitempty"`
}

// RecordedSyscall is one recorded syscall: its calls and evidence.
type RecordedSyscall struct {
	Name  string `json:"name"`
	Count uint64 `json:"count"`
	recording.Evidence
	// Dangerous says why it is dangerous; empty when it is not.
	Dangerous string `json:"dangerous,omitempty"`
}

// FileWith is File with opts: it also reads recordings.
func FileWith(path string, opts Options) (*Report, error) {
	data, err := fileio.ReadFile(path, 0, os.Stdin)
	if err != nil {
		return nil, fmt.Errorf("explain: %w", err)
	}
	var r *Report
	if isRecording(data) {
		r, err = explainRecording(data, opts)
	} else {
		r, err = Explain(data)
	}
	if err != nil {
		return nil, fmt.Errorf("explain %s: %w", path, err)
	}
	r.File = path
	return r, nil
}

// isRecording reports whether data is a JSON object with a recording's
// "version" and "syscalls" and no profile's "defaultAction".
func isRecording(data []byte) bool {
	var head map[string]json.RawMessage
	if json.Unmarshal(data, &head) != nil {
		return false
	}
	_, version := head["version"]
	_, syscalls := head["syscalls"]
	_, def := head["defaultAction"]
	return version && syscalls && !def
}

// explainRecording explains the recording in data.
func explainRecording(data []byte, opts Options) (*Report, error) {
	rec, err := recording.Parse(data)
	if err != nil {
		return nil, err
	}
	learnFn := opts.Learn
	if learnFn == nil {
		learnFn = defaultLearn
	}
	l, err := learnFn(rec)
	if err != nil {
		return nil, err
	}
	rr := ExplainRecording(rec, l.Full, l.Serving)
	rr.ServingNote = l.ServingNote
	return &Report{Kind: KindRecording, Recording: rr}, nil
}

// defaultLearn is Options.Learn's default.
func defaultLearn(r *recording.Recording) (Learned, error) {
	full, err := learn.FromRecording(r, learn.Options{})
	if err != nil {
		return Learned{}, err
	}
	l := Learned{Full: full}
	if !r.HasPhases() || !hasCalls(r, recording.PhaseServing) {
		return l, nil
	}
	ph, err := r.Phase(recording.PhaseServing)
	if err == nil {
		l.Serving, err = learn.FromRecording(ph, learn.Options{})
	}
	if err != nil {
		l.Serving, l.ServingNote = nil, fmt.Sprintf("the serving phase cannot be learned: %v", err)
	}
	return l, nil
}

// hasCalls reports whether r counted calls in the named phase.
func hasCalls(r *recording.Recording, phase string) bool {
	for i := range r.Syscalls {
		if r.Syscalls[i].Phases[phase] > 0 {
			return true
		}
	}
	return false
}

// ExplainRecording judges rec: full is the profile learned from it and
// serving the serving phase's (nil without one).
func ExplainRecording(rec *recording.Recording, full, serving *learn.Profile) *RecordingReport {
	rr := &RecordingReport{
		Arch: rec.Arch, Backend: string(rec.Backend), Command: rec.Command, Inputs: rec.Inputs,
		ReadyAtMs: rec.ReadyAtMs, Syscalls: []RecordedSyscall{}, Allowed: len(full.Allowed()),
		DangerousRecorded: []Dangerous{},
	}
	for _, s := range rec.Syscalls {
		why := DangerousWhy(s.Name)
		rr.Syscalls = append(rr.Syscalls, RecordedSyscall{Name: s.Name, Count: s.Count, Evidence: s.Evidence, Dangerous: why})
		if why != "" {
			rr.DangerousRecorded = append(rr.DangerousRecorded, Dangerous{Name: s.Name, Why: why})
		}
	}
	if serving != nil {
		d := emit.ServingDrops(full, serving, DangerousWhy)
		rr.Serving = &d
	}
	return rr
}

// writeRecordingText writes the text view of a recording's report.
func writeRecordingText(w io.Writer, file string, r *RecordingReport) error {
	var b strings.Builder
	fmt.Fprintf(&b, "%s: recording of %s (%s backend, %d run(s), %s)\n", file, orNone(strings.Join(r.Command, " ")), r.Backend, r.Inputs, r.Arch)
	if r.ReadyAtMs != nil {
		fmt.Fprintf(&b, "ready at:         %dms (calls before are start-up, after serving)\n", *r.ReadyAtMs)
	}
	fmt.Fprintf(&b, "profile learned:  %d syscalls allowed\n", r.Allowed)
	fmt.Fprintf(&b, "recorded (%d):\n", len(r.Syscalls))
	tw := tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "  SYSCALL\tCALLS\tFIRST\tPHASES\tEXES\tDANGEROUS")
	for _, s := range r.Syscalls {
		e := emit.EvidenceText(s.Evidence)
		dangerous := "-"
		if s.Dangerous != "" {
			dangerous = "yes"
		}
		fmt.Fprintf(tw, "  %s\t%d\t%s\t%s\t%s\t%s\n", s.Name, s.Count, e.First, e.Phases, e.Exes, dangerous)
	}
	tw.Flush()
	if r.Serving != nil {
		fmt.Fprintf(&b, "serving: %s\n", r.Serving.Text())
		writeWhy(&b, "dangerous dropped while serving", r.Serving.Dangerous)
	} else if r.ServingNote != "" {
		fmt.Fprintf(&b, "serving: %s\n", r.ServingNote)
	} else {
		b.WriteString("serving: no phases (record with --ready to learn the serving phase's filter)\n")
	}
	fmt.Fprintf(&b, "dangerous recorded (%d):\n", len(r.DangerousRecorded))
	tw = tabwriter.NewWriter(&b, 0, 4, 2, ' ', 0)
	for _, d := range r.DangerousRecorded {
		fmt.Fprintf(tw, "  %s\t%s\n", d.Name, d.Why)
	}
	tw.Flush()
	_, err := io.WriteString(w, b.String())
	return err
}

// writeWhy writes a titled list of syscalls with why, nothing when empty.
func writeWhy(b *strings.Builder, title string, l []emit.NamedWhy) {
	if len(l) == 0 {
		return
	}
	fmt.Fprintf(b, "%s (%d):\n", title, len(l))
	tw := tabwriter.NewWriter(b, 0, 4, 2, ' ', 0)
	for _, d := range l {
		fmt.Fprintf(tw, "  %s\t%s\n", d.Name, d.Why)
	}
	tw.Flush()
}
