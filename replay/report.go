package replay

import (
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/profgen/profgen/learn"
)

// Violation is a syscall the profile denied (or, in static mode, would
// deny).
type Violation struct {
	Syscall string `json:"syscall"`
	Number  int    `json:"number"`
	// Args holds the argument values when they are known (HasArgs).
	Args    [6]uint64 `json:"args"`
	HasArgs bool      `json:"hasArgs"`
	// Action is what the profile does with the call.
	Action string `json:"action"`
	Count  uint64 `json:"count"`
	// Pid is the denied process, in live mode.
	Pid int `json:"pid,omitempty"`
}

// Mode is how a replay ran (Report.Mode).
type Mode string

// Replay modes.
const (
	// ModeStatic ran every recorded event through the compiled filter in
	// a BPF VM.
	ModeStatic Mode = "static"
	// ModeLive reran the workload under the enforced profile.
	ModeLive Mode = "live"
)

// Report is the verdict of one replay.
type Report struct {
	// Mode is how the profile was replayed.
	Mode Mode `json:"mode"`
	// Checked counts the distinct events (static) or syscalls observed
	// (live) that were checked.
	Checked    uint64      `json:"checked"`
	Violations []Violation `json:"violations"`
	// ExitCode is the workload's exit status in live mode.
	ExitCode int `json:"exitCode"`
	// Lost is, in static mode, how many syscall events the recordings
	// lost: what they missed was not checked, so there is no verdict.
	Lost  uint64   `json:"lost,omitempty"`
	Notes []string `json:"notes,omitempty"`
}

// OK reports whether nothing was denied.
func (r *Report) OK() bool { return len(r.Violations) == 0 }

// WriteText writes r for a person: one line per violation and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if r.OK() {
		verdict := "PASS"
		if r.Mode == ModeLive && r.ExitCode != 0 || r.Lost > 0 {
			// nothing denied, but the workload failed, or the
			// recordings lost what might be denied
			verdict = "NO VERDICT"
		}
		_, err := fmt.Fprintf(w, "%s: %s replay, %s, no syscall denied\n", verdict, r.Mode, r.scope())
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "DENIED\tNR\tARGS\tACTION\tCOUNT")
	for _, v := range r.Violations {
		args := "-"
		if v.HasArgs {
			args = fmt.Sprintf("%#x", v.Args)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", v.Syscall, v.Number, args, v.Action, v.Count)
	}
	tw.Flush()
	_, err := fmt.Fprintf(w, "FAIL: %s replay, %s, %d syscalls denied\n", r.Mode, r.scope(), len(r.Violations))
	return err
}

// scope says what the verdict covers: the events checked (static), or how
// the workload ended (live: only denied calls are audited, so there is no
// count of the allowed ones).
func (r *Report) scope() string {
	if r.Mode == ModeLive {
		return fmt.Sprintf("workload exit status %d", r.ExitCode)
	}
	if r.Lost > 0 {
		return fmt.Sprintf("%d events checked, %d lost by the recordings", r.Checked, r.Lost)
	}
	return fmt.Sprintf("%d events checked", r.Checked)
}

// actionName is the name reports use for an action.
func actionName(a learn.Action) string { return a.String() }
