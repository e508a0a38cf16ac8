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
	// Call is the call as a person reads it, its captured arguments
	// named (learn.CallText: "socket(AF_NETLINK, SOCK_RAW, ...)"), hex
	// where no name exists; empty without argument values. The text
	// report shows it, JSON keeps Args too.
	Call string `json:"call,omitempty"`
	// Action is what the profile does with the call.
	Action string `json:"action"`
	Count  uint64 `json:"count"`
	// Pid is the denied process, in live mode (the first one, when
	// several processes of the same executable were denied the call),
	// Comm its name and Exe its executable, as the audit record names
	// them. Audit records of seccomp carry no argument values.
	Pid  int    `json:"pid,omitempty"`
	Comm string `json:"comm,omitempty"`
	Exe  string `json:"exe,omitempty"`
}

// Ended is how a process of a live replay (the workload or the driver)
// ended.
type Ended struct {
	// Ran is false for a driver that was not run (the workload was not
	// ready).
	Ran bool `json:"ran"`
	// Status is its exit status, 128+N when signal N ended it; -1 when it
	// did not run.
	Status int `json:"status"`
	// Stopped is set when profgen stopped it (the workload, SIGTERM once
	// the driver was done), Killed when it was still running --grace
	// later, or never got ready, and was killed.
	Stopped bool `json:"stopped,omitempty"`
	Killed  bool `json:"killed,omitempty"`
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
	// Landlock lists the accesses a Landlock ruleset denied (live) or
	// would deny (static).
	Landlock []LandlockViolation `json:"landlock,omitempty"`
	// ExitCode is, in live mode, the driver's exit status when a driver
	// was given, the workload's otherwise.
	ExitCode int `json:"exitCode"`
	// Workload and Driver say how each ended (live mode; Driver only
	// with a driver).
	Workload *Ended `json:"workload,omitempty"`
	Driver   *Ended `json:"driver,omitempty"`
	// Failures name each process of a live replay that did not behave:
	// the workload did not exit with its expected status, was not ready,
	// or the driver failed. A report with failures is never a PASS.
	Failures []string `json:"failures,omitempty"`
	// Lost is, in static mode, how many syscall events the recordings
	// lost: what they missed was not checked, so there is no verdict.
	Lost  uint64   `json:"lost,omitempty"`
	Notes []string `json:"notes,omitempty"`
}

// OK reports whether nothing was denied, by seccomp or Landlock.
func (r *Report) OK() bool { return len(r.Violations) == 0 && len(r.Landlock) == 0 }

// Verdicts of a replay (Report.Verdict).
const (
	Pass      = "PASS"
	Fail      = "FAIL"
	NoVerdict = "NO VERDICT"
)

// Verdict is FAIL when a call was denied; NO VERDICT when nothing was,
// but a process of the replay failed (Failures) or the recordings lost
// events; PASS otherwise.
func (r *Report) Verdict() string {
	switch {
	case !r.OK():
		return Fail
	case len(r.Failures) > 0 || r.Lost > 0:
		return NoVerdict
	}
	return Pass
}

// fail adds a failure.
func (r *Report) fail(format string, args ...any) {
	r.Failures = append(r.Failures, fmt.Sprintf(format, args...))
}

// WriteText writes r for a person: one line per violation and a verdict.
func (r *Report) WriteText(w io.Writer) error {
	for _, n := range r.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	for _, f := range r.Failures {
		fmt.Fprintf(w, "failed: %s\n", f)
	}
	if r.OK() {
		what := "no syscall denied"
		if r.Landlock != nil {
			what = "no syscall and no access denied"
		}
		_, err := fmt.Fprintf(w, "%s: %s replay, %s, %s\n", r.Verdict(), r.Mode, r.scope(), what)
		return err
	}
	r.writeLandlock(w)
	if len(r.Violations) == 0 {
		_, err := fmt.Fprintf(w, "FAIL: %s replay, %s, %d Landlock denials\n", r.Mode, r.scope(), len(r.Landlock))
		return err
	}
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	if r.Mode == ModeLive {
		fmt.Fprintln(tw, "DENIED\tNR\tACTION\tCOUNT\tPID\tCOMM\tEXE")
	} else {
		fmt.Fprintln(tw, "DENIED\tNR\tCALL\tACTION\tCOUNT")
	}
	for _, v := range r.Violations {
		if r.Mode == ModeLive {
			fmt.Fprintf(tw, "%s\t%d\t%s\t%d\t%d\t%s\t%s\n", v.Syscall, v.Number, v.Action, v.Count, v.Pid, orDash(v.Comm), orDash(v.Exe))
			continue
		}
		args := "-"
		switch {
		case v.Call != "":
			args = v.Call
		case v.HasArgs:
			args = fmt.Sprintf("%#x", v.Args)
		}
		fmt.Fprintf(tw, "%s\t%d\t%s\t%s\t%d\n", v.Syscall, v.Number, args, v.Action, v.Count)
	}
	tw.Flush()
	landlockDenials := ""
	if len(r.Landlock) > 0 {
		landlockDenials = fmt.Sprintf(", %d Landlock denials", len(r.Landlock))
	}
	_, err := fmt.Fprintf(w, "FAIL: %s replay, %s, %d syscalls denied%s\n", r.Mode, r.scope(), len(r.Violations), landlockDenials)
	return err
}

// scope says what the verdict covers: the events checked (static), or how
// the workload ended (live: only denied calls are audited, so there is no
// count of the allowed ones).
func (r *Report) scope() string {
	if r.Mode == ModeLive {
		s := fmt.Sprintf("workload exit status %d", r.ExitCode)
		if r.Workload != nil {
			s = fmt.Sprintf("workload exit status %d", r.Workload.Status)
			if r.Workload.Killed {
				s = "workload killed"
			} else if r.Workload.Stopped {
				s = fmt.Sprintf("workload stopped, exit status %d", r.Workload.Status)
			}
		}
		if d := r.Driver; d != nil {
			if d.Ran {
				s += fmt.Sprintf(", driver exit status %d", d.Status)
			} else {
				s += ", driver not run"
			}
		}
		return s
	}
	if r.Lost > 0 {
		return fmt.Sprintf("%d events checked, %d lost by the recordings", r.Checked, r.Lost)
	}
	return fmt.Sprintf("%d events checked", r.Checked)
}

func orDash(s string) string {
	if s == "" {
		return "-"
	}
	return s
}

// actionName is the name reports use for an action.
func actionName(a learn.Action) string { return a.String() }
