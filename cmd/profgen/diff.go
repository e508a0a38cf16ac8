package main

import (
	"encoding/json"
	"fmt"
	"io"
	"slices"
	"strings"
	"text/tabwriter"

	"github.com/spf13/cobra"

	"github.com/profgen/profgen/internal/exitcode"
	"github.com/profgen/profgen/learn"
	"github.com/profgen/profgen/readers"
	"github.com/profgen/profgen/recording"
)

type diffParams struct {
	json bool
	// requireSaturated fails diff (exitcode.NotSaturated) when NEW is a
	// recording that had not saturated, or does not tell.
	requireSaturated bool
	// reachable compares what OLD's and NEW's executables can reach
	// (--reachable; diff_reachable.go).
	reachable bool
}

func newDiffCmd() *cobra.Command {
	var p diffParams
	cmd := &cobra.Command{
		Use:   "diff [flags] OLD NEW",
		Short: "Show what changed between two recordings or profiles, and fail on drift",
		Long: `diff compares OLD and NEW, each a profgen recording or an OCI seccomp profile
(told apart by their content), and lists the syscalls added and removed and
the argument values (for two recordings) or rules (otherwise) that changed.

It then checks what NEW needs against what OLD allows: every call shape a NEW
recording saw, or every syscall and rule a NEW profile allows, is evaluated in
OLD's profile (learned from OLD with no runtime's syscalls when OLD is a
recording). Anything OLD would deny is drift: the release candidate needs a
syscall or an argument value the committed profile does not allow.

A recording that lost events (its "lost" is not 0) or a profile marked as
learned from one (emit --allow-incomplete) is reported: without drift, such
a NEW gives no verdict (exit 3), since what it lost may be drift.

When NEW is a recording with a discovery timeline (format version 3), diff
says how its learning went, as record's last line does: whether something
new still appeared in the last tenth of its run (of a merged recording:
whether its last run added something). With --require-saturated a NEW that
had not saturated, or does not tell (an older recording, a profile), fails
with exit 4: a pipeline can refuse a candidate whose recording stopped
while the program still showed new behaviour.

With --reachable, OLD and NEW may also be executables (EXE), and the
executables each side names (a recording's "exes", as profgen reachable
analyses them, cached; or the EXE itself) are analysed: diff lists the
syscalls NEW's code can reach that OLD's could not (dangerous ones named,
and whether NEW's recording made them) and those it no longer reaches.
What the code can reach does not change the exit status: it is an upper
bound, not what NEW needs (gate on "reachable.added" in --json if wanted).
When a side is an executable there is no drift check. A side with nothing
to analyse (a profile, a recording that names no executable, no ELF) or
two sides naming the same files is an error (exit 2).

Exit status:
  0  no drift (removals alone are not drift)
  1  drift: NEW needs something OLD does not allow
  2  error: unreadable or invalid input, different architectures
  3  no drift found, but NEW lost events (or is a profile marked incomplete): no verdict
  4  no drift found and nothing lost, but with --require-saturated NEW had not saturated`,
		Example: `  profgen diff seccomp.json rc-recording.json
  profgen diff --json old-recording.json new-recording.json
  profgen diff old-seccomp.json new-seccomp.json || echo "profile drift"
  profgen diff --require-saturated seccomp.json rc-recording.json
  profgen diff --reachable old-recording.json new-recording.json
  profgen diff --reachable old/redis-server new/redis-server`,
		Args: func(cmd *cobra.Command, args []string) error {
			if len(args) != 2 {
				return fmt.Errorf("diff needs OLD and NEW, got %d argument(s)", len(args))
			}
			return nil
		},
		RunE: func(cmd *cobra.Command, args []string) error {
			return runDiff(cmd.OutOrStdout(), &p, args[0], args[1])
		},
	}
	cmd.Flags().BoolVar(&p.json, "json", false, "print the differences as JSON")
	cmd.Flags().BoolVar(&p.reachable, "reachable", false, "also compare what OLD's and NEW's executables (recordings' or EXE files) can reach: the syscalls NEW's code reaches that OLD's could not, and those it no longer reaches")
	cmd.Flags().BoolVar(&p.requireSaturated, "require-saturated", false, "exit 4 when NEW is a recording that had not saturated (something new in the last tenth of its run), or does not say")
	return cmd
}

// diffReport is diff's JSON output.
type diffReport struct {
	Old     string `json:"old"`
	New     string `json:"new"`
	Drifted bool   `json:"drifted"`
	// Incomplete says what recordings among the inputs lost.
	Incomplete []string `json:"incomplete,omitempty"`
	// Saturation is how learning went in NEW, a recording with a
	// discovery timeline; nil otherwise.
	Saturation *recording.Saturation `json:"saturation,omitempty"`
	// Reachable compares what OLD's and NEW's executables can reach
	// (--reachable); nil otherwise.
	Reachable *reachDiff `json:"reachable,omitempty"`
	// NoDriftCheck says why OLD and NEW were not checked for drift (a side
	// is an executable); empty when they were.
	NoDriftCheck string `json:"noDriftCheck,omitempty"`
	*learn.Difference
}

func runDiff(stdout io.Writer, p *diffParams, oldPath, newPath string) error {
	if err := oneStdin([]string{oldPath, newPath}); err != nil {
		return err
	}
	old, err := readDiffInput(oldPath, p.reachable)
	if err != nil {
		return err
	}
	cur, err := readDiffInput(newPath, p.reachable)
	if err != nil {
		return err
	}
	rep := diffReport{Old: old.kind + " " + oldPath, New: cur.kind + " " + newPath}
	d := &learn.Difference{}
	if old.exe || cur.exe {
		rep.NoDriftCheck = "OLD or NEW is an executable: only what their code can reach is compared"
	} else {
		d, err = learn.Diff(learn.DiffInput{Recording: old.rec, Profile: old.prof}, learn.DiffInput{Recording: cur.rec, Profile: cur.prof})
		if err != nil {
			return err
		}
		rep.Drifted, rep.Difference = d.Drifted(), d
	}
	if p.reachable {
		if rep.Reachable, err = diffReachable(old, cur, oldPath, newPath); err != nil {
			return err
		}
	}
	newLost := false
	for _, in := range []struct {
		name string
		in   input
	}{{"OLD", old.input}, {"NEW", cur.input}} {
		var loss string
		switch {
		case in.in.rec != nil && in.in.rec.Lost > 0:
			loss = lossText(in.in.rec)
		case in.in.prof != nil && in.in.prof.Incomplete:
			loss = "the profile is marked incomplete (" + readers.IncompleteField + "): learned from recordings that lost events"
		}
		if loss != "" {
			rep.Incomplete = append(rep.Incomplete, in.name+": "+loss)
			newLost = newLost || in.name == "NEW"
		}
	}
	var unsaturated error
	if cur.rec != nil {
		if sat := cur.rec.Saturation(); sat.Known {
			rep.Saturation = &sat
		}
	}
	switch sat := rep.Saturation; {
	case !p.requireSaturated:
	case cur.rec == nil:
		unsaturated = fmt.Errorf("--require-saturated: NEW (%s) is %s: only a recording says whether learning had saturated", newPath, article(cur.kind))
	case sat == nil:
		unsaturated = fmt.Errorf("--require-saturated: NEW (%s) has no discovery timeline (firstSeenMs: a recording of format version 3): saturation unknown", newPath)
	case !sat.Saturated:
		unsaturated = fmt.Errorf("--require-saturated: NEW (%s) %s", newPath, sat.Warning())
	}
	if p.json {
		enc := json.NewEncoder(stdout)
		enc.SetIndent("", "  ")
		err = enc.Encode(rep)
	} else {
		err = writeDiffText(stdout, &rep)
	}
	if err != nil {
		return err
	}
	switch {
	case d.Drifted():
		return &exitError{code: exitcode.Found}
	case newLost:
		return &exitError{code: exitcode.NoVerdict}
	case unsaturated != nil:
		return &exitError{code: exitcode.NotSaturated, err: unsaturated}
	}
	return nil
}

func writeDiffText(w io.Writer, r *diffReport) error {
	fmt.Fprintf(w, "--- %s\n+++ %s\n", r.Old, r.New)
	if r.Difference != nil {
		if err := writeDifference(w, r.Difference); err != nil {
			return err
		}
	}
	if r.Reachable != nil {
		if err := writeReachDiff(w, r.Reachable); err != nil {
			return err
		}
	}
	for _, in := range r.Incomplete {
		fmt.Fprintf(w, "incomplete: %s\n", in)
	}
	if r.Saturation != nil {
		fmt.Fprintf(w, "saturation of NEW: %s\n", r.Saturation)
	}
	if r.NoDriftCheck != "" {
		_, err := fmt.Fprintf(w, "NO DRIFT CHECK: %s\n", r.NoDriftCheck)
		return err
	}
	if !r.Drifted {
		verdict := "OK: NEW needs nothing OLD does not allow"
		if slices.ContainsFunc(r.Incomplete, func(s string) bool { return strings.HasPrefix(s, "NEW:") }) {
			verdict = "NO VERDICT: nothing OLD denies, but NEW lost events"
		}
		_, err := fmt.Fprintln(w, verdict)
		return err
	}
	fmt.Fprintln(w, "DRIFT: NEW needs what OLD does not allow:")
	for _, d := range r.Drift {
		what := d.Syscall
		if d.Detail != "" {
			what += " (" + d.Detail + ")"
		}
		fmt.Fprintf(w, "  %s: OLD says %s\n", what, d.Old)
	}
	return nil
}

// writeDifference writes the notes and the table of syscalls and
// arguments that changed.
func writeDifference(w io.Writer, d *learn.Difference) error {
	for _, n := range d.Notes {
		fmt.Fprintf(w, "note: %s\n", n)
	}
	if len(d.Syscalls) == 0 {
		fmt.Fprintln(w, "no syscall or argument changes")
	} else {
		tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
		fmt.Fprintln(tw, "SYSCALL\tCHANGE\tARGUMENT\tADDED\tREMOVED")
		for _, s := range d.Syscalls {
			if len(s.Args) == 0 {
				fmt.Fprintf(tw, "%s\t%s\t\t\t\n", s.Name, s.Change)
				continue
			}
			for i, a := range s.Args {
				name, change := s.Name, s.Change
				if i > 0 {
					name, change = "", ""
				}
				arg := a.Name
				if a.Index >= 0 {
					arg = fmt.Sprintf("%s (arg %d)", a.Name, a.Index)
				}
				fmt.Fprintf(tw, "%s\t%s\t%s\t%s\t%s\n", name, change, arg, joinOrDash(a.Added), joinOrDash(a.Removed))
			}
		}
		if err := tw.Flush(); err != nil {
			return err
		}
	}
	return nil
}

func joinOrDash(vs []string) string {
	if len(vs) == 0 {
		return "-"
	}
	return strings.Join(vs, ", ")
}

// article puts "a" or "an" before kind.
func article(kind string) string {
	if strings.IndexAny(kind[:1], "aeiou") == 0 {
		return "an " + kind
	}
	return "a " + kind
}
